"""beslut minutes: the protokoll and its protokollsutdrag, the checks before them, the § series.

The sample sammanträde (content/sammantraden/2023-10-forskolenamnden, with its protokoll:
one vote, one reservation, one protokollsanteckning, one jäv, one § expedierad to all
bolag) is copied into tmp_path and built once with the real LibreOffice; the tests read
the PDFs as a reader would (pdftotext) and compare them with the YAML. The refusals and
the § numbering are checked on changed copies of the YAML, without LibreOffice.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import REPO, assert_opens_in_word

from generator.cli import main
from generator.conformance import validate_pdf
from generator.errors import ContentError
from generator.protokollcheck import load_protokoll
from generator.protokollet import PROTOKOLL_FILE

SAMPLE = REPO / "content" / "sammantraden" / "2023-10-forskolenamnden"


def copy_content(root: Path) -> Path:
    """Copy the sample content (registry, ärenden, sammanträden) into ``root``; return content/."""
    content = root / "content"
    content.mkdir(parents=True)
    shutil.copy(REPO / "content" / "organisationer.yaml", content / "organisationer.yaml")
    for name in ("arenden", "sammantraden"):
        shutil.copytree(REPO / "content" / name, content / name)
    return content


def sample_protokoll() -> dict:
    return yaml.safe_load((SAMPLE / PROTOKOLL_FILE).read_text(encoding="utf-8"))


def write_yaml(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def pdf_text(path: Path) -> str:
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True, text=True).stdout
    return re.sub(r"\s+", " ", text)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Build the sample's protokoll through the CLI; return (out folder, CLI output, YAML)."""
    root = tmp_path_factory.mktemp("minutes")
    content = copy_content(root)
    meeting = content / "sammantraden" / SAMPLE.name
    result = CliRunner().invoke(main, ["minutes", str(meeting), "--organisationer",
                                       str(content / "organisationer.yaml"), "--out", str(root / "out")])
    assert result.exit_code == 0, result.output
    return root / "out" / "sammantraden" / SAMPLE.name, result.output, sample_protokoll()


# --- the protokoll and the utdrag ----------------------------------------------------------


def test_every_point_is_a_paragraph_in_the_order_of_the_yaml(built):
    folder, _, data = built
    text = pdf_text(folder / "protokoll.pdf")
    first = data["första_paragraf"]
    rubriker = ["Mötets öppnande", "Val av justerare", "Fastställande av dagordning",
                "Information om handlingsplaner", "Tilldelningsbeslut i upphandling av lokalvård",
                "Anmälningsärenden", "Delegationsbeslut", "Information", "Övriga frågor"]
    assert len(rubriker) == len(data["punkter"])
    positions = [text.index(f"§ {first + i} {rubrik}") for i, rubrik in enumerate(rubriker)]
    assert positions == sorted(positions)
    assert f"§§ {first}–{first + len(rubriker) - 1}" in text


