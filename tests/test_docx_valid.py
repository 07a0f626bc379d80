"""Every kind of .docx the project writes opens cleanly in Word and in other readers.

Word is not available here: the check is ``generator.docxcheck`` (openxml-audit, profile
Microsoft 365, plus what ISO 29500 requires beyond it). A new kind of document gets a
one-line test: render it and call ``assert_opens_in_word(path)`` (conftest). Besides
python-docx, each document must open in docx2python and survive a LibreOffice round trip
(docx -> docx) with its body text.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
import zipfile
from pathlib import Path

import docx
import pytest
import yaml
from click.testing import CliRunner
from conftest import (
    ORGANISATIONER,
    REPO,
    SAMPLE,
    VALID_ARENDE,
    assert_opens_in_word,
    normalise,
    paragraph_text,
    render_paper,
    write_arende,
)
from docx.oxml.ns import qn
from docx2python import docx2python

from generator import letterbatch, pipeline
from generator.cli import main
from generator.docxcheck import Severity, check_docx
from generator.templates import SOURCE_TEMPLATES

UTSKICK = REPO / "content" / "utskick" / "2023-08-handlingsplaner"
RICH = (
    "Inledning med **fet**, *kursiv*, `kod` och en [länk](https://goteborg.se/handlingsplaner) samt en not[^1].  \n"
    "En ny rad i samma stycke.\n\n"
    "# Rubrik ett\n\n## Rubrik två\n\n### Rubrik tre\n\n"
    "- punkt ett\n  - under ett\n    - under under\n  - under två\n- punkt två med [länk](https://example.org)\n\n"
    "1. första\n   1. första a\n   2. första b\n2. andra\n   - blandad punkt\n3. tredje\n\n"
    "| Post | Belopp | Status |\n|:-----|------:|:------:|\n| Lokaler | 1 000 kr | **Klart** |\n"
    "| Personal | 2 000 kr | [se not](https://example.org/not) |\n\n"
    "> Ett citat.\n\n"
    "Sista stycket, en andra not[^2].\n\n"
    "[^1]: En not med [länk](https://example.org/fotnot) och **fet** text.\n"
    "[^2]: En längre not.\n\n    Med ett andra stycke.\n"
)
"""The richest Markdown the writer accepts: headings, nested and mixed lists, a table,
links in text, tables and footnotes, footnotes of two paragraphs, a quote, a hard break."""


@pytest.fixture(scope="module")
def documents(tmp_path_factory) -> dict[str, Path]:
    """Render every kind of .docx the project writes; return them by kind."""
    tmp = tmp_path_factory.mktemp("kinds")
    kinds: dict[str, Path] = {}
    plan = pipeline.plan_arende(SAMPLE, ORGANISATIONER, tmp / "papers", org_ids=["gota-lejon", "forskolenamnden"])
    report = pipeline.run(plan)
    assert not report.failed
    kinds["bolag"] = next(f for f in report.files if f.parent.name == "gota-lejon")
    kinds["namnd"] = next(f for f in report.files if f.parent.name == "forskolenamnden")
    plan = pipeline.plan_arende(SAMPLE, ORGANISATIONER, tmp / "utkast", org_ids=["gota-lejon"], utkast=True)
    kinds["utkast"] = pipeline.run(plan).files[0]

    rich = write_arende(tmp / "rich-arende", {**VALID_ARENDE, "sammanfattning": RICH, "beskrivning": RICH,
                                              "dimensioner": {"ekonomisk": RICH, "ekologisk": "E.", "social": "S."}})
    kinds["bolag-rikt"] = pipeline.run(pipeline.plan_arende(rich, ORGANISATIONER, tmp / "rich")).files[0]

    org_ids = ["liseberg", "higab", "arkivnamnden"]
    letters = pipeline.run(pipeline.plan_utskick(UTSKICK, ORGANISATIONER, tmp / "letters", org_ids=org_ids))
    kinds["brev"] = letters.files[0]
    composed = tmp / "sammansatta.docx"
    letterbatch.compose_letters(sorted(letters.files), composed, pages=3)
    kinds["brev-sammansatta"] = composed

    rich_utskick = shutil.copytree(UTSKICK, tmp / "rich-utskick")
    data = yaml.safe_load((rich_utskick / "utskick.yaml").read_text(encoding="utf-8"))
    data["brödtext"] = RICH + "\nTill {{ organisation }}.\n"
    (rich_utskick / "utskick.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    rich_letters = pipeline.run(pipeline.plan_utskick(rich_utskick, ORGANISATIONER, tmp / "rich-letters", org_ids=org_ids))
    kinds["brev-rikt"] = rich_letters.files[0]
    composed_rich = tmp / "sammansatta-rika.docx"
    letterbatch.compose_letters(sorted(rich_letters.files), composed_rich, pages=5)
    kinds["brev-rika-sammansatta"] = composed_rich
    return kinds


KINDS = ["bolag", "namnd", "utkast", "bolag-rikt", "brev", "brev-sammansatta", "brev-rikt", "brev-rika-sammansatta"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_opens_in_word_without_repair(documents, kind):
    assert_opens_in_word(documents[kind])


@pytest.mark.parametrize("template", sorted(p.name for p in SOURCE_TEMPLATES.glob("*.docx")))
def test_shipped_templates_open_in_word_without_repair(template):
    assert_opens_in_word(SOURCE_TEMPLATES / template)


def test_openxml_audit_command_reports_nothing_on_any_kind_or_template(documents):
    """The done-criterion as written: ``openxml-audit -f microsoft365 FILE``, one process per file.

    (One run over a folder reuses one validator, which in openxml-audit 0.8.0 carries
    footnote ids from one file to the next: see ``docxcheck._validator``.)
    """
    audit = Path(sys.executable).with_name("openxml-audit")
    files = [documents[kind] for kind in KINDS] + sorted(SOURCE_TEMPLATES.glob("*.docx"))
    for path in files:
        run = subprocess.run([str(audit), "-f", "microsoft365", "-o", "json", "-m", "0", str(path)],
                             capture_output=True, text=True, timeout=120)
        (report,) = json.loads(run.stdout)
        assert run.returncode == 0 and report["valid"], (path.name, report["errors"])
        assert report["error_count"] == report["warning_count"] == 0, (path.name, report["errors"])


CP = "{http://schemas.openxmlformats.org/package/2006/metadata/core-properties}"
DC = "{http://purl.org/dc/elements/1.1/}"
DCTERMS = "{http://purl.org/dc/terms/}"


@pytest.mark.parametrize("kind, title, author, stamp", [
    ("bolag", "Information om handlingsplaner", "Petra Willquist", "2023-10-02T00:00:00Z"),
    ("brev", "Information om nya handlingsplaner inom Göteborgs Stad", "Christina Eide", "2023-08-21T00:00:00Z"),
])
def test_core_properties_read_back_with_a_plain_xml_parser(documents, kind, title, author, stamp):
    with zipfile.ZipFile(documents[kind]) as zf:
        core = ElementTree.fromstring(zf.read("docProps/core.xml"))
    assert core.tag == f"{CP}coreProperties"
    assert core.findtext(f"{DC}title") == title
    assert core.findtext(f"{DC}creator") == author
    assert core.findtext(f"{CP}lastModifiedBy") == author
    assert core.findtext(f"{DCTERMS}created") == stamp
    assert core.findtext(f"{DCTERMS}modified") == stamp
    assert core.findtext(f"{CP}lastPrinted") == stamp
    assert core.findtext(f"{CP}revision") == "1"
    assert core.findtext(f"{DC}language") == "sv-SE"
    assert len(core.findall(f"{CP}lastModifiedBy")) == 1
    namespaces = {child.tag.split("}")[0][1:] for child in core}
    assert namespaces <= {CP[1:-1], DC[1:-1], DCTERMS[1:-1]}, namespaces  # nothing in custom-properties


def test_core_property_replaces_a_copy_in_another_namespace():
    from lxml import etree

    from generator.render import set_core_property

    custom = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
    core = etree.fromstring(f'<cp:coreProperties xmlns:cp="{CP[1:-1]}" xmlns:x="{custom}">'
                            '<x:lastModifiedBy>Gammal</x:lastModifiedBy><cp:revision>7</cp:revision>'
                            '</cp:coreProperties>')
    set_core_property(core, "lastModifiedBy", "Anna")
    set_core_property(core, "revision", "1")
    assert [(child.tag, child.text) for child in core] == [(f"{CP}revision", "1"), (f"{CP}lastModifiedBy", "Anna")]


def test_every_part_using_r_declares_it_on_its_root(documents):
    r = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    for kind in ("bolag-rikt", "brev-rika-sammansatta"):
        with zipfile.ZipFile(documents[kind]) as zf:
            for name in zf.namelist():
                if name.startswith("word/") and name.endswith(".xml"):
                    data = zf.read(name)
                    if f'="{r}"'.encode() in data or name == "word/footnotes.xml":
                        assert f'xmlns:r="{r}"'.encode() in data.split(b">", 2)[1], (kind, name)


FOOTNOTES = {
    "brev": ["Ett digitalt forum inom det trygghetsskapande"],
    "brev-sammansatta": ["Ett digitalt forum inom det trygghetsskapande"],
    **{kind: ["En not med", "https://example.org/fotnot", "Med ett andra stycke."]
       for kind in ("bolag-rikt", "brev-rikt", "brev-rika-sammansatta")},
}
"""Footnote text docx2python must read, by kind."""


def body_words(path: Path) -> set[str]:
    """Return the words of the body text a reader sees (paragraphs and table cells)."""
    body = docx.Document(str(path)).element.body
    words = set()
    for p in body.iter(qn("w:p")):
        for r in p.iter(qn("w:r")):
            if r.find(qn("w:footnoteReference")) is None:  # a composed letter's custom mark is no body text
                words.update(paragraph_text(r).split())
    return words


def test_every_kind_reads_in_python_docx_docx2python_and_libreoffice(documents, tmp_path):
    copies = tmp_path / "in"
    copies.mkdir()
    for kind in KINDS:
        shutil.copy(documents[kind], copies / f"{kind}.docx")
    out = tmp_path / "out"
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path / 'profil'}",
                    "--convert-to", "docx:MS Word 2007 XML", "--outdir", str(out),
                    *sorted(str(p) for p in copies.iterdir())],
                   check=True, capture_output=True, timeout=300)
    for kind in KINDS:
        path = copies / f"{kind}.docx"
        words = body_words(path)
        assert len(docx.Document(str(path)).paragraphs) > 3
        with docx2python(path) as read:
            text = normalise(read.text)
            notes = normalise(" ".join(str(note) for note in read.footnotes_runs))
        missing = {w for w in words if w not in text}
        assert not missing, (kind, "docx2python", sorted(missing)[:20])
        for note in FOOTNOTES.get(kind, ()):
            assert note in notes, (kind, "docx2python", note)
        round_trip = body_words(out / f"{kind}.docx")
        assert not words - round_trip, (kind, "LibreOffice", sorted(words - round_trip)[:20])


def test_footnote_links_point_at_relationships_of_the_footnotes_part(documents):
    with zipfile.ZipFile(documents["bolag-rikt"]) as zf:
        notes = zf.read("word/footnotes.xml").decode()
        rels = zf.read("word/_rels/footnotes.xml.rels").decode()
    assert "<w:hyperlink" in notes
    assert 'Target="https://example.org/fotnot"' in rels and 'TargetMode="External"' in rels


# --- docxcheck and beslut templates on broken files ---

def rewrite_part(src: Path, dst: Path, part: str, change) -> Path:
    """Copy the .docx ``src`` to ``dst`` with ``change(text)`` applied to ``part``."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == part:
                data = change(data.decode("utf-8")).encode("utf-8")
            zout.writestr(item, data)
    return dst


