"""Granskning: each check catches what it should and leaves alone what it should not."""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

import docx
import pytest
import yaml
from click.testing import CliRunner
from conftest import ORGANISATIONER, SAMPLE, VALID_ARENDE, write_arende
from pypdf import PdfReader

from generator import pipeline
from generator.cli import main
from generator.conformance import validate_pdf
from generator.errors import ReviewError
from generator.findings import STOPP, VARNING, Finding
from generator.personnummer import luhn_valid
from generator.readability import find_myndighetsord, lix, lix_label
from generator.review import (
    PLACEHOLDER_MARKERS,
    bilaga_numbers,
    check_publishable,
    placeholder,
    review_arende,
)
from generator.watermark import WATERMARK_TEXT, add_watermark


def run(*args) -> object:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def with_check_digit(nine: str) -> str:
    """Return ÅÅMMDDNNN plus the Luhn check digit that makes it a valid number."""
    for digit in "0123456789":
        if luhn_valid(nine + digit):
            return nine + digit
    raise AssertionError


def wrong_check_digit(ten: str) -> str:
    return ten[:-1] + str((int(ten[-1]) + 1) % 10)


PNR = with_check_digit("811218987")  # 18 December 1981
"""A Luhn-valid personnummer with a valid date (ÅÅMMDDNNNN)."""


def review_of(folder: Path) -> list[Finding]:
    (loaded,) = pipeline.validate_arende(folder, ORGANISATIONER)
    return review_arende(loaded)


def codes(findings: list[Finding], severity: str | None = None) -> list[str]:
    return [f.code for f in findings if severity is None or f.severity == severity]


@pytest.fixture
def make(tmp_path: Path):
    """Write VALID_ARENDE with ``changes`` (and four bilaga files) and return its findings."""

    def review(name: str = "arende", bilagor: int = 1, **changes) -> list[Finding]:
        data = {**VALID_ARENDE, **changes}
        data["bilagor"] = [{"titel": f"Bilaga nummer {i}", "fil": "bilaga.pdf"} for i in range(1, bilagor + 1)]
        return review_of(write_arende(tmp_path / name, data))

    return review


# --- the sample -----------------------------------------------------------------------------


def test_sample_has_no_stopp_for_any_organisation():
    instances = pipeline.validate_arende(SAMPLE, ORGANISATIONER)
    assert {i.organisation.id for i in instances} == {"gota-lejon", "forskolenamnden", "familjebostader"}
    for loaded in instances:
        findings = review_arende(loaded)
        assert codes(findings, STOPP) == [], [f.format() for f in findings]
        assert "bilaga-ohanvisad" in codes(findings)  # the sample refers to no bilaga in its text


def test_review_command_on_the_sample_exits_0_and_groups_by_field():
    result = run("review", SAMPLE, "--organisationer", ORGANISATIONER)
    assert result.exit_code == 0, result.output
    assert "Summa: 0 stopp" in result.stdout
    assert "\n  bilagor[1]\n    varning" in result.stdout
    assert "arende.yaml, rad 23:" in result.stdout  # bilagor[1] starts on line 23 of the shared file
    assert "Läsbarhet (LIX): förslag_till_beslut" in result.stdout


