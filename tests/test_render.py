"""Rendering .docx: the reference beslutsunderlag, the tjänsteutlåtande, Markdown, escaping."""

from __future__ import annotations

import zipfile
from pathlib import Path

import docx
import pytest
from conftest import FIXTURES, ORGANISATIONER, SAMPLE, all_paragraphs, docx_lines, normalise, render_paper
from docx.oxml.ns import qn

from generator import pipeline
from generator.errors import TemplateError
from generator.templates import BESLUTSUNDERLAG, default_template_dir


def reference_lines() -> list[str]:
    """Return the reference beslutsunderlag (lines 1-81) as a reader sees it, line by line."""
    lines = []
    for raw in (FIXTURES / "reference-beslutsunderlag.txt").read_text(encoding="utf-8").splitlines():
        text = normalise(raw)
        if text:
            lines.append(text.removeprefix("- "))
    return lines


@pytest.fixture(scope="module")
def sample_docx(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("out")
    return render_paper(SAMPLE, out, org_ids=["gota-lejon"]).files[0]


def test_sample_reproduces_reference_in_order(sample_docx: Path):
    generated = docx_lines(sample_docx)
    position = 0
    for line in reference_lines():
        assert line in generated[position:], f"saknas eller i fel ordning: {line!r}"
        position = generated.index(line, position) + 1


def test_sample_is_a_beslutsunderlag_with_city_header_and_footer(sample_docx: Path):
    assert sample_docx.name == "beslutsunderlag.docx"
    document = docx.Document(str(sample_docx))
    header = " ".join(p.text for p in document.sections[0].header.paragraphs)
    assert "Göteborgs Stad" in header
    footer = document.sections[0].footer.paragraphs[0]
    assert footer.text.startswith("Göteborgs Stad Försäkrings AB Göta Lejon, beslutsunderlag")
    instructions = [f.get(qn("w:instr")).strip() for f in footer._p.iter(qn("w:fldSimple"))]
    assert instructions == ["PAGE", "NUMPAGES"]


def test_sections_use_real_heading_styles(sample_docx: Path):
    document = docx.Document(str(sample_docx))
    headings = {p.text: p.style.name for p in all_paragraphs(document) if p.style.name.startswith("Heading")}
    assert headings["Information om handlingsplaner"] == "Heading 1"
    for name in ("Förslag till beslut", "Sammanfattning", "Bedömning ur ekonomisk dimension",
                 "Samverkan", "Bilagor", "Ärendet", "Beskrivning av ärendet", "Bolagets bedömning"):
        assert headings[name] == "Heading 2"
    bullets = [p.text for p in all_paragraphs(document) if p.style.name == "List Bullet"]
    assert "Motverka tystnadskulturer i stadens verksamheter." in bullets
    assert not any(p.text.lstrip().startswith(("- ", "* ")) for p in all_paragraphs(document))


def test_core_properties_and_language(sample_docx: Path):
    document = docx.Document(str(sample_docx))
    props = document.core_properties
    assert props.title == "Information om handlingsplaner"
    assert props.author == "Petra Willquist"
    assert props.language == "sv-SE"
    lang = document.styles.element.find(qn("w:docDefaults")).find(".//" + qn("w:lang"))
    assert lang.get(qn("w:val")) == "sv-SE"


def test_render_is_byte_identical_when_repeated(tmp_path: Path):
    first = render_paper(SAMPLE, tmp_path / "a", org_ids=["gota-lejon"]).files[0].read_bytes()
    second = render_paper(SAMPLE, tmp_path / "b", org_ids=["gota-lejon"]).files[0].read_bytes()
    assert first == second
    with zipfile.ZipFile(render_paper(SAMPLE, tmp_path / "c", org_ids=["gota-lejon"]).files[0]) as z:
        assert {info.date_time for info in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_namnd_gets_a_tjansteutlatande(arende_dir, tmp_path: Path):
    folder = arende_dir(organisation="forskolenamnden", **{"bedömning": "Förvaltningen tillstyrker."})
    target = render_paper(folder, tmp_path / "out").files[0]
    assert target.name == "tjänsteutlåtande.docx"
    lines = docx_lines(target)
    assert lines[0] == "Tjänsteutlåtande"
    assert "I förskolenämnden:" in lines
    assert "Förvaltningens bedömning" in lines
    assert "Bolagets bedömning" not in lines
    footer = docx.Document(str(target)).sections[0].footer.paragraphs[0].text
    assert footer.startswith("Göteborgs Stad Förskoleförvaltningen, tjänsteutlåtande")


def test_diarienummer_and_underskrifter(arende_dir, tmp_path: Path):
    folder = arende_dir(diarienummer="0123/23", underskrifter=[
        {"namn": "Anna Andersson", "titel": "VD"}, {"namn": "Bo Berg", "titel": "Ekonomichef"}])
    lines = docx_lines(render_paper(folder, tmp_path / "out").files[0])
    assert "Diarienummer 0123/23" in lines
    assert lines[-4:] == ["Anna Andersson", "VD", "Bo Berg", "Ekonomichef"]


def test_markdown_becomes_runs_lists_and_links(arende_dir, tmp_path: Path):
    text = (
        "Ett stycke med **fet** och *kursiv* text och en [länk](https://goteborg.se).\n\n"
        "1. första\n2. andra\n\nMellan listorna.\n\n1. ett igen\n2. två igen\n\n"
        "- punkt med **fetstil**\n"
    )
    folder = arende_dir(beskrivning=text, **{"förslag_till_beslut": ["Beslut ett.", "Beslut två."]})
    document = docx.Document(str(render_paper(folder, tmp_path / "out").files[0]))
    paragraphs = all_paragraphs(document)
    first = next(p for p in paragraphs if p.text.startswith("Ett stycke"))
    assert "*" not in first.text
    assert [r.text for r in first.runs if r.bold] == ["fet"]
    assert [r.text for r in first.runs if r.italic] == ["kursiv"]
    link = first._p.find(qn("w:hyperlink"))
    assert link is not None
    assert first.part.rels[link.get(qn("r:id"))].target_ref == "https://goteborg.se"

    numbered = [p for p in paragraphs if p.style.name == "List Number"]
    assert [p.text for p in numbered] == ["Beslut ett.", "Beslut två.", "första", "andra",
                                          "ett igen", "två igen"]
    num_ids = [p._p.pPr.numPr.numId.val for p in numbered]
    assert len({num_ids[0], num_ids[2], num_ids[4]}) == 3, "varje lista ska börja om på 1"
    assert num_ids[0] == num_ids[1] and num_ids[2] == num_ids[3]
    bullet = next(p for p in paragraphs if p.style.name == "List Bullet")
    assert bullet.text == "punkt med fetstil"


def test_values_come_out_literally(arende_dir, tmp_path: Path):
    tricky = "Smith & Co <b>fet</b> \"citat\" 'apostrof' {{ rubrik }} {% if true %}x{% endif %}"
    folder = arende_dir(rubrik=tricky, sammanfattning=tricky)
    target = render_paper(folder, tmp_path / "out").files[0]
    lines = docx_lines(target)
    assert lines.count(normalise(tricky)) == 2
    assert docx.Document(str(target)).core_properties.title == tricky


def test_rerender_replaces_only_its_document(arende_dir, tmp_path: Path):
    folder = arende_dir()
    out = tmp_path / "out"
    target = render_paper(folder, out).files[0]
    other = target.parent / "anteckningar.txt"
    other.write_text("egen fil")
    target.write_bytes(b"gammal")
    render_paper(folder, out)
    assert target.read_bytes()[:2] == b"PK"
    assert other.read_text() == "egen fil"
    assert sorted(p.name for p in target.parent.iterdir()) == ["anteckningar.txt", target.name,
                                                               "manifest.json"]


def test_template_uses_only_variables_the_context_provides(sample_docx: Path):
    from docxtpl import DocxTemplate

    from generator.bilagor import plan_bilagor
    from generator.context import build_context
    from generator.markdown import MarkdownRenderer

    template = DocxTemplate(default_template_dir() / BESLUTSUNDERLAG)
    loaded = pipeline.validate_arende(SAMPLE, ORGANISATIONER, ["gota-lejon"])[0]
    context = build_context(loaded, plan_bilagor(loaded), MarkdownRenderer(template))
    assert template.get_undeclared_template_variables(context=context) == set()


def test_unknown_template_variable_is_an_error(arende_dir, tmp_path: Path):
    templates = tmp_path / "mallar"
    templates.mkdir()
    document = docx.Document(str(default_template_dir() / BESLUTSUNDERLAG))
    document.add_paragraph("{{ handlaggare.titel }}")
    document.save(str(templates / BESLUTSUNDERLAG))
    plan = pipeline.plan_arende(arende_dir(), ORGANISATIONER, tmp_path / "out", templates=templates)
    report = pipeline.run(plan)
    assert report.exit_code == TemplateError.exit_code
    assert "titel" in report.failed[0].error
    assert not plan.jobs[0].outputs.docx.exists()


def test_markdown_nested_lists_headings_and_breaks(arende_dir, tmp_path: Path):
    text = (
        "# Bakgrund\n\nRad ett\\\nrad två\n\n"
        "- yttre\n  - inre\n- yttre igen\n\n"
        "3. tre\n4. fyra\n\n"
        "<b>inte html</b>\n"
    )
    document = docx.Document(str(render_paper(arende_dir(beskrivning=text), tmp_path / "out").files[0]))
    styles = [(p.style.name, p.text) for p in all_paragraphs(document)]
    assert ("Heading 3", "Bakgrund") in styles
    assert ("List Bullet", "yttre") in styles and ("List Bullet 2", "inre") in styles
    assert ("List Bullet", "yttre igen") in styles
    breaks = next(p for p in all_paragraphs(document) if p.text.startswith("Rad ett"))
    assert breaks._p.xpath(".//w:br") and breaks.text == "Rad ett\nrad två"
    three = next(p for p in all_paragraphs(document) if p.text == "tre")
    num_id = three._p.pPr.numPr.numId.val
    num = document.part.numbering_part.element.num_having_numId(num_id)
    assert num.xpath("./w:lvlOverride/w:startOverride/@w:val") == ["3"]
    assert ("Normal", "<b>inte html</b>") in styles


def test_sample_namnd_version_speaks_of_the_namnd_not_a_bolag(tmp_path: Path):
    text = " ".join(docx_lines(render_paper(SAMPLE, tmp_path, org_ids=["forskolenamnden"]).files[0]))
    assert "I förskolenämnden:" in text and "Förvaltningens bedömning" in text
    for bolag_word in ("bolaget", "Bolagets", "Styrelsen", "styrelsen för"):
        assert bolag_word not in text, bolag_word