def misordered(xml: str) -> str:
    """Move the first w:tblBorders behind w:tblLook, as the old templates had it."""
    start, end = xml.index("<w:tblBorders>"), xml.index("</w:tblBorders>") + len("</w:tblBorders>")
    borders, xml = xml[start:end], xml[:start] + xml[end:]
    look = xml.index("<w:tblLook ")
    close = xml.index("/>", look) + 2
    return xml[:close] + borders + xml[close:]


def test_templates_command_names_a_misordered_table_property(tmp_path):
    folder = tmp_path / "mina-mallar"
    shutil.copytree(SOURCE_TEMPLATES, folder)
    rewrite_part(SOURCE_TEMPLATES / "beslutsunderlag.docx", folder / "beslutsunderlag.docx",
                 "word/document.xml", misordered)
    result = CliRunner().invoke(main, ["templates", str(folder)], prog_name="beslut")
    assert result.exit_code == 4, result.output
    message = result.output
    assert "beslutsunderlag.docx" in message and "foljebrev.docx" not in message
    assert "word/document.xml, w:tblBorders" in message
    assert "w:tblBorders står efter w:tblLook men ska stå före den" in message
    assert "w:tblPr" in message and "Word vill reparera filen" in message


def test_templates_command_warns_of_a_zoom_without_percent(tmp_path):
    folder = tmp_path / "mina-mallar"
    shutil.copytree(SOURCE_TEMPLATES, folder)
    rewrite_part(SOURCE_TEMPLATES / "foljebrev.docx", folder / "foljebrev.docx", "word/settings.xml",
                 lambda xml: xml.replace(' w:percent="100"', ""))
    result = CliRunner().invoke(main, ["templates", str(folder)], prog_name="beslut")
    assert result.exit_code == 0, result.output
    assert "Varning:" in result.output and "settings.xml, w:zoom: saknar w:percent" in result.output
    assert "foljebrev.docx" in result.output.split("Varning:")[1]