def test_review_json_lists_every_organisation():
    result = run("review", SAMPLE, "--organisationer", ORGANISATIONER, "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["stopp"] == 0 and data["varningar"] > 0
    assert sorted(a["organisation"] for a in data["ärenden"]) == ["familjebostader", "forskolenamnden", "gota-lejon"]
    finding = data["ärenden"][0]["fynd"][0]
    assert set(finding) == {"nivå", "kod", "fält", "fil", "rad", "meddelande"}


# --- 1. dimensions --------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["-", "Saknas.", "Ej aktuellt", "?", "TBD"])
def test_dimension_without_assessment_is_stopp(make, text):
    findings = make(dimensioner={**VALID_ARENDE["dimensioner"], "ekologisk": text})
    stopp = [f for f in findings if f.severity == STOPP]
    assert [(f.code, f.field) for f in stopp] == [("dimension-saknas", "dimensioner.ekologisk")]
    assert "Ärendet har inga särskilda konsekvenser" in stopp[0].message


@pytest.mark.parametrize("text", [
    "Ärendet har inga särskilda konsekvenser ur en ekologisk dimension.",
    "Arbete med planerna har ännu inte påbörjat och någon bedömning ur ekologisk dimension har ej gjorts.",
    "Förslaget minskar transporterna och därmed utsläppen av koldioxid.",
])
def test_dimension_with_stock_phrase_or_assessment_passes(make, text):
    findings = make(dimensioner={**VALID_ARENDE["dimensioner"], "ekologisk": text})
    assert not [f for f in findings if f.field == "dimensioner.ekologisk" and f.code.startswith("dimension")]


def test_dimension_about_another_dimension_is_a_varning(make):
    text = "Ärendet har inga särskilda konsekvenser ur en ekonomisk dimension."
    findings = make(dimensioner={**VALID_ARENDE["dimensioner"], "social": text})
    found = [f for f in findings if f.code == "dimension-fel"]
    assert [(f.severity, f.field) for f in found] == [(VARNING, "dimensioner.social")]


def test_very_short_dimension_is_a_varning(make):
    findings = make()  # VALID_ARENDE's dimensions are one word each
    assert codes(findings).count("dimension-kort") == 3
    assert "dimension-kort" not in codes(findings, STOPP)


# --- 2. bilaga references -------------------------------------------------------------------


def test_reference_to_bilaga_5_of_4_is_stopp(make):
    findings = make(bilagor=4, **{"förslag_till_beslut": ["Styrelsen godkänner avtalet i bilaga 5."]})
    stopp = [f for f in findings if f.severity == STOPP]
    assert [(f.code, f.field) for f in stopp] == [("bilaga-saknas", "förslag_till_beslut[1]")]
    assert "bilaga 5" in stopp[0].message and "har 4 bilagor" in stopp[0].message


def test_reference_to_missing_bilaga_elsewhere_is_also_stopp(make):
    findings = make(bilagor=2, beskrivning="Se bilagorna 2 och 3.")
    assert [(f.code, f.field) for f in findings if f.severity == STOPP] == [("bilaga-saknas", "beskrivning")]


def test_every_bilaga_referred_to_gives_no_bilaga_finding(make):
    findings = make(bilagor=4, beskrivning="Se bilaga 1, bilagorna 2 och 3 samt Bilaga 4 – planen.")
    assert not [c for c in codes(findings) if c.startswith("bilaga")]


def test_bilaga_nobody_refers_to_is_a_varning(make):
    findings = make(bilagor=3, beskrivning="Se bilaga 1 och bilaga 3.")
    found = [f for f in findings if f.code == "bilaga-ohanvisad"]
    assert [(f.severity, f.field) for f in found] == [(VARNING, "bilagor[2]")]


@pytest.mark.parametrize("reference, numbers", [
    ("3", [3]), ("1 och 2", [1, 2]), ("1, 2 och 4", [1, 2, 4]), ("2–4", [2, 3, 4]), ("2-3", [2, 3]),
    ("2 till 4", [2, 3, 4]),
])
def test_bilaga_numbers(reference, numbers):
    assert bilaga_numbers(reference) == numbers


# --- 3. placeholders ------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "Kostnaden är XXX kronor.", "TODO: skriv bedömningen.", "Kontakta [namn] på förvaltningen.",
    "Lorem ipsum dolor sit amet.", "Beslutet gäller från ÅÅÅÅ-MM-DD.", placeholder("bedömningen"),
    "Ring [031-000 00 00] för frågor.", "Beslutet gäller från [2024-01-01].", "Kostnaden är [12 345] kronor.",
])
def test_placeholder_left_is_stopp(make, text):
    findings = make(**{"bedömning": text})
    assert [(f.code, f.field) for f in findings if f.severity == STOPP] == [("platshallare", "bedömning")]


@pytest.mark.parametrize("text", [
    "Läs mer på [stadens webbplats](https://goteborg.se).",
    "Han skrev att \"beslutet [sic] gäller\".",
    "Storlek XXL finns inte. Det finns 3 [1] källor.",
    "Ett ärende om datum 2023-10-02.",
    "Se planen[^1] och rapporten[^tob].\n\n[^1]: Planen 2023.\n\n[^tob]: Rapporten 2022.",
    "Läs [stadens plan][plan] och [riktlinjen].\n\n[plan]: https://goteborg.se/plan\n[riktlinjen]: https://goteborg.se/r",
    "Skriv \\[så här\\] för att få hakparenteser.",
])
def test_ordinary_text_is_no_placeholder(make, text):
    assert "platshallare" not in codes(make(**{"bedömning": text}))