def test_the_protokoll_says_what_the_yaml_says(built):
    folder, _, data = built
    text = pdf_text(folder / "protokoll.pdf")
    # the heading block: who was present and who justerar
    for person in (*data["närvarande"]["ledamöter"], *data["närvarande"]["tjänstgörande_ersättare"],
                   *data["närvarande"]["ersättare"], *data["närvarande"]["övriga"]):
        assert person in text
    assert "Justerare: Olof Exempel (M)" in text
    assert "Förskoleförvaltningen, Gårdavägen 2, 2023-10-31" in text
    # every beslut written in the YAML, and the förslag of the ärenden decided "enligt förslag"
    for punkt in data["punkter"]:
        for beslut in punkt.get("beslut", []) if isinstance(punkt.get("beslut"), list) else []:
            assert beslut in text
    assert text.count("Förskolenämnden beslutar i enlighet med förvaltningens förslag:") == 2
    assert "Förskolenämnden tilldelar kontraktet för lokalvård" in text
    # the § with the vote, jäv, yrkanden and the reservation
    lokalvard = text[text.index("§ 116 Tilldelningsbeslut"):text.index("§ 117 Anmälningsärenden")]
    assert "Diarienummer FSN 2023-01234" in lokalvard
    assert "Tjänsteutlåtande 2023-10-05, Tilldelningsbeslut" in lokalvard
    assert "Bilaga 1: Sammanställning av anbud" in lokalvard
    assert "Sara Exempel (V) anmäler jäv och deltar inte" in lokalvard
    assert "Fatima Exempel (M) tjänstgör i stället" in lokalvard
    assert "Olof Exempel (M): Ärendet återremitteras" in lokalvard
    assert "Ordföranden frågar först om ärendet ska avgöras i dag" in lokalvard
    assert "3 ja-röster, 2 nej-röster och 0 som avstår" in lokalvard
    for who, vote in data["punkter"][4]["omröstning"]["röster"].items():
        assert f"{who} {vote.capitalize()}" in lokalvard
    assert "Sara Exempel (V) Ja" not in lokalvard and "Sara Exempel (V) Nej" not in lokalvard
    assert "Olof Exempel (M) reserverar sig mot beslutet: Till förmån för eget yrkande" in lokalvard
    assert "Nämnden för inköp och upphandling" in lokalvard
    # the protokollsanteckning and the § expedierad to all bolag
    handlingsplaner = text[text.index("§ 115 Information"):text.index("§ 116 Tilldelningsbeslut")]
    assert "Ali Exempel (L): Liberalerna vill" in handlingsplaner
    registry = yaml.safe_load((REPO / "content" / "organisationer.yaml").read_text(encoding="utf-8"))
    recipients = handlingsplaner.split("Expedieras till", 1)[1]
    for org in registry["organisationer"]:
        if org["id"] == "forskolenamnden":
            continue  # the meeting's own name is in every footer
        assert (org["namn"] in recipients) == (org["typ"] == "bolag" or org["id"] == "kommunstyrelsen"), org["namn"]


def test_the_signatures_and_the_anslag_come_last(built):
    folder, output, _ = built
    text = pdf_text(folder / "protokoll.pdf")
    tail = text[text.index("Underskrifter"):]
    assert "§ 1" not in tail.split("Paragrafer")[0]
    for line in ("Per Exempel Sekreterare", "Eva Exempel (S) Ordförande", "Olof Exempel (M) Justerare",
                 "Datum för justering: 2023-10-31", "Datum då anslaget sätts upp: 2023-10-31",
                 "Sista dag att överklaga (laglighetsprövning): 2023-11-21",
                 "Datum då anslaget tas ned: 2023-11-22",
                 "Förvaringsplats för protokollet: Förskoleförvaltningen, Gårdavägen 2"):
        assert line in tail
    assert "3 ja, 2 nej, 0 avstår" in output
    assert "sista dag att överklaga är 2023-11-21" in output


def test_each_utdrag_is_its_paragraph_certified_with_its_recipients(built):
    folder, _, data = built
    first = data["första_paragraf"]
    for index, punkt in enumerate(data["punkter"]):
        nummer = first + index
        text = pdf_text(folder / f"protokollsutdrag-§{nummer}.pdf")
        assert "Protokollsutdrag" in text
        assert re.search(rf"§ {nummer} \w", text)
        others = [n for n in range(first, first + len(data["punkter"])) if n != nummer]
        assert not any(re.search(rf"§ {n} \w", text) for n in others)
        assert "Rätt utdraget intygar Per Exempel Sekreterare, 2023-10-31" in text
        assert ("Expedieras till" in text) == bool(punkt.get("expedieras"))
        assert "Anslag om justering" not in text and "Närvarande" not in text
    utdrag = pdf_text(folder / f"protokollsutdrag-§{first + 3}.pdf")
    assert "Göteborgs Stadshus AB" in utdrag and "Ali Exempel (L): Liberalerna" in utdrag


def test_the_pdfs_pass_pdfa_2a_and_pdfua_1_and_the_docx_opens_in_word(built):
    folder, output, _ = built
    for name in ("protokoll", "protokollsutdrag-§116"):
        assert validate_pdf(folder / f"{name}.pdf", "2a") == []
        assert validate_pdf(folder / f"{name}.pdf", "ua1") == []
        assert_opens_in_word(folder / f"{name}.docx")
    assert "PDF/A-2a och PDF/UA-1 enligt kontrollen: 10 av 10 PDF-filer." in output


