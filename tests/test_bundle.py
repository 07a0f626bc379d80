"""Tests of handlingar.pdf: real sample PDFs bundled, reopened with pypdf and pdftotext."""

from __future__ import annotations

import io
import random
import re
import subprocess
import zipfile
from datetime import date
from pathlib import Path

import pikepdf
import pytest
from conftest import PDF_SAMPLES
from pypdf import PdfReader
from reportlab.lib.pagesizes import A3, A4, landscape, letter
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from generator import stampfont
from generator.bundle import write_bundle
from generator.bundleparts import BundlePart, check_pdf
from generator.errors import BundleError

PASSWORD_PDF = "libreoffice-writer-password.pdf"



def sample(name: str) -> Path:
    """Return the path of a real-world sample PDF."""
    return PDF_SAMPLES / name


def bilaga(pdf: Path, nummer: int, titel: str | None = None) -> BundlePart:
    """Return a bilaga part the way the pipeline builds one."""
    titel = titel or pdf.stem
    return BundlePart(
        pdf=pdf,
        bookmark=f"Bilaga {nummer} – {titel}",
        label=f"Bilaga {nummer}:",
        stamp=f"Bilaga {nummer}",
        nummer=nummer,
    )


def beslutsunderlag(pdf: Path | None = None) -> BundlePart:
    """Return the main document part (a sample paper by default): no label prefix, no stamp."""
    return BundlePart(pdf=pdf or sample("002-trivial-libre-office-writer.pdf"), bookmark="Beslutsunderlag",
                      label=None, stamp=None)


def make_pdf(path: Path, pages: list[dict], text: str = "Innehåll") -> Path:
    """Write a PDF with reportlab, one page per dict: size, then /Rotate and /CropBox set with pikepdf."""
    c = canvas.Canvas(str(path), invariant=1)
    for i, spec in enumerate(pages, start=1):
        width, height = spec.get("size", A4)
        c.setPageSize((width, height))
        c.setFont("Helvetica", 12)
        c.drawString(100, height / 2, f"{text} sida {i}")
        c.showPage()
    c.save()
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        for page, spec in zip(pdf.pages, pages, strict=True):
            if "rotate" in spec:
                page.obj.Rotate = spec["rotate"]
            if "cropbox" in spec:
                page.obj.CropBox = pikepdf.Array(spec["cropbox"])
        pdf.save(path)
    return path


def pdftotext(pdf: Path, page: int) -> str:
    """Return the text of one page (1-based) as pdftotext reads it, spaces folded."""
    text = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout
    return re.sub(r"\s+", " ", text)


def page_words(pdf: Path, page: int) -> tuple[float, float, list[tuple[str, float, float, float, float]]]:
    """Return (width, height, words with boxes from the top left) of a page as a viewer shows it.

    ``page`` is 1-based. pdftotext gives word boxes in the rotated (visual) space but the
    unrotated page size, so width and height are swapped for /Rotate 90 and 270.
    """
    html = subprocess.run(
        ["pdftotext", "-bbox", "-cropbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
        check=True, capture_output=True, text=True,
    ).stdout
    width, height = map(float, re.search(r'<page width="([\d.]+)" height="([\d.]+)"', html).groups())
    if PdfReader(pdf).pages[page - 1].rotation % 180 == 90:
        width, height = height, width
    words = [
        (text, float(x0), float(y0), float(x1), float(y1))
        for x0, y0, x1, y1, text in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', html
        )
    ]
    return width, height, words


def untagged_notice(*parts: str) -> str:
    """Return the warning write_bundle gives when these parts keep the bundle untagged."""
    return (
        "handlingar.pdf blir inte taggad (läsbar för skärmläsare), eftersom dessa delar saknar "
        f"taggar: {'; '.join(parts)}. Ska handlingarna publiceras, be om en tillgänglig "
        "(taggad) PDF eller lägg in bilagan i Word-format, som görs om till taggad PDF."
    )