def test_a_tag_that_renders_into_broken_xml_is_found_in_the_example(tmp_path):
    """A template valid as saved can render into XML Word repairs: a cell left without a paragraph."""
    folder = tmp_path / "mina-mallar"
    shutil.copytree(SOURCE_TEMPLATES, folder)

    def emptied_cell(xml: str) -> str:  # the right header cell: only {%p if false %} … {%p endif %}
        start = xml.index("<w:tc>", xml.index("<w:tc>") + 1)
        end = xml.index("</w:tc>", start)
        cell = xml[start:end]
        paragraph = "<w:p><w:r><w:t>{}</w:t></w:r></w:p>"
        cell = (cell[:cell.index("<w:p>")] + paragraph.format("{%p if false %}") + paragraph.format("text")
                + paragraph.format("{%p endif %}"))
        return xml[:start] + cell + xml[end:]

    rewrite_part(SOURCE_TEMPLATES / "beslutsunderlag.docx", folder / "beslutsunderlag.docx",
                 "word/document.xml", emptied_cell)
    assert not check_docx(folder / "beslutsunderlag.docx")  # the template itself is valid
    result = CliRunner().invoke(main, ["templates", str(folder)], prog_name="beslut")
    assert result.exit_code == 4, result.output
    assert "word/document.xml, w:tc: saknar innehåll som Word kräver" in result.output
    assert "minst ett stycke (w:p)" in result.output and "i ett exempel ifyllt med mallen" in result.output