# --- the checks before anything is written -------------------------------------------------


@pytest.fixture
def meeting(tmp_path):
    """Return (meeting folder, registry) of a fresh copy of the sample content."""
    content = copy_content(tmp_path)
    return content / "sammantraden" / SAMPLE.name, content / "organisationer.yaml"


def refused(meeting, change) -> ContentError:
    folder, registry = meeting
    data = sample_protokoll()
    change(data)
    write_yaml(folder / PROTOKOLL_FILE, data)
    with pytest.raises(ContentError) as info:
        load_protokoll(folder, registry)
    return info.value


def vote(data) -> dict:
    return data["punkter"][4]["omröstning"]


def test_the_unchanged_sample_passes(meeting):
    loaded = load_protokoll(*meeting)
    assert [p.nummer for p in loaded.paragrafer] == list(range(112, 121))
    assert loaded.paragrafer[4].rakning.summary() == "3 ja, 2 nej, 0 avstår"


@pytest.mark.parametrize(("change", "expected", "field"), [
    (lambda d: d["punkter"][3].pop("beslut"), "ärendet har inget beslut", "punkter[4]"),
    (lambda d: d["punkter"][3].update(beslut=[]), "ärendet har inget beslut", "punkter[4]"),
    (lambda d: vote(d)["röster"].update({"Eva Exempel": "nej"}), "röstar två gånger",
     "punkter[5].omröstning.röster.Eva Exempel"),
    (lambda d: vote(d)["röster"].pop("Ali Exempel (L)"), "Ali Exempel (L) tjänstgör men har ingen röst",
     "punkter[5].omröstning.röster"),
    (lambda d: vote(d)["röster"].update({"Lena Exempel (SD)": "ja"}), "tjänstgör inte i paragrafen och kan inte rösta",
     "punkter[5].omröstning.röster.Lena Exempel (SD)"),
    (lambda d: vote(d).update(utfall="nej"), "rösterna (3 ja, 2 nej, 0 avstår) ger ja", "punkter[5].omröstning.utfall"),
    (lambda d: vote(d)["röster"].update({"Ali Exempel (L)": "nej"}), "ger nej, men utfallet är skrivet som ja",
     "punkter[5].omröstning.utfall"),
    (lambda d: vote(d)["röster"].update({"Ali Exempel (L)": "avstår"}),
     "omröstningen slutade lika (2 ja, 2 nej, 1 avstår). Ordföranden har utslagsröst",
     "punkter[5].omröstning"),
    (lambda d: vote(d)["röster"].update({"Sara Exempel (V)": "ja"}),
     "har anmält jäv i paragrafen och får inte rösta", "punkter[5].omröstning.röster.Sara Exempel (V)"),
    (lambda d: d["punkter"][4]["yrkanden"].append({"av": "Sara Exempel (V)", "yrkande": "Avslag."}),
     "Sara Exempel (V)' har anmält jäv i paragrafen och deltar inte", "punkter[5].yrkanden[3].av"),
    (lambda d: d["punkter"][4]["reservationer"].append({"av": "Sara Exempel (V)"}),
     "har anmält jäv", "punkter[5].reservationer[2].av"),
    (lambda d: d["punkter"][3].update(reservationer=[{"av": "Fatima Exempel (M)"}]),
     "tjänstgör inte i paragrafen, så en reservation", "punkter[4].reservationer[1].av"),
    (lambda d: (vote(d)["röster"].update({"Ali Exempel (L)": "avstår", "Jonas Exempel (S)": "ja"}),
                d["punkter"][4]["reservationer"].append({"av": "Ali Exempel (L)"})),
     "avstod från att rösta och deltog alltså inte i beslutet", "punkter[5].reservationer[2].av"),
    (lambda d: d.update(justerare=["Fatima Exempel (M)"]), "justeraren 'Fatima Exempel (M)' är inte tjänstgörande",
     "justerare[1]"),
    (lambda d: d.update(anslag={"uppsatt": "2023-10-30"}), "anslaget (2023-10-30) kan inte sättas upp före "
     "justeringen (2023-10-31)", "anslag.uppsatt"),
])
def test_a_protokoll_that_breaks_a_rule_is_refused_at_its_line(meeting, change, expected, field):
    error = refused(meeting, change)
    located = error.located()
    match = [e for e in located if expected in e.message]
    assert match, error.format()
    assert match[0].field == field
    assert match[0].file == meeting[0] / PROTOKOLL_FILE and match[0].line