def assert_stamp_top_right(pdf: Path, page: int, stamp: str) -> None:
    """Assert that ``stamp`` appears once, upright, about 1 cm from the top right corner."""
    width, height, words = page_words(pdf, page)
    first = stamp.split()[0]
    assert [w[0] for w in words].count(first) == 1, f"page {page}: stamp not exactly once"
    corner = [w for w in words if w[3] > width - 150 and w[2] < 50]
    assert " ".join(w[0] for w in corner) == stamp, f"page {page}: {corner}"
    x0 = min(w[1] for w in corner)
    y0, x1, y1 = (f(w[i] for w in corner) for f, i in ((min, 2), (max, 3), (max, 4)))
    assert width - 40 < x1 < width - 28, f"page {page}: right edge {x1} of {width}"
    assert 28 < y0 < 40, f"page {page}: top {y0}"
    assert x1 - x0 > 2 * (y1 - y0), f"page {page}: stamp is not horizontal"
    assert y1 - y0 < 14, f"page {page}: stamp larger than about 11 pt"


# --- structure ---------------------------------------------------------------------------


def test_bundle_has_parts_in_order_with_outline_labels_and_info(tmp_path):
    names = ["habibi-rotated.pdf", "pdflatex-outline.pdf", "libreoffice-form.pdf", "annotated_pdf.pdf"]
    parts = [beslutsunderlag()] + [bilaga(sample(n), i) for i, n in enumerate(names, start=1)]
    out = tmp_path / "handlingar.pdf"

    warnings = write_bundle(parts, out, title="Information om handlingsplaner")

    assert warnings == [
        f"Bilaga 3 – libreoffice-form ({sample('libreoffice-form.pdf')}): gjorde om 9 formulärfält till "
        "vanligt sidinnehåll (ifyllda värden syns som förut).",
        untagged_notice("Beslutsunderlag", *[f"Bilaga {i} – {Path(n).stem}" for i, n in enumerate(names, 1)]),
    ]
    reader = PdfReader(out)
    assert len(reader.pages) == 1 + 4 + 4 + 1 + 1
    outline = [(item.title, reader.get_destination_page_number(item)) for item in reader.outline]
    assert outline == [
        ("Beslutsunderlag", 0),
        ("Bilaga 1 – habibi-rotated", 1),
        ("Bilaga 2 – pdflatex-outline", 5),
        ("Bilaga 3 – libreoffice-form", 9),
        ("Bilaga 4 – annotated_pdf", 10),
    ]
    assert reader.page_labels == (
        ["1"] + [f"Bilaga 1:{i}" for i in range(1, 5)] + [f"Bilaga 2:{i}" for i in range(1, 5)]
        + ["Bilaga 3:1", "Bilaga 4:1"]
    )
    assert reader.metadata.title == "Information om handlingsplaner"
    assert reader.trailer["/Root"]["/Lang"] == "sv-SE"
    assert reader.page_mode == "/UseOutlines"
    assert not reader.is_encrypted


def test_form_fields_are_flattened_and_annotations_come_along(tmp_path):
    out = tmp_path / "handlingar.pdf"
    parts = [beslutsunderlag(), bilaga(sample("libreoffice-form.pdf"), 1), bilaga(sample("annotated_pdf.pdf"), 2)]
    write_bundle(parts, out, title="T")
    reader = PdfReader(out)
    assert reader.get_fields() is None and "/AcroForm" not in reader.trailer["/Root"]
    assert "First Name Alice" in pdftotext(out, 2)  # the filled-in value, now page content
    subtypes = {a.get_object()["/Subtype"] for a in reader.pages[2].get("/Annots", [])}
    original = PdfReader(sample("annotated_pdf.pdf")).pages[0]["/Annots"]
    assert subtypes == {a.get_object()["/Subtype"] for a in original}


def test_links_point_into_their_own_bilaga(tmp_path):
    """Two pdflatex bilagor both name "section.1": each one's links must stay in it."""
    out = tmp_path / "handlingar.pdf"
    pdf = sample("pdflatex-outline.pdf")
    write_bundle([beslutsunderlag(), bilaga(pdf, 1), bilaga(pdf, 2)], out, title="T")

    reader = PdfReader(out)

    def link_targets(page: int) -> list[int]:
        targets = []
        for annot in reader.pages[page]["/Annots"]:
            dest = annot.get_object()["/A"]["/D"]
            dest = reader.named_destinations[dest].page if isinstance(dest, str) else dest[0]
            targets.append(reader.get_page_number(dest.get_object()))
        return targets

    assert sorted(set(link_targets(1))) == [2, 3, 4]
    assert sorted(set(link_targets(5))) == [6, 7, 8]