def test_core_properties_in_the_wrong_namespace_and_a_missing_relationship_are_named(documents, tmp_path):
    custom = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
    broken = rewrite_part(documents["bolag"], tmp_path / "a.docx", "docProps/core.xml", lambda xml: xml.replace(
        "</cp:coreProperties>", f'<x:lastModifiedBy xmlns:x="{custom}">A</x:lastModifiedBy></cp:coreProperties>'))
    broken = rewrite_part(broken, tmp_path / "b.docx", "word/document.xml", lambda xml: xml.replace(
        "<w:body>", '<w:body><w:p><w:hyperlink r:id="rId999"><w:r><w:t>x</w:t></w:r></w:hyperlink></w:p>', 1))
    findings = {(f.part, f.element): f for f in check_docx(broken)}
    core = findings[("/docProps/core.xml", "cp:lastModifiedBy")]
    assert core.severity is Severity.VARNING and custom in core.message
    link = findings[("/word/document.xml", "w:hyperlink")]
    assert link.repairs and "rId999" in link.message and "word/_rels/document.xml.rels" in link.message


def test_a_template_whose_footnotes_lack_r_still_gives_a_document_docx2python_reads(tmp_path):
    """A template made before the footnotes part declared r: (or by another tool)."""
    r = ' xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
    folder = tmp_path / "mallar"
    shutil.copytree(SOURCE_TEMPLATES, folder)
    rewrite_part(SOURCE_TEMPLATES / "beslutsunderlag.docx", folder / "beslutsunderlag.docx", "word/footnotes.xml",
                 lambda xml: xml.replace(r, ""))
    with zipfile.ZipFile(folder / "beslutsunderlag.docx") as zf:
        assert b"xmlns:r" not in zf.read("word/footnotes.xml")
    arende = write_arende(tmp_path / "arende", {**VALID_ARENDE, "beskrivning": RICH})
    (paper,) = render_paper(arende, tmp_path / "out", templates=folder).files
    with docx2python(paper) as read:
        assert "https://example.org/fotnot" in " ".join(str(note) for note in read.footnotes_runs)
    assert_opens_in_word(paper)