def test_a_tie_is_decided_by_the_chairs_casting_vote(meeting):
    folder, registry = meeting
    data = sample_protokoll()
    vote(data)["röster"].update({"Ali Exempel (L)": "avstår"})
    vote(data)["utslagsröst"] = "ja"
    write_yaml(folder / PROTOKOLL_FILE, data)
    assert load_protokoll(folder, registry).paragrafer[4].rakning.summary() == "2 ja, 2 nej, 1 avstår"
    vote(data)["utslagsröst"] = "nej"
    write_yaml(folder / PROTOKOLL_FILE, data)
    with pytest.raises(ContentError, match="ordföranden röstade ja men utslagsrösten är nej"):
        load_protokoll(folder, registry)


def test_an_anslag_later_than_the_second_day_after_the_justering_is_a_warning(meeting):
    from generator.minutes import late_anslag

    folder, registry = meeting
    assert late_anslag(load_protokoll(folder, registry)) is None
    data = sample_protokoll()
    data["anslag"]["uppsatt"] = "2023-11-03"
    write_yaml(folder / PROTOKOLL_FILE, data)
    loaded = load_protokoll(folder, registry)
    assert loaded.anslag.sista_dag.isoformat() == "2023-11-24"
    assert "mer än två dagar efter justeringen (2023-10-31)" in late_anslag(loaded)


def test_a_member_who_left_takes_no_part_in_the_paragraph(meeting):
    folder, registry = meeting
    data = sample_protokoll()
    data["punkter"][4]["frånvarande"] = [{"namn": "Ali Exempel (L)"}]
    write_yaml(folder / PROTOKOLL_FILE, data)
    with pytest.raises(ContentError, match="'Ali Exempel \\(L\\)' tjänstgör inte i paragrafen och kan inte rösta"):
        load_protokoll(folder, registry)
    del vote(data)["röster"]["Ali Exempel (L)"]
    vote(data)["utslagsröst"] = "ja"
    write_yaml(folder / PROTOKOLL_FILE, data)
    paragraf = load_protokoll(folder, registry).paragrafer[4]
    assert paragraf.rakning.summary() == "2 ja, 2 nej, 0 avstår"
    assert "Ali Exempel (L)" not in paragraf.tjanstgorande


def test_the_cli_refuses_with_exit_3_and_writes_nothing(meeting, tmp_path):
    folder, registry = meeting
    data = sample_protokoll()
    data["punkter"][3].pop("beslut")
    write_yaml(folder / PROTOKOLL_FILE, data)
    result = CliRunner().invoke(main, ["minutes", str(folder), "--organisationer", str(registry),
                                       "--out", str(tmp_path / "out")])
    assert result.exit_code == 3
    assert "protokoll.yaml, rad" in result.output and "ärendet har inget beslut" in result.output
    assert not (tmp_path / "out" / "sammantraden").exists()


def test_a_personnummer_in_the_protokoll_stops_the_build_and_the_review(meeting, tmp_path):
    folder, registry = meeting
    data = sample_protokoll()
    data["punkter"][3]["protokollsanteckningar"][0]["text"] = "Gäller barnet 20171210-0005."
    write_yaml(folder / PROTOKOLL_FILE, data)
    result = CliRunner().invoke(main, ["minutes", str(folder), "--organisationer", str(registry),
                                       "--out", str(tmp_path / "out")])
    assert result.exit_code == 8, result.output
    assert "personnummer" in result.output and "20171210-****" in result.output
    assert not (tmp_path / "out" / "sammantraden").exists()
    review = CliRunner().invoke(main, ["review", str(folder), "--organisationer", str(registry)])
    assert review.exit_code == 8
    assert "§ 115.protokollsanteckningar[1]" in review.output