def test_bundle_makes_no_pdfa_claim_from_first_part(tmp_path):
    pdfa = sample("crazyones-pdfa.pdf")
    assert b"pdfaid" in PdfReader(pdfa).xmp_metadata.stream.get_data()
    out = tmp_path / "handlingar.pdf"

    write_bundle([beslutsunderlag(pdfa), bilaga(sample("minimal-document.pdf"), 1)], out, title="T")

    root = PdfReader(out).trailer["/Root"]
    assert "/OutputIntents" not in root
    assert b"pdfaid" not in out.read_bytes()
    with pikepdf.open(out) as pdf:  # XMP only for the title (and PDF/UA when it passes)
        assert pdf.open_metadata()["dc:title"] == "T"


def test_same_input_gives_identical_bundle(tmp_path):
    parts = [beslutsunderlag(), bilaga(sample("habibi-rotated.pdf"), 1)]
    write_bundle(parts, tmp_path / "a.pdf", title="T")
    write_bundle(parts, tmp_path / "b.pdf", title="T")
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()
    with pikepdf.open(tmp_path / "a.pdf") as pdf, pikepdf.open(parts[0].pdf) as paper:
        assert len(pdf.trailer.ID) == 2  # computed from the content: not random, not missing
        assert pdf.docinfo.CreationDate == pdf.docinfo.ModDate == paper.docinfo.CreationDate  # dated like the paper

    write_bundle(parts, tmp_path / "c.pdf", title="T", when=date(2023, 10, 2))
    with pikepdf.open(tmp_path / "c.pdf") as pdf:
        assert str(pdf.docinfo.CreationDate) == "D:20231002000000+00'00'"


# --- stamp -------------------------------------------------------------------------------


def test_stamp_sits_at_visual_top_right_on_every_kind_of_page(tmp_path):
    made = make_pdf(
        tmp_path / "sizes.pdf",
        [
            {"size": landscape(A4)},
            {"size": A3},
            {"size": letter, "rotate": 90},
            {"size": landscape(A4), "rotate": 270},
            {"size": A4, "cropbox": [100, 150, 450, 650]},
            {"size": A4, "cropbox": [100, 150, 450, 650], "rotate": 90},
            {"size": landscape(A4), "cropbox": [100, 150, 450, 650]},  # cropbox beyond the mediabox
        ],
    )
    parts = [
        beslutsunderlag(),
        bilaga(sample("minimal-document.pdf"), 1),  # portrait
        bilaga(sample("habibi-rotated.pdf"), 2),  # /Rotate 90, 180, 270, 360; one shared content stream
        bilaga(made, 3),
    ]
    out = tmp_path / "handlingar.pdf"
    write_bundle(parts, out, title="T")

    assert "Bilaga" not in [w[0] for w in page_words(out, 1)[2]]
    assert_stamp_top_right(out, 2, "Bilaga 1")
    for page in range(3, 7):
        assert_stamp_top_right(out, page, "Bilaga 2")
    for page in range(7, 14):
        assert_stamp_top_right(out, page, "Bilaga 3")
    width, height, _ = page_words(out, 7)
    assert width > height  # the landscape page really is landscape
    with pikepdf.open(out) as pdf:  # every stamp is drawn with one subset of the stamp font
        fonts = {font.objgen for page in pdf.pages for font in page.Resources.Font.values()
                 if "LiberationSans-Bold" in str(font.get("/BaseFont"))}
    assert len(fonts) == 1


def test_missing_stamp_font_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(stampfont, "STAMP_FONT_GLOBS", (str(tmp_path / "none" / "*.ttf"),))
    stampfont.register_stamp_font.cache_clear()
    try:
        with pytest.raises(BundleError, match="fonts-liberation2"):
            write_bundle([bilaga(sample("minimal-document.pdf"), 1)], tmp_path / "h.pdf", title="T")
    finally:
        stampfont.register_stamp_font.cache_clear()
    assert not (tmp_path / "h.pdf").exists()


# --- size --------------------------------------------------------------------------------