def test_every_exported_marker_is_found(make, tmp_path):
    for i, marker in enumerate(PLACEHOLDER_MARKERS):
        text = f"Inledning {marker}sammanfattning] här." if marker.startswith("[") else f"Inledning {marker} här."
        assert "platshallare" in codes(make(f"a{i}", sammanfattning=text)), marker


@pytest.mark.parametrize("key,field", [("telefon", "handläggare.telefon"), ("namn", "handläggare.namn"),
                                       ("epost", "handläggare.e-post")])
def test_a_handlaggare_field_left_as_beslut_new_wrote_it_is_stopp(make, key, field):
    from generator.arendefields import placeholders

    handlaggare = {**VALID_ARENDE["handläggare"], field.split(".")[1]: placeholders()[key]}
    stopp = [f for f in make(handläggare=handlaggare) if f.severity == STOPP]
    assert [(f.code, f.field) for f in stopp] == [("platshallare", field)]
    assert "beslut new" in stopp[0].message and stopp[0].line is not None


def test_placeholder_in_rubrik_and_dimension_is_caught(make):
    findings = make(rubrik="[Skriv rubriken]",
                    dimensioner={**VALID_ARENDE["dimensioner"], "social": "XXX"})
    assert sorted(f.field for f in findings if f.code == "platshallare") == ["dimensioner.social", "rubrik"]
    assert "dimension-saknas" not in codes(findings), "a placeholder is reported once, as a placeholder"


# --- 4. personnummer ------------------------------------------------------------------------

_PNR_FORMS = {
    "ÅÅMMDD-NNNN": f"{PNR[:6]}-{PNR[6:]}",
    "ÅÅMMDDNNNN": PNR,
    "ÅÅÅÅMMDD-NNNN": f"19{PNR[:6]}-{PNR[6:]}",
    "ÅÅÅÅMMDDNNNN": f"19{PNR}",
    "ÅÅMMDD+NNNN": f"{PNR[:6]}+{PNR[6:]}",
}


@pytest.mark.parametrize("form", list(_PNR_FORMS))
def test_personnummer_in_every_form_is_stopp(make, form):
    findings = make(beskrivning=f"Anmälan gjordes av en anställd ({_PNR_FORMS[form]}) i maj.")
    stopp = [f for f in findings if f.severity == STOPP]
    assert [(f.code, f.field) for f in stopp] == [("personnummer", "beskrivning")]
    assert PNR[-4:] not in stopp[0].message, "the number is masked in the message"


def test_samordningsnummer_is_stopp(make):
    number = with_check_digit("811278987")  # day 18 + 60
    findings = make(beskrivning=f"Samordningsnummer {number[:6]}-{number[6:]}.")
    found = [f for f in findings if f.code == "personnummer"]
    assert len(found) == 1 and "samordningsnummer" in found[0].message


@pytest.mark.parametrize("text", [
    f"Fel kontrollsiffra: {PNR[:6]}-{wrong_check_digit(PNR)[6:]}.",
    f"Fel kontrollsiffra: 19{wrong_check_digit(PNR)}.",
    f"Inget datum: {with_check_digit('811332987')[:6]}-{with_check_digit('811332987')[6:]}.",
    f"Mobil {with_check_digit('070123456')}.",  # ten digits from 0: a telephone number
    f"Ring {PNR[:3]}-{PNR[3:6]} {PNR[6:8]} {PNR[8:]}.",
    "Organisationsnummer 556677-8899, diarienummer N123-0456/23 och 2023/811218-9876.",
])
def test_not_a_personnummer(make, text):
    assert "personnummer" not in codes(make(beskrivning=text))


def test_tillat_personnummer_allows_the_named_field_only(make):
    text = f"Anmälan gjordes av {_PNR_FORMS['ÅÅMMDD-NNNN']}."
    allowed = {"beskrivning": "Ärendet gäller en namngiven person och publiceras inte."}
    assert "personnummer" not in codes(make("a", beskrivning=text, **{"tillåt_personnummer": allowed}))
    found = make("b", beskrivning=text, sammanfattning=text, **{"tillåt_personnummer": allowed})
    assert [f.field for f in found if f.code == "personnummer"] == ["sammanfattning"]


def test_tillat_personnummer_must_name_a_text_field(tmp_path):
    data = {**VALID_ARENDE, "tillåt_personnummer": {"beskrivningen": "skäl"}}
    result = run("validate", write_arende(tmp_path / "a", data), "--organisationer", ORGANISATIONER)
    assert result.exit_code == 3
    assert "fält 'tillåt_personnummer'" in result.stderr and "inget textfält" in result.stderr