# --- § numbers through the year ------------------------------------------------------------


def second_meeting(meeting, *, datum: str = "2023-11-21", forsta: int | None = None,
                   protokoll: bool = True) -> Path:
    """Add a second Förskolenämnden meeting (three points) beside the sample; return it."""
    folder, _ = meeting
    other = folder.parent / f"{datum[:7]}-forskolenamnden"
    other.mkdir()
    sammantrade = yaml.safe_load((folder / "sammantrade.yaml").read_text(encoding="utf-8"))
    sammantrade.update(datum=datum, kallelsedatum="2023-11-10" if datum.startswith("2023") else "2024-01-10",
                       punkter=[{"punkt": "Mötets öppnande"}, {"punkt": "Val av justerare"},
                                {"ärende": "2023-10-lokalvard", "föredragande": "Karin Exempel, upphandlare"}])
    write_yaml(other / "sammantrade.yaml", sammantrade)
    if protokoll:
        data = sample_protokoll()
        data.pop("första_paragraf")
        if forsta is not None:
            data["första_paragraf"] = forsta
        data["justering"]["datum"] = datum
        data["anslag"]["uppsatt"] = datum
        data["punkter"] = [{"punkt": "Mötets öppnande"},
                           {"punkt": "Val av justerare", "beslut": ["Nämnden utser Olof Exempel (M)."]},
                           {"ärende": "2023-10-lokalvard", "beslut": "enligt förslag"}]
        write_yaml(other / PROTOKOLL_FILE, data)
    return other


def test_the_next_protokoll_of_the_year_continues_the_series(meeting):
    other = second_meeting(meeting)
    loaded = load_protokoll(other, meeting[1])
    assert [p.nummer for p in loaded.paragrafer] == [121, 122, 123]
    assert loaded.paragraf_range == "§§ 121–123"
    # stating the right number is fine too
    third = second_meeting(meeting, datum="2023-12-12", forsta=124)
    assert load_protokoll(third, meeting[1]).paragrafer[0].nummer == 124


def test_a_gap_in_the_series_is_refused_naming_both_protokoll(meeting):
    other = second_meeting(meeting, forsta=125)
    with pytest.raises(ContentError) as info:
        load_protokoll(other, meeting[1])
    message = info.value.format()
    assert "lucka: § 121–124" in message
    assert str(meeting[0] / PROTOKOLL_FILE) in message and str(other / PROTOKOLL_FILE) in message
    assert "slutar med § 120" in message and "rad " in message


def test_a_repeated_paragraph_is_refused_naming_both_protokoll(meeting):
    other = second_meeting(meeting, forsta=119)
    with pytest.raises(ContentError) as info:
        load_protokoll(other, meeting[1])
    message = info.value.format()
    assert "dubblett: § 119–120 finns redan i protokollet från 2023-10-24" in message
    assert str(meeting[0] / PROTOKOLL_FILE) in message and str(other / PROTOKOLL_FILE) in message


def test_an_earlier_meeting_without_protokoll_is_named(meeting):
    folder, registry = meeting
    second_meeting(meeting, datum="2023-09-19", protokoll=False)
    data = sample_protokoll()
    data.pop("första_paragraf")
    write_yaml(folder / PROTOKOLL_FILE, data)
    with pytest.raises(ContentError, match="tidigare sammanträde 2023-09-19 .* utan protokoll"):
        load_protokoll(folder, registry)


def test_a_new_year_starts_at_the_registrys_first_paragraph(meeting):
    other = second_meeting(meeting, datum="2024-01-23")
    assert load_protokoll(other, meeting[1]).paragrafer[0].nummer == 1
    registry = meeting[1]
    text = registry.read_text(encoding="utf-8").replace(
        "{id: forskolenamnden, namn: Förskolenämnden, typ: nämnd, förvaltning: Förskoleförvaltningen}",
        "{id: forskolenamnden, namn: Förskolenämnden, typ: nämnd, förvaltning: Förskoleförvaltningen, "
        "första_paragraf: 1001}")
    registry.write_text(text, encoding="utf-8")
    assert load_protokoll(other, registry).paragrafer[0].nummer == 1001