def make_shared_font_pdf(path: Path, pages: int, seed: int) -> Path:
    """Write a PDF embedding Liberation Sans and one logo image, like exports from one office."""
    font = sorted(Path("/usr/share/fonts").rglob("LiberationSans-Regular.ttf"))[0]
    pdfmetrics.registerFont(TTFont("LiberationSans", font))
    rng = random.Random(0)
    logo = ImageReader(io.BytesIO(logo_png(rng)))
    words = "handlingsplan styrelse beslut ärende bolag Göteborg budget åtgärd uppföljning".split()
    rng = random.Random(seed)
    c = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    for _ in range(pages):
        c.drawImage(logo, 50, 760, 120, 60)
        c.setFont("LiberationSans", 11)
        for line in range(40):
            c.drawString(60, 720 - 16 * line, " ".join(rng.choice(words) for _ in range(9)))
        c.showPage()
    c.save()
    return path


def logo_png(rng: random.Random) -> bytes:
    """Return a noisy 200x100 PNG (compresses badly, so duplicates show in the size)."""
    from PIL import Image

    image = Image.frombytes("RGB", (200, 100), bytes(rng.randrange(256) for _ in range(200 * 100 * 3)))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_bundle_is_not_much_larger_than_its_parts(tmp_path):
    parts = [beslutsunderlag(make_shared_font_pdf(tmp_path / "main.pdf", 3, seed=0))]
    parts += [bilaga(make_shared_font_pdf(tmp_path / f"b{i}.pdf", 2 + i, seed=i), i) for i in range(1, 6)]
    parts += [bilaga(sample("pdflatex-4-pages.pdf"), 6), bilaga(sample("multicolumn.pdf"), 7)]
    out = tmp_path / "handlingar.pdf"

    write_bundle(parts, out, title="T")

    inputs = sum(part.pdf.stat().st_size for part in parts)
    assert out.stat().st_size <= 1.2 * inputs, (out.stat().st_size, inputs)


# --- bad input ---------------------------------------------------------------------------


