"""Letters composed into one document, converted once and split: the same PDFs as one by one.

Real LibreOffice throughout. The sample utskick's letter has three pages, headings,
lists, a link and a footnote, so it exercises what composing must keep per letter: page
numbers "1 (3)", footnote numbers, the footnote separator, tags and bookmarks.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pikepdf
import pytest
import yaml
from conftest import ORGANISATIONER, REPO

from generator import letterbatch, pipeline, runfinish
from generator.convert import Converter

SAMPLE = REPO / "content" / "utskick" / "2023-08-handlingsplaner"
RECIPIENTS = ["boplats", "liseberg", "higab", "arkivnamnden", "got-event"]


def render_letters(tmp_path: Path, utskick: Path = SAMPLE, org_ids=RECIPIENTS, name: str = "docx") -> list[Path]:
    """Render the letters of ``utskick`` (docx only) and return them in the order of ``org_ids``."""
    out = tmp_path / name
    plan = pipeline.plan_utskick(utskick, ORGANISATIONER, out, org_ids=list(org_ids))
    assert pipeline.run(plan).exit_code == 0
    return [out / "utskick" / utskick.name / f"{org}.docx" for org in org_ids]


def changed_sample(folder: Path, changes: dict[str, str]) -> Path:
    """Copy the sample utskick to ``folder`` with ``changes`` to its fields."""
    shutil.copytree(SAMPLE, folder)
    data = yaml.safe_load((folder / "utskick.yaml").read_text(encoding="utf-8"))
    data.update(changes)
    (folder / "utskick.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return folder


def convert_batch(tmp_path: Path, letters: list[Path], alone: Path | None = None):
    """Convert ``letters`` through the composed route into tmp_path/pdf; ``alone`` also on its own.

    Return the result, the folder of the PDFs and the PDF of ``alone`` (or None).
    """
    out = tmp_path / "pdf"
    out.mkdir()
    with Converter() as converter:
        result = letterbatch.convert_letters(converter, [(d, out / f"{d.stem}.pdf") for d in letters],
                                             tmp_path / "work")
        if alone is not None:
            converter.to_pdf(alone, tmp_path / "alone.pdf")
    return result, out, tmp_path / "alone.pdf" if alone is not None else None


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def claims(path: Path) -> tuple:
    with pikepdf.open(path) as pdf, pdf.open_metadata() as meta:
        return meta.get("pdfaid:part"), meta.get("pdfaid:conformance"), meta.get("pdfuaid:part")


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """The sample letters to five recipients, through the composed route (two batches) and one by one."""
    tmp = tmp_path_factory.mktemp("brev")
    letters = render_letters(tmp)
    batch, alone = tmp / "batch", tmp / "alone"
    batch.mkdir()
    alone.mkdir()
    with Converter() as converter:
        result = letterbatch.convert_letters(converter, [(d, batch / f"{d.stem}.pdf") for d in letters],
                                             tmp / "work", batch=3)
        for docx in letters:
            converter.to_pdf(docx, alone / f"{docx.stem}.pdf")
    return result, letters, batch, alone


def test_every_letter_but_the_proof_comes_from_the_composed_documents(converted):
    result, letters, batch, _ = converted
    assert result.failed == {}
    assert result.reason is None
    assert result.composed == len(letters) - 1  # the first is converted alone, as the proof
    assert sorted(p.name for p in batch.glob("*.pdf")) == sorted(f"{d.stem}.pdf" for d in letters)


@pytest.mark.parametrize("org", RECIPIENTS[1:])
def test_composed_letter_is_the_letter_converted_alone(converted, org):
    _, _, batch, alone = converted
    assert letterbatch.difference(alone / f"{org}.pdf", batch / f"{org}.pdf") is None


def test_composed_letters_keep_their_own_pages_footnotes_and_recipient(converted):
    _, letters, batch, _ = converted
    for docx in letters[1:]:
        text = pdf_text(batch / f"{docx.stem}.pdf")
        with pikepdf.open(batch / f"{docx.stem}.pdf") as pdf:
            assert len(pdf.pages) == 3
            assert pdf.Root.Lang == "sv-SE"
            assert "/StructTreeRoot" in pdf.Root and "/Outlines" in pdf.Root
        pages = text.split("\f")
        for number, page in enumerate(pages[:3], start=1):
            assert f"följebrev {number} (3)" in page
        assert "ToB-torget1 varannan torsdag" in text  # numbered within the letter, not the batch
        assert "ToB-torget2" not in text
        assert text.count("Christina Eide") == 1  # the signature: nothing of another letter
    assert "Liseberg AB" in pdf_text(batch / "liseberg.pdf")
    assert "Liseberg AB" not in pdf_text(batch / "higab.pdf")


def test_composed_letters_are_tagged_pdfa_and_pdfua(converted):
    _, letters, batch, alone = converted
    for docx in letters[1:]:
        assert claims(batch / f"{docx.stem}.pdf") == claims(alone / f"{docx.stem}.pdf")
        assert claims(batch / f"{docx.stem}.pdf")[2] == "1"


def test_difference_sees_another_letter_and_a_missing_footnote_line(converted, tmp_path):
    _, _, batch, alone = converted
    assert letterbatch.difference(alone / "liseberg.pdf", batch / "higab.pdf") == "text och placering"
    # The footnote separator drawn on page 1, removed from a copy: the proof must see it.
    with pikepdf.open(alone / "liseberg.pdf") as pdf:
        page = pdf.pages[0]
        ops = pikepdf.parse_content_stream(page)
        names = [str(op) for _, op in ops]
        assert "m" in names, "the first page has a footnote separator (a filled outline)"
        start = names.index("m")
        end = next(i for i in range(start, len(names)) if names[i] in ("f", "f*", "S", "B", "B*", "b", "b*"))
        kept = ops[:start] + ops[end + 1:]
        page.Contents = pdf.make_stream(pikepdf.unparse_content_stream(kept))
        pdf.save(tmp_path / "utan-linje.pdf")
    assert letterbatch.difference(alone / "liseberg.pdf", tmp_path / "utan-linje.pdf") == "linjer och ytor"


def test_letter_with_another_page_count_is_converted_alone(tmp_path):
    short = changed_sample(tmp_path / "kort", {"brödtext": "Ett kort brev till {{ organisation }}."})
    long_letters = render_letters(tmp_path, org_ids=["boplats", "liseberg", "higab"], name="lang")
    short_letter = render_letters(tmp_path, short, org_ids=["got-event"], name="kort-docx")[0]
    letters = [*long_letters[:2], short_letter, long_letters[2]]
    result, out, _ = convert_batch(tmp_path, letters)
    assert result.failed == {}
    assert result.composed == 2  # liseberg and higab; got-event has one page, not three
    assert result.reason == "1 brev fick ett annat sidantal"
    with pikepdf.open(out / "got-event.pdf") as pdf:
        assert len(pdf.pages) == 1
    assert "följebrev 1 (1)" in pdf_text(out / "got-event.pdf")


def test_letters_of_another_length_are_composed_again_with_their_page_count(tmp_path):
    short = changed_sample(tmp_path / "kort", {"brödtext": "Ett kort brev till {{ organisation }}."})
    long_letters = render_letters(tmp_path, org_ids=["boplats", "liseberg"], name="lang")
    short_letters = render_letters(tmp_path, short, org_ids=["got-event", "higab", "arkivnamnden"], name="kort-docx")
    letters = [long_letters[0], short_letters[0], long_letters[1], *short_letters[1:]]
    result, out, alone = convert_batch(tmp_path, letters, short_letters[1])
    assert alone is not None
    assert result.failed == {} and result.reason is None
    assert result.composed == len(letters) - 1  # the short ones in a second composition, "1 (1)"
    for docx in short_letters:
        assert "följebrev 1 (1)" in pdf_text(out / f"{docx.stem}.pdf")
    assert letterbatch.difference(alone, out / "higab.pdf") is None


def test_a_letter_starting_with_a_table_is_not_composed(converted, tmp_path):
    _, letters, _, _ = converted
    changed = tmp_path / "tabell-forst.docx"
    with zipfile.ZipFile(letters[1]) as src, zipfile.ZipFile(changed, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "word/document.xml":
                start = data.index(b"<w:body>") + len(b"<w:body>")
                data = data[:start] + data[data.index(b"<w:tbl>", start):]  # without the 1 pt top line
            dst.writestr(item, data)
    with pytest.raises(letterbatch.CannotCompose, match="börjar inte med ett stycke"):
        letterbatch.compose_letters([letters[0], changed], tmp_path / "brev.docx", 3)


def test_letters_command_takes_the_composed_route_and_writes_everything(tmp_path, monkeypatch):
    results = []

    def watched(*args, **kwargs):  # the real function, its results kept
        results.append(real(*args, **kwargs))
        return results[-1]

    real = runfinish.convert_letters
    monkeypatch.setattr(runfinish, "convert_letters", watched)
    out = tmp_path / "out"
    plan = pipeline.plan_utskick(SAMPLE, ORGANISATIONER, out, org_ids=RECIPIENTS, pdf=True)
    report = pipeline.run(plan, workers=2)
    assert report.exit_code == 0
    assert sum(r.composed for r in results) == len(RECIPIENTS) - len(results)  # all but one proof per converter
    folder = out / "utskick" / SAMPLE.name
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["lyckade"] == len(RECIPIENTS) and manifest["fel"] == []
    for org in RECIPIENTS:
        text = pdf_text(folder / f"{org}.pdf")
        assert "följebrev 3 (3)" in text and "ToB-torget1" in text
        assert claims(folder / f"{org}.pdf")[2] == "1"
    assert not list(out.rglob("brev-*.docx")) and not list(out.rglob("del-*.pdf"))


def test_each_part_gets_its_own_title_with_any_characters(tmp_path):
    titled = changed_sample(tmp_path / "titel", {"rubrik": "Information till {{ organisation }} <om \"planerna\">"})
    letters = render_letters(tmp_path, titled, org_ids=["liseberg", "higab", "goteborg-co"], name="titlar")
    result, out, alone = convert_batch(tmp_path, letters, letters[2])
    assert alone is not None
    assert result.composed == 2 and result.reason is None
    with pikepdf.open(out / "goteborg-co.pdf") as pdf, pdf.open_metadata() as meta:
        assert meta["dc:title"] == 'Information till Göteborg & Co Träffpunkt AB <om "planerna">'
        assert str(pdf.docinfo.Title) == meta["dc:title"]
    assert letterbatch.difference(alone, out / "goteborg-co.pdf") is None
    with pikepdf.open(alone) as pdf, pdf.open_metadata() as meta:  # LibreOffice's XMP escaped it twice
        assert meta["dc:title"] == 'Information till Göteborg & Co Träffpunkt AB <om "planerna">'