def test_finding_has_the_file_and_line_inside_a_block(tmp_path):
    text = yaml.safe_dump({k: v for k, v in VALID_ARENDE.items() if k != "beskrivning"},
                          allow_unicode=True, sort_keys=False)
    text += f"beskrivning: |\n  Första raden.\n\n  Tredje raden med {_PNR_FORMS['ÅÅMMDD-NNNN']}.\n"
    folder = write_arende(tmp_path / "a", text)
    (finding,) = [f for f in review_of(folder) if f.code == "personnummer"]
    lines = (folder / "arende.yaml").read_text(encoding="utf-8").splitlines()
    assert finding.file == folder / "arende.yaml"
    assert PNR[:6] in lines[finding.line - 1]


def test_finding_in_a_shared_arende_names_the_override_file(tmp_path):
    folder = tmp_path / "gemensamt"
    write_arende(folder, {k: v for k, v in VALID_ARENDE.items() if k != "organisation"})
    (folder / "organisationer").mkdir()
    (folder / "organisationer" / "liseberg.yaml").write_text(
        f"# Liseberg\nbedömning: Kontakt {_PNR_FORMS['ÅÅÅÅMMDD-NNNN']}.\n", encoding="utf-8")
    (folder / "organisationer" / "higab.yaml").write_text("bedömning: Higabs bedömning.\n", encoding="utf-8")
    result = run("review", folder, "--organisationer", ORGANISATIONER)
    assert result.exit_code == 8
    assert f"{folder / 'organisationer' / 'liseberg.yaml'}, rad 2:" in result.stdout
    assert result.stdout.count("ett personnummer (") == 1  # Higab's version has none


# --- 5. readability -------------------------------------------------------------------------


def test_lix_of_a_known_text():
    # 8 words, 2 sentences, 2 words of more than six letters (handlar, kommunen): 8/2 + 100*2/8
    assert lix("Vi läser en bok. Boken handlar om kommunen.") == (29, 8)
    assert lix("- Vi läser\n- en **bok** om [kommunen](https://goteborg.se)") == (round(6 / 2 + 100 / 6), 6)
    assert lix_label(29) == "mycket lätt" and lix_label(45) == "medelsvår" and lix_label(61) == "mycket svår"


def test_hard_sammanfattning_is_a_varning(make):
    hard = ("Förvaltningens ställningstagande beträffande verksamhetsutvecklingens genomförandeplanering "
            "innefattar omfattande organisationsförändringar, kompetensförsörjningsinsatser och "
            "digitaliseringsinitiativ inom samtliga förvaltningsområden.")
    found = [f for f in make(sammanfattning=hard) if f.code == "lix"]
    assert [(f.severity, f.field) for f in found] == [(VARNING, "sammanfattning")]
    assert "mycket svår" in found[0].message


def test_plain_sammanfattning_is_no_lix_varning(make):
    plain = "Nämnden får en ny plan. Den gäller i tre år. Vi vill att fler barn ska må bra. Planen kostar inget extra."
    assert "lix" not in codes(make(sammanfattning=plain))


def test_myndighetsord_are_varningar_with_alternatives(make):
    found = [f for f in make(beskrivning="Det är erforderligt att tillställa nämnden planen. "
                                          "Uppföljningen ankommer på förvaltningen.")
             if f.code == "myndighetsord"]
    assert [f.severity for f in found] == [VARNING] * 3
    assert "'nödvändig'" in found[0].message and "'skicka'" in found[1].message
    assert "'vara ansvarig för'" in found[2].message


def test_ordinary_words_are_no_myndighetsord():
    assert find_myndighetsord("En tillställning för ejdrar och inkomster i Tillsättningen.") == []


# --- 6. the gate and the watermark ----------------------------------------------------------


def test_check_publishable_refuses_stopp_unless_utkast():
    stopp = Finding(STOPP, "personnummer", "beskrivning", "ett personnummer", Path("a.yaml"), 3)
    varning = Finding(VARNING, "lix", "sammanfattning", "svår", Path("a.yaml"), 2)
    check_publishable([varning], utkast=False)
    check_publishable([stopp, varning], utkast=True)
    with pytest.raises(ReviewError) as e:
        check_publishable([stopp, varning], utkast=False)
    assert e.value.exit_code == 8
    assert "a.yaml, rad 3, fält 'beskrivning': ett personnummer" in e.value.message and "--utkast" in e.value.message