def truncated(tmp_path: Path) -> Path:
    data = sample("pdflatex-4-pages.pdf").read_bytes()
    path = tmp_path / "avkortad.pdf"
    path.write_bytes(data[: len(data) * 2 // 3])
    return path


def corrupt_stream(tmp_path: Path) -> Path:
    path = tmp_path / "skadad.pdf"
    with pikepdf.open(sample("pdflatex-4-pages.pdf")) as pdf:
        pdf.pages[1].obj.Contents.write(b"not zlib data at all" * 5, filter=pikepdf.Name.FlateDecode)
        pdf.save(path)
    return path


def random_bytes(tmp_path: Path) -> Path:
    path = tmp_path / "brus.pdf"
    path.write_bytes(random.Random(1).randbytes(5000))
    return path


def docx_renamed(tmp_path: Path) -> Path:
    path = tmp_path / "dokument.pdf"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return path


def empty(tmp_path: Path) -> Path:
    path = tmp_path / "tom.pdf"
    path.write_bytes(b"")
    return path


def fake_header(tmp_path: Path) -> Path:
    path = tmp_path / "nastan.pdf"
    path.write_bytes(b"%PDF-1.7\n" + random.Random(2).randbytes(3000))
    return path


BAD_INPUTS = {
    "missing": (lambda tmp: tmp / "finns-inte.pdf", "finns inte"),
    "directory": (lambda tmp: tmp, "mapp"),
    "empty": (empty, "tom"),
    "docx renamed": (docx_renamed, "Office-dokument"),
    "random bytes": (random_bytes, "inte en PDF"),
    "header then garbage": (fake_header, "skadad"),
    "truncated": (truncated, "skadad eller ofullständig"),
    "corrupt content stream": (corrupt_stream, "sidan 2 är skadad"),
    "user password": (lambda tmp: sample(PASSWORD_PDF), "lösenordsskyddad"),
}


@pytest.mark.parametrize("case", BAD_INPUTS, ids=list(BAD_INPUTS))
def test_bad_input_is_rejected_with_swedish_message(tmp_path, case):
    make, problem = BAD_INPUTS[case]
    pdf = make(tmp_path)
    part = bilaga(pdf, 2, "Budget 2024")

    with pytest.raises(BundleError) as caught:
        check_pdf(part)

    message = str(caught.value)
    assert "Bilaga 2 – Budget 2024" in message
    assert str(pdf) in message
    assert problem in message
    assert re.search(r"(Kontrollera|Ange|Spara|Öppna|Be avsändaren|Hämta)", message)


@pytest.mark.parametrize("case", ["corrupt content stream", "truncated", "user password"])
def test_failed_bundle_leaves_previous_bundle_and_no_temp_file(tmp_path, case):
    out_dir = tmp_path / "out"
    out = out_dir / "handlingar.pdf"
    write_bundle([beslutsunderlag()], out, title="Förra")
    before = out.read_bytes()
    bad = BAD_INPUTS[case][0](tmp_path)

    with pytest.raises(BundleError):
        parts = [beslutsunderlag(), bilaga(sample("minimal-document.pdf"), 1), bilaga(bad, 2)]
        write_bundle(parts, out, title="T")

    assert out.read_bytes() == before
    assert sorted(p.name for p in out_dir.iterdir()) == ["handlingar.pdf"]


def test_failed_first_bundle_leaves_nothing(tmp_path):
    out = tmp_path / "out" / "handlingar.pdf"
    with pytest.raises(BundleError):
        write_bundle([beslutsunderlag(), bilaga(random_bytes(tmp_path), 1)], out, title="T")
    assert not out.exists()


def test_unwritable_target_is_an_environment_problem(tmp_path):
    """The machine, not the bilaga, stopped it: exit 7, said in Swedish."""
    from generator.errors import EnvironmentProblem

    blocker = tmp_path / "out"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(EnvironmentProblem, match="kunde inte skrivas: det finns redan en fil med det namnet"):
        write_bundle([beslutsunderlag()], blocker / "handlingar.pdf", title="T")


def test_no_parts_is_a_bundle_error(tmp_path):
    with pytest.raises(BundleError, match="inga delar"):
        write_bundle([], tmp_path / "handlingar.pdf", title="T")


def test_message_names_the_original_file_of_a_converted_bilaga(tmp_path):
    part = BundlePart(
        pdf=tmp_path / "konverterad.pdf", bookmark="Bilaga 1 – Presentation", label="Bilaga 1:",
        stamp="Bilaga 1", source=tmp_path / "presentation.pptx", nummer=1,
    )
    with pytest.raises(BundleError) as caught:
        check_pdf(part)
    assert str(caught.value).startswith(f"{tmp_path / 'presentation.pptx'}: Bilaga 1 – Presentation")
    assert "konverterad.pdf" in str(caught.value)


# --- accepted with a warning -------------------------------------------------------------


def test_owner_password_only_is_included_with_warning(tmp_path):
    restricted = tmp_path / "begransad.pdf"
    with pikepdf.open(sample("pdflatex-4-pages.pdf")) as pdf:
        pdf.save(restricted, encryption=pikepdf.Encryption(
            owner="agare", user="", allow=pikepdf.Permissions(extract=False, modify_other=False)))
    part = bilaga(restricted, 1, "Avtal")
    out = tmp_path / "handlingar.pdf"

    warnings = write_bundle([beslutsunderlag(), part], out, title="T")

    assert len(warnings) == 2 and warnings[1] == untagged_notice("Beslutsunderlag", "Bilaga 1 – Avtal")
    assert "Bilaga 1 – Avtal" in warnings[0] and str(restricted) in warnings[0]
    assert "behörighetsbegränsningar" in warnings[0]
    reader = PdfReader(out)
    assert not reader.is_encrypted
    assert len(reader.pages) == 5
    assert_stamp_top_right(out, 2, "Bilaga 1")


def test_file_with_only_qpdf_warnings_is_accepted_with_warning(tmp_path):
    path = tmp_path / "smafel.pdf"
    with pikepdf.open(sample("pdflatex-4-pages.pdf")) as pdf:
        pdf.pages[1].obj.Contents.write(b"BT /F1 12 Tf 100 700 Td (unterminated")
        pdf.save(path)

    warnings = check_pdf(bilaga(path, 3, "Protokoll"))

    assert len(warnings) == 1 and "Bilaga 3 – Protokoll" in warnings[0] and "inte gick att rätta helt" in warnings[0]


@pytest.mark.parametrize("name", sorted(p.name for p in PDF_SAMPLES.glob("*.pdf") if p.name != PASSWORD_PDF))
def test_every_real_world_sample_passes_check(name):
    cleaned = {"libreoffice-form.pdf": "gjorde om 9 formulärfält till vanligt sidinnehåll",
               "pdflatex-forms.pdf": "tog bort en formuläråtgärd som skickar eller läser in data; gjorde om 3",
               "with-attachment.pdf": "tog bort en bifogad fil."}
    warnings = check_pdf(bilaga(sample(name), 1))
    assert len(warnings) == (name in cleaned)
    assert all(w.startswith(f"Bilaga 1 – {Path(name).stem} ({sample(name)}): {cleaned[name]}") for w in warnings)


# --- every page A4 -------------------------------------------------------------------------


def test_every_page_is_a4_in_its_own_orientation(tmp_path):
    made = make_pdf(
        tmp_path / "sizes.pdf",
        [
            {"size": letter},
            {"size": landscape(letter)},
            {"size": letter, "rotate": 90},
            {"size": A3},
            {"size": A4, "cropbox": [100, 150, 450, 650]},
        ],
    )
    with pikepdf.open(made, allow_overwriting_input=True) as pdf:  # a link at the letter page's top right
        pdf.pages[0].obj.Annots = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[512, 692, 612, 792], Border=[0, 0, 0],
            A=pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("https://goteborg.se"))))]))
        pdf.save(made)
    parts = [beslutsunderlag(), bilaga(made, 1), bilaga(sample("habibi-rotated.pdf"), 2),
             bilaga(sample("pdflatex-outline.pdf"), 3)]
    out = tmp_path / "handlingar.pdf"
    write_bundle(parts, out, title="T")

    reader = PdfReader(out)
    shown = []
    for page in reader.pages:
        box = page.cropbox
        size = (round(float(box.width)), round(float(box.height)))
        shown.append(size[::-1] if page.rotation % 180 else size)
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == size
    assert set(shown) <= {(595, 842), (842, 595)}
    # orientation kept: letter portrait, letter landscape, letter shown landscape by /Rotate 90
    assert shown[1:4] == [(595, 842), (842, 595), (842, 595)]
    assert_stamp_top_right(out, 2, "Bilaga 1")  # stamped after scaling
    assert_stamp_top_right(out, 4, "Bilaga 1")
    # links move with the content: scaled by 841.89/792 would overflow, so by 595.276/612, centred
    scale = 595.276 / 612
    dy = (841.89 - 792 * scale) / 2
    rect = [float(v) for v in reader.pages[1]["/Annots"][0].get_object()["/Rect"]]
    assert rect == pytest.approx([512 * scale, 692 * scale + dy, 595.276, 792 * scale + dy], abs=0.01)
    for page in reader.pages:
        for annot in page.get("/Annots") or []:
            x0, y0, x1, y1 = (float(v) for v in annot.get_object()["/Rect"])
            assert 0 <= min(x0, x1) and max(x0, x1) <= 595.3 and 0 <= min(y0, y1) and max(y0, y1) <= 841.9