# --- a new protokoll -----------------------------------------------------------------------


def test_beslut_new_protokoll_fills_in_every_forslag(meeting):
    folder, registry = meeting
    (folder / PROTOKOLL_FILE).unlink()
    result = CliRunner().invoke(main, ["new", str(folder), "--protokoll", "--organisationer", str(registry)])
    assert result.exit_code == 0, result.output
    written = (folder / PROTOKOLL_FILE).read_text(encoding="utf-8")
    assert "Förskolenämnden tilldelar kontraktet för lokalvård" in written
    assert "Förskolenämnden antecknar information om handlingsplaner" in written
    assert "# Tjänstgörande ledamöter" in written
    with pytest.raises(ContentError, match="fyll i justeraren"):
        load_protokoll(folder, registry)
    (folder / PROTOKOLL_FILE).write_text(written.replace('- "[Namn Efternamn (parti)]"', '- "Olof Exempel (M)"'),
                                         encoding="utf-8")
    loaded = load_protokoll(folder, registry)
    assert loaded.paragrafer[4].enligt_forslag and loaded.paragrafer[0].nummer == 1
    again = CliRunner().invoke(main, ["new", str(folder), "--protokoll", "--organisationer", str(registry)])
    assert again.exit_code == 3 and "finns redan" in again.output


# --- the template --------------------------------------------------------------------------


def test_beslut_templates_names_an_unknown_variable_in_the_protokoll_template(tmp_path):
    import docx

    folder = Path(shutil.copytree(REPO / "templates" / "docx", tmp_path / "mallar"))
    document = docx.Document(str(folder / "protokoll.docx"))
    document.add_paragraph("{{ okand_variabel }}")
    document.save(str(folder / "protokoll.docx"))
    result = CliRunner().invoke(main, ["templates", str(folder)])
    assert result.exit_code == 4
    assert "protokoll.docx" in result.output and "okand_variabel" in result.output
    assert "beslutsunderlag.docx:" not in result.output


def test_a_missing_protokoll_template_is_exit_4(meeting, tmp_path):
    folder, registry = meeting
    templates = Path(shutil.copytree(REPO / "templates" / "docx", tmp_path / "mallar"))
    (templates / "protokoll.docx").unlink()
    result = CliRunner().invoke(main, ["minutes", str(folder), "--organisationer", str(registry),
                                       "--out", str(tmp_path / "out"), "--mallar", str(templates)])
    assert result.exit_code == 4 and "mallen för protokollet saknas" in result.output


def test_a_sammantrade_without_protokoll_says_how_to_make_one(meeting, tmp_path):
    folder, registry = meeting
    (folder / PROTOKOLL_FILE).unlink()
    result = CliRunner().invoke(main, ["minutes", str(folder), "--organisationer", str(registry),
                                       "--out", str(tmp_path / "out")])
    assert result.exit_code == 3
    assert "inget protokoll ännu" in result.output and "--protokoll" in result.output


def test_review_of_a_sammantrade_covers_its_arenden_and_the_protokoll(meeting):
    import json

    folder, registry = meeting
    data = sample_protokoll()
    data["punkter"][8]["text"] = "Inga övriga frågor anmäls. [Namn]"
    write_yaml(folder / PROTOKOLL_FILE, data)
    result = CliRunner().invoke(main, ["review", str(folder), "--organisationer", str(registry), "--json"])
    assert result.exit_code == 8
    report = json.loads(result.output)
    assert {Path(a["källa"]).parent.name for a in report["ärenden"]} >= {"2023-10-lokalvard"}
    fynd = report["protokoll"]["fynd"]
    assert [(f["kod"], f["fält"]) for f in fynd if f["nivå"] == "stopp"] == [("platshallare", "§ 120.text")]
    assert fynd[0]["rad"] and fynd[0]["fil"].endswith("protokoll.yaml")
