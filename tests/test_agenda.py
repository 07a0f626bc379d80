"""beslut agenda: a sammanträde's kallelse, sammanträdeshandlingar and their public version.

A small meeting in tmp_path (two ärenden of Förskolenämnden, one utelämnad, procedural
points) is built once with the real LibreOffice; the tests read the output as a reader
would (pdftotext, the outline, page labels, the validator) and compare it with the YAML.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pikepdf
import pytest
import yaml
from click.testing import CliRunner
from conftest import ORGANISATIONER, REPO, VALID_ARENDE
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from generator.agenda import build_agenda, validate_agenda
from generator.cli import main
from generator.conformance import validate_pdf
from generator.errors import ContentError, ReviewError

GROUND = "OSL 19 kap. 3 §"


def write_pdf(path: Path, pages: list[str]) -> Path:
    """Write a plain PDF with one line of text per page (a bilaga from outside)."""
    c = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    for text in pages:
        c.drawString(72, 700, text)
        c.showPage()
    c.save()
    return path


def write_arende(folder: Path, **changes) -> Path:
    folder.mkdir(parents=True)
    data = {**VALID_ARENDE, "organisation": "forskolenamnden", **changes}
    (folder / "arende.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return folder


def make_content(root: Path, *, bilaga_pages: list[str], punkter: list | None = None, **meeting) -> Path:
    """Write a content folder: registry, two ärenden, a meeting; return the meeting's folder."""
    content = root / "content"
    content.mkdir(parents=True)
    shutil.copy(ORGANISATIONER, content / "organisationer.yaml")
    shutil.copytree(REPO / "content" / "arenden" / "2023-10-lokalvard", content / "arenden" / "2023-10-lokalvard")
    plan = write_arende(content / "arenden" / "2023-09-plan", rubrik="Plan för utemiljöer",
                        diarienummer="FSN 2023-00777", utfärdat="2023-09-20",
                        bilagor=[{"titel": "Kartor över gårdarna", "fil": "kartor.pdf"}],
                        **{"förslag_till_beslut": ["Förskolenämnden antar planen."]})
    write_pdf(plan / "kartor.pdf", bilaga_pages)
    data = {
        "organisation": "forskolenamnden", "datum": "2023-10-24", "tid": "16.00–18.00",
        "plats": "Gårdavägen 2, rum Kajutan", "ordförande": "Eva Exempel (S)", "sekreterare": "Per Exempel",
        "kallelsedatum": "2023-10-17", "ledamöter": ["Eva Exempel (S), ordförande", "Olof Exempel (M)"],
        "ersättare": ["Jonas Exempel (S)"],
        "punkter": punkter or [
            {"punkt": "Mötets öppnande"},
            {"punkt": "Val av justerare", "text": "Olof Exempel föreslås justera."},
            {"ärende": "2023-09-plan", "föredragande": "Anna Exempel, planerare"},
            {"ärende": "2023-10-lokalvard", "föredragande": "Karin Exempel, upphandlare", "utelämnad": GROUND},
            {"punkt": "Övriga frågor"},
        ],
        **meeting,
    }
    folder = content / "sammantraden" / "2023-10-test"
    folder.mkdir(parents=True)
    (folder / "sammantrade.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                                             encoding="utf-8")
    return folder


def pdf_text(path: Path, first: int | None = None, last: int | None = None) -> str:
    args = ["pdftotext", "-layout"] + (["-f", str(first), "-l", str(last)] if first else []) + [str(path), "-"]
    return subprocess.run(args, capture_output=True, check=True, text=True).stdout


@pytest.fixture(scope="module")
def built(tmp_path_factory, converter):
    """The test meeting built once: (meeting folder, registry, out folder, result)."""
    root = tmp_path_factory.mktemp("agenda")
    folder = make_content(root, bilaga_pages=["Karta 1: gården vid Ekbacken", "Karta 2: gården vid Björken"])
    registry = root / "content" / "organisationer.yaml"
    out = root / "out"
    result = build_agenda(folder, registry, out, converter_factory=lambda: _Keep(converter))
    return folder, registry, out, result


class _Keep:
    """Lend the module's converter to a build without closing it."""

    def __init__(self, converter):
        self.converter = converter

    def __enter__(self):
        return self.converter

    def __exit__(self, *exc):
        return None


def meeting_out(out: Path) -> Path:
    return out / "sammantraden" / "2023-10-test"


def test_kallelse_lists_the_points_in_the_order_of_the_yaml(built):
    folder, _, out, _ = built
    data = yaml.safe_load((folder / "sammantrade.yaml").read_text(encoding="utf-8"))
    text = " ".join(pdf_text(meeting_out(out) / "kallelse.pdf").split())
    assert "Kallelse till sammanträde" in text
    for value in ("2023-10-24", "16.00–18.00", "Gårdavägen 2, rum Kajutan", "Eva Exempel (S)", "Per Exempel",
                  "Olof Exempel (M)", "Jonas Exempel (S)"):
        assert value in text
    expected = ["1. Mötets öppnande", "2. Val av justerare", "3. Plan för utemiljöer",
                "4. Tilldelningsbeslut i upphandling av lokalvård i förskolor", "5. Övriga frågor"]
    assert len(expected) == len(data["punkter"])
    positions = [text.index(heading) for heading in expected]
    assert positions == sorted(positions)
    point3 = text[positions[2]:positions[3]]
    assert "Diarienummer FSN 2023-00777" in point3 and "Föredragande: Anna Exempel, planerare" in point3
    assert "utelämnade" not in point3
    point4 = text[positions[3]:positions[4]]
    assert "Diarienummer FSN 2023-01234" in point4
    assert f"Handlingar bifogas inte (utelämnade enligt {GROUND})." in point4
    assert "Olof Exempel föreslås justera." in text[positions[1]:positions[2]]
    assert not (out / ".beslut-arbete").exists()  # the run's staging folder is gone


def test_kallelse_passes_the_validator_as_pdfa_2a_and_pdfua_1(built):
    _, _, out, _ = built
    kallelse = meeting_out(out) / "kallelse.pdf"
    assert validate_pdf(kallelse, "2a") == []
    assert validate_pdf(kallelse, "ua1") == []
    with pikepdf.open(kallelse) as pdf:
        xmp = str(pdf.Root.Metadata.read_bytes())
    assert "pdfuaid" in xmp and "pdfaid" in xmp


def outline(pdf: pikepdf.Pdf) -> list:
    numbers = {page.objgen: n for n, page in enumerate(pdf.pages)}

    def walk(items):
        return [(item.title, numbers[item.destination[0].objgen], walk(item.children)) for item in items]

    with pdf.open_outline() as tree:
        return walk(tree.root)


def labels(pdf: pikepdf.Pdf) -> list[str]:
    nums = list(pdf.Root.PageLabels.Nums)
    starts = [(int(nums[i]), str(nums[i + 1].P)) for i in range(0, len(nums), 2)]
    result = []
    for n in range(len(pdf.pages)):
        start, prefix = [s for s in starts if s[0] <= n][-1]
        result.append(f"{prefix}{n - start + 1}")
    return result


def test_handlingar_bookmarks_nest_point_paper_and_bilaga_with_page_labels(built):
    _, _, out, _ = built
    with pikepdf.open(meeting_out(out) / "sammantradeshandlingar.pdf") as pdf:
        tree = outline(pdf)
        page_labels = labels(pdf)
        pages = len(pdf.pages)
        toc_links = [annot.A.D[0].objgen for annot in pdf.pages[2].obj.get("/Annots", [])
                     if "/A" in annot and annot.A.get("/S") == "/GoTo"]
        first_pages = {title: page for title, page, _ in tree}
        page_numbers = {page.objgen: n for n, page in enumerate(pdf.pages)}
        assert "/StructTreeRoot" not in pdf.Root  # the bilaga from reportlab has no tags
    assert any("blir inte taggad" in w and "3. Plan för utemiljöer" in w for w in built[3].warnings)
    titles = [title for title, _, _ in tree]
    assert titles == ["Kallelse och föredragningslista", "Innehåll", "3. Plan för utemiljöer",
                      "4. Tilldelningsbeslut i upphandling av lokalvård i förskolor"]
    plan = tree[2]
    assert [child[0] for child in plan[2]] == ["Tjänsteutlåtande", "Bilaga 1 – Kartor över gårdarna"]
    lokalvard = tree[3]
    assert [child[0] for child in lokalvard[2]] == ["Tjänsteutlåtande", "Bilaga 1 – Sammanställning av anbud"]
    # every bookmark points at the page its label names
    assert page_labels[0] == "Kallelse:1" and page_labels[first_pages["Innehåll"]] == "Innehåll:1"
    assert page_labels[plan[1]] == "Punkt 3:1"
    assert page_labels[plan[2][1][1]] == "Punkt 3 Bilaga 1:1"
    assert page_labels[plan[2][1][1] + 1] == "Punkt 3 Bilaga 1:2"
    assert page_labels[lokalvard[1]] == "Punkt 4:1"
    assert page_labels[lokalvard[2][1][1]] == "Punkt 4 Bilaga 1:1"
    assert page_labels[-1].startswith("Punkt 4 Bilaga 1:") and len(page_labels) == pages
    # the innehållsförteckning links to each point's first page and prints that page
    assert sorted(page_numbers[link] for link in toc_links) == [plan[1], lokalvard[1]]
    toc = " ".join(pdf_text(meeting_out(out) / "sammantradeshandlingar.pdf", 3, 3).split())
    assert f"3 Plan för utemiljöer {plan[1] + 1}" in toc


def test_every_page_is_stamped_with_its_point_and_page(built):
    _, _, out, _ = built
    path = meeting_out(out) / "sammantradeshandlingar.pdf"
    with pikepdf.open(path) as pdf:
        tree = outline(pdf)
        pages = len(pdf.pages)
    plan_first, bilaga_first = tree[2][1], tree[2][2][1][1]
    plan_pages = tree[3][1] - plan_first
    page = pdf_text(path, bilaga_first + 1, bilaga_first + 1)
    assert f"Punkt 3 · sida {bilaga_first - plan_first + 1} av {plan_pages}" in page
    assert "Bilaga 1" in page
    assert "Kallelse · sida 1 av" in pdf_text(path, 1, 1)
    assert f"Punkt 4 · sida {pages - tree[3][1]} av {pages - tree[3][1]}" in pdf_text(path, pages, pages)


def test_public_version_replaces_the_utelamnad_point_with_its_ground(built):
    _, _, out, _ = built
    full = meeting_out(out) / "sammantradeshandlingar.pdf"
    public = meeting_out(out) / "sammantradeshandlingar-offentlig.pdf"
    assert "Sammanställning av anbud" in pdf_text(full)
    text = pdf_text(public)
    assert "Sammanställning av anbud" not in text and "Leverantör B" not in text
    assert "Förvaltningens bedömning" in pdf_text(full) and text.count("Förvaltningens bedömning") == 1
    with pikepdf.open(public) as pdf:
        tree = outline(pdf)
        notice_first = tree[3][1]
        assert len(pdf.pages) == notice_first + 1  # one page for the utelämnad point
    notice = " ".join(pdf_text(public, notice_first + 1, notice_first + 1).split())
    assert f"utelämnade i den offentliga versionen av sammanträdeshandlingarna enligt {GROUND}" in notice
    assert tree[3][0].endswith("(handlingar utelämnade)") and tree[3][2] == []


def test_a_personnummer_in_a_bilaga_stops_the_public_version_naming_the_page(tmp_path, converter):
    folder = make_content(tmp_path, bilaga_pages=["Karta 1", "Ägare: Sven Exempel, 19121212-1212"])
    out = tmp_path / "out"
    with pytest.raises(ReviewError) as caught:
        build_agenda(folder, tmp_path / "content" / "organisationer.yaml", out,
                     converter_factory=lambda: _Keep(converter))
    message = caught.value.format()
    assert "personnummer 19121212-XXXX" in message and "1212-1212" not in message
    assert "Punkt 3, Bilaga 1, sida" in message
    # the page named is the page of the public version where the number stands
    page = int(message.split("  sida ")[1].split(" ")[0])
    assert not meeting_out(out).exists()  # nothing written for the meeting
    assert caught.value.exit_code == 8
    assert page > 3


def test_a_personnummer_in_an_utelamnad_point_does_not_stop_it(tmp_path, converter):
    folder = make_content(tmp_path, bilaga_pages=["Ägare: Sven Exempel, 19121212-1212"], punkter=[
        {"punkt": "Mötets öppnande"},
        {"ärende": "2023-09-plan", "föredragande": "Anna Exempel", "utelämnad": "OSL 21 kap. 1 §"},
    ])
    out = tmp_path / "out"
    result = build_agenda(folder, tmp_path / "content" / "organisationer.yaml", out,
                          converter_factory=lambda: _Keep(converter))
    assert "19121212-1212" in pdf_text(meeting_out(out) / "sammantradeshandlingar.pdf")
    assert "1212-1212" not in pdf_text(meeting_out(out) / "sammantradeshandlingar-offentlig.pdf")
    # kallelse, innehåll and the notice are all tagged: the public version is one tagged document
    public = meeting_out(out) / "sammantradeshandlingar-offentlig.pdf"
    assert result.pdfua["sammantradeshandlingar-offentlig.pdf"] is True
    assert validate_pdf(public, "ua1") == []
    with pikepdf.open(public) as pdf:
        parts = [str(kid.T) for kid in pdf.Root.StructTreeRoot.K[0].K]
    assert parts == ["Kallelse och föredragningslista", "Innehåll", "2. Plan för utemiljöer (handlingar utelämnade)"]


def test_unchanged_arenden_are_reused_and_a_changed_one_is_built(built, converter):
    folder, registry, out, first = built
    assert sorted(first.built) == ["2023-09-plan", "2023-10-lokalvard"]
    again = build_agenda(folder, registry, out, converter_factory=lambda: _Keep(converter))
    assert sorted(again.reused) == ["2023-09-plan", "2023-10-lokalvard"] and again.built == []
    bilaga = registry.parent / "arenden" / "2023-09-plan" / "kartor.pdf"
    write_pdf(bilaga, ["Karta 1: ny version", "Karta 2"])
    third = build_agenda(folder, registry, out, converter_factory=lambda: _Keep(converter))
    assert third.built == ["2023-09-plan"] and third.reused == ["2023-10-lokalvard"]
    assert "ny version" in pdf_text(meeting_out(out) / "sammantradeshandlingar.pdf")


# --- checks before anything is written (no LibreOffice) ------------------------------------


def check(tmp_path: Path, **meeting) -> ContentError:
    folder = make_content(tmp_path, bilaga_pages=["Karta"], **meeting)
    with pytest.raises(ContentError) as caught:
        validate_agenda(folder, tmp_path / "content" / "organisationer.yaml")
    return caught.value


def test_kallelse_too_late_names_the_last_day(tmp_path):
    error = check(tmp_path, kallelsedatum="2023-10-21")
    assert "senast 2023-10-19" in error.format() and "kallelsedatum" in error.format()
    lines = (tmp_path / "content" / "sammantraden" / "2023-10-test" / "sammantrade.yaml").read_text(
        encoding="utf-8").splitlines()
    assert lines[error.located()[0].line - 1].startswith("kallelsedatum:")


def test_unknown_arende_and_wrong_organisation_and_gaps(tmp_path):
    error = check(tmp_path, punkter=[
        {"punkt": "Mötets öppnande", "nummer": "1"},
        {"ärende": "finns-inte", "föredragande": "A"},
        {"ärende": "2023-10-lokalvard", "föredragande": "B", "nummer": "4"},
    ])
    assert "ärendet 'finns-inte' finns inte" in error.format()
    # the numbering is checked when every ärende loads; a wrong organisation in its own run:
    error = check(tmp_path / "b", punkter=[
        {"punkt": "Mötets öppnande", "nummer": "1"},
        {"ärende": "2023-10-lokalvard", "föredragande": "B", "nummer": "3"},
    ])
    assert "punkten har nummer 3 men är punkt 2" in error.format()


def test_arende_of_another_organisation_is_refused(tmp_path):
    error = check(tmp_path, organisation="gota-lejon")
    assert "gäller inte Försäkrings AB Göta Lejon" in error.format()


def test_duplicate_diarienummer_and_late_utfardat(tmp_path):
    folder = make_content(tmp_path, bilaga_pages=["Karta"], datum="2023-10-01", kallelsedatum="2023-09-20")
    arende = folder.parents[1] / "arenden" / "2023-09-plan" / "arende.yaml"
    arende.write_text(arende.read_text(encoding="utf-8").replace("FSN 2023-00777", "FSN 2023-01234"),
                      encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        validate_agenda(folder, tmp_path / "content" / "organisationer.yaml")
    text = caught.value.format()
    assert "diarienummer FSN 2023-01234 finns redan i punkt 3" in text
    assert "utfärdat 2023-10-05, efter sammanträdet 2023-10-01" in text


def test_arende_with_a_stopp_is_refused_with_exit_8(tmp_path):
    folder = make_content(tmp_path, bilaga_pages=["Karta"])
    arende = folder.parents[1] / "arenden" / "2023-09-plan" / "arende.yaml"
    arende.write_text(arende.read_text(encoding="utf-8").replace("Bedömningen.", "TODO"), encoding="utf-8")
    result = CliRunner().invoke(main, ["agenda", str(folder), "--organisationer",
                                       str(tmp_path / "content" / "organisationer.yaml")])
    assert result.exit_code == 8, result.output
    assert "Punkt 3 (2023-09-plan)" in result.output


def test_new_sammantrade_validates_as_written(tmp_path):
    content = tmp_path / "content"
    content.mkdir()
    shutil.copy(ORGANISATIONER, content / "organisationer.yaml")
    folder = content / "sammantraden" / "nytt"
    result = CliRunner().invoke(main, ["new", str(folder), "--sammantrade", "--organisation", "forskolenamnden",
                                       "--organisationer", str(content / "organisationer.yaml")])
    assert result.exit_code == 0, result.output
    text = (folder / "sammantrade.yaml").read_text(encoding="utf-8")
    assert "# Föredragningslistan" in text and "punkt: Val av justerare" in text
    meeting = validate_agenda(folder, content / "organisationer.yaml")
    assert [p.rubrik for p in meeting.punkter][:2] == ["Mötets öppnande", "Val av justerare"]


def test_templates_command_checks_the_kallelse_template(tmp_path):
    import docx

    folder = tmp_path / "mallar"
    shutil.copytree(REPO / "templates" / "docx", folder)
    document = docx.Document(str(folder / "kallelse.docx"))
    document.add_paragraph("{{ okand_kallelsevariabel }}")
    document.save(str(folder / "kallelse.docx"))
    result = CliRunner().invoke(main, ["templates", str(folder)])
    assert result.exit_code == 4
    assert "kallelse.docx" in result.output and "okand_kallelsevariabel" in result.output
    shipped = len(list((REPO / "templates" / "docx").glob("*.docx")))
    assert CliRunner().invoke(main, ["templates"]).output.count("OK:") == shipped


def test_a_point_without_handlingar_is_in_the_kallelse_but_not_in_the_package(tmp_path):
    from generator.agendaparts import plan_parts
    from generator.kallelsedocx import kallelse_context

    folder = make_content(tmp_path, bilaga_pages=["Karta"], punkter=[
        {"punkt": "Mötets öppnande"},
        {"ärende": "2023-09-plan", "föredragande": "Anna Exempel", "handlingar": "nej"},
        {"ärende": "2023-10-lokalvard", "föredragande": "Karin Exempel"},
    ])
    meeting = validate_agenda(folder, tmp_path / "content" / "organisationer.yaml")
    punkter = kallelse_context(meeting)["punkter"]
    assert [(p["nummer"], p["utan_handlingar"]) for p in punkter] == [(1, False), (2, True), (3, False)]
    assert [p.has_handlingar for p in meeting.punkter] == [False, False, True]
    kallelse = write_pdf(tmp_path / "k.pdf", ["Kallelse"])
    parts = plan_parts(meeting, kallelse, {3: write_pdf(tmp_path / "h.pdf", ["Tjänsteutlåtande", "Bilaga"])})
    assert [part.title for part in parts] == ["Kallelse och föredragningslista", "Innehåll",
                                              "3. Tilldelningsbeslut i upphandling av lokalvård i förskolor"]


def test_bad_points_are_refused_with_their_line(tmp_path):
    error = check(tmp_path, punkter=[
        {"punkt": "Mötets öppning"},
        {"ärende": "2023-10-lokalvard"},
        {"punkt": "Övriga frågor", "utelämnad": "OSL 19 kap. 3 §"},
    ])
    text = error.format()
    assert "'Mötets öppning' är ingen av punkterna som finns" in text
    assert "'föredragande: <namn, titel>'" in text
    assert "'utelämnad' gäller bara en punkt med ett ärende" in text
    assert {e.field for e in error.located()} >= {"punkter[1].punkt", "punkter[2]", "punkter[3]"}


def test_validate_command_checks_a_sammantrade(tmp_path):
    folder = make_content(tmp_path, bilaga_pages=["Karta"])
    registry = str(tmp_path / "content" / "organisationer.yaml")
    result = CliRunner().invoke(main, ["validate", str(folder), "--organisationer", registry])
    assert result.exit_code == 0, result.output
    assert "sammanträde 2023-10-24, 5 punkter" in result.output
    data = yaml.safe_load((folder / "sammantrade.yaml").read_text(encoding="utf-8"))
    data["kallelsedatum"] = "2023-10-23"
    (folder / "sammantrade.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(folder), "--organisationer", registry])
    assert result.exit_code == 3 and "senast 2023-10-19" in result.output


@pytest.mark.parametrize("rotate", [0, 90, 180, 270])
def test_the_stamp_lies_at_the_visual_top_right_of_a_rotated_page(tmp_path, rotate):
    from generator.agendaparts import Part
    from generator.agendapdf import assemble

    plain = write_pdf(tmp_path / "plain.pdf", ["Kallelse"])
    turned = write_pdf(tmp_path / "turned.pdf", ["Vriden sida"])
    with pikepdf.open(turned, allow_overwriting_input=True) as pdf:
        pdf.pages[0].obj.Rotate = rotate
        pdf.save(turned)
    parts = [Part(plain, "Kallelse", "Kallelse", "Kallelse:"), Part(plain, "Innehåll", "Innehåll", "Innehåll:"),
             Part(turned, "3. Vriden", "Punkt 3", "Punkt 3:")]
    target = tmp_path / "paket.pdf"
    package = assemble(parts, target, title="Test")
    assert not package.tagged
    html = subprocess.run(["pdftotext", "-bbox", "-f", "3", "-l", "3", str(target), "-"], capture_output=True,
                          text=True, check=True).stdout
    size = re.search(r'<page width="([\d.]+)" height="([\d.]+)"', html)
    width, height = float(size.group(1)), float(size.group(2))
    word = re.search(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="[\d.]+" yMax="[\d.]+">Punkt<', html)
    assert word, html
    x, y = float(word.group(1)), float(word.group(2))
    assert x > width / 2 and y < 60, (rotate, x, y, width, height)
    assert "Punkt 3 · sida 1 av 1" in pdf_text(target, 3, 3)