def test_parts_read_ahead_give_the_same_bundle_and_are_used_once(tmp_path):
    """``PartsAhead`` (bilagor read while LibreOffice starts) changes nothing in handlingar.pdf."""
    from generator.bundleparts import PartsAhead

    parts = [beslutsunderlag(), bilaga(sample("habibi-rotated.pdf"), 1), bilaga(sample("libreoffice-form.pdf"), 2),
             bilaga(corrupt_stream(tmp_path), 3)]
    write_bundle(parts[:3], tmp_path / "plain.pdf", title="T")
    ahead = PartsAhead(parts[1:3])
    first = ahead.take(parts[1])
    assert first is not None and len(first.reader.pages) > 0
    assert ahead.take(parts[1]) is None  # handed out once: bundling changes a reader
    ahead = PartsAhead(parts[1:3])
    warnings = write_bundle(parts[:3], tmp_path / "ahead.pdf", title="T", ahead=ahead)
    assert (tmp_path / "ahead.pdf").read_bytes() == (tmp_path / "plain.pdf").read_bytes()
    assert any("formulär" in w or "Formulär" in w for w in warnings)  # the cleaning is still reported
    # A damaged part fails ahead quietly and is reported by the bundle as always.
    with pytest.raises(BundleError, match="Bilaga 3"):
        write_bundle(parts, tmp_path / "skadad.pdf", title="T", ahead=PartsAhead(parts[1:]))