def test_watermark_goes_into_every_header():
    document = docx.Document()
    document.add_section()
    document.sections[1].different_first_page_header_footer = True
    add_watermark(document)
    first, second = document.sections
    assert WATERMARK_TEXT in first.header._element.xml
    assert WATERMARK_TEXT in second.first_page_header._element.xml
    assert second.header.is_linked_to_previous, "a linked header shows the first section's"


def test_build_refuses_a_personnummer_and_builds_it_as_utkast(tmp_path: Path):
    data = {**VALID_ARENDE, "beskrivning": f"Anmälan från {_PNR_FORMS['ÅÅMMDD-NNNN']}.\n\n" + "Mer text. " * 400}
    folder = write_arende(tmp_path / "pnr", data)
    out = tmp_path / "out"
    refused = run("build", folder, "--organisationer", ORGANISATIONER, "--out", out)
    assert refused.exit_code == 8, refused.output
    assert "stopp" in refused.stderr and "personnummer" in refused.stderr and "--utkast" in refused.stderr
    assert not out.exists(), "inget får skrivas"

    draft = run("build", folder, "--organisationer", ORGANISATIONER, "--out", out, "--utkast")
    assert draft.exit_code == 0, draft.output
    paper = out / "arenden" / "pnr" / "utkast" / "beslutsunderlag.pdf"
    pages = subprocess.run(["pdftotext", paper, "-"], capture_output=True, text=True, check=True).stdout.split("\f")
    pages = [p for p in pages if p.strip()]
    assert len(pages) >= 2
    assert all(p.count(WATERMARK_TEXT) == 1 for p in pages), "stamped once; the header text box is not converted"
    assert WATERMARK_TEXT in docx.Document(str(out / "arenden" / "pnr" / "utkast" / "beslutsunderlag.docx")).sections[0].header._element.xml
    for page in PdfReader(paper).pages:
        assert _marked_content_of(page, WATERMARK_TEXT) == ["/Artifact"]
        assert 0.5 < _text_angle(page, WATERMARK_TEXT) / 45 < 1.5, "diagonal, not horizontal"
        assert b"/MCID" not in page.get_contents().get_data().split(b"/Artifact", 1)[1].split(b"EMC", 1)[0]
    assert validate_pdf(paper, "2a") == [] and validate_pdf(paper, "ua1") == []
    bundle = subprocess.run(["pdftotext", out / "arenden" / "pnr" / "utkast" / "handlingar.pdf", "-"], capture_output=True, text=True,
                            check=True).stdout
    assert bundle.count(WATERMARK_TEXT) == len(pages)


def test_build_without_stopp_has_no_watermark(tmp_path: Path):
    out = tmp_path / "out"
    folder = write_arende(tmp_path / "ren", dict(VALID_ARENDE))
    result = run("render", folder, "--organisationer", ORGANISATIONER, "--out", out)
    assert result.exit_code == 0, result.output
    assert "Granskning: 0 stopp" in result.stderr
    header = docx.Document(str(out / "arenden" / "ren" / "beslutsunderlag.docx")).sections[0].header._element.xml
    assert WATERMARK_TEXT not in header


def _text_angle(page, text: str) -> float:
    """Return the angle in degrees (counter-clockwise) at which ``text`` is drawn on ``page``.

    pypdf reports text inside a Form XObject in the form's own space, so the matrix in
    force where the page draws the form (``Do``) is turned by as well.
    """
    angles, outer = [], [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]

    def before(op, args, cm, tm):
        if op == b"Do":
            outer[:] = cm

    def visit(t, cm, tm, font, size):
        if text in t:
            local = math.atan2(tm[0] * cm[1] + tm[1] * cm[3], tm[0] * cm[0] + tm[1] * cm[2])
            angles.append(math.degrees(local + math.atan2(outer[1], outer[0])))

    page.extract_text(visitor_operand_before=before, visitor_text=visit)
    assert angles, f"{text} not on the page"
    return angles[0]


def _marked_content_of(page, text: str) -> list[str]:
    """Return the marked-content tag around ``text`` on ``page`` (e.g. /Artifact)."""
    stack: list[str] = []
    found: list[str] = []

    def before(op, args, cm, tm):
        if op in (b"BMC", b"BDC"):
            stack.append(str(args[0]))
        elif op == b"EMC" and stack:
            stack.pop()

    def visit(t, cm, tm, font, size):
        if text in t:
            found.append(stack[0] if stack else "")

    page.extract_text(visitor_operand_before=before, visitor_text=visit)
    return found
