"""Omedelbar justering of one §: `omedelbart_justerad: ja` in protokoll.yaml.

The sample protokoll is copied with § 115 (the fourth point) declared omedelbart justerad
and the protokoll's justering put a month after today, then built once with the real
LibreOffice; the tests read the PDFs with pdftotext. The expediering is sent to a real
aiosmtpd server: before the justering only § 115 goes, and after it § 115 is not sent again.
The checks of the key run without LibreOffice.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from test_expediering import build_with_addresses, send, smtp  # noqa: F401 (fixture)
from test_minutes import copy_content, pdf_text, refused, sample_protokoll, write_yaml

from generator.expediering import REDAN, SKICKA, format_plan, plan_expediering
from generator.protokollcheck import load_protokoll
from generator.protokollet import PROTOKOLL_FILE

SAMPLE = "2023-10-forskolenamnden"
JUSTERING = date.today() + timedelta(days=30)
"""The whole protokoll is justerat later than today: only the omedelbart justerad § may go now."""


def omedelbar_data() -> dict:
    data = sample_protokoll()
    data["punkter"][3]["omedelbart_justerad"] = "ja"
    data["justering"]["datum"] = JUSTERING.isoformat()
    data.pop("anslag")
    return data


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """Return a root with content/ (registry with addresses) and out/ (the protokoll built)."""
    root = tmp_path_factory.mktemp("omedelbar")

    def omedelbar(data: dict) -> None:
        data.clear()
        data.update(omedelbar_data())

    output = build_with_addresses(root, omedelbar)
    assert re.search(r"§ 115 \([^)]+\) är omedelbart justerad 2023-10-24: anslaget sätts upp 2023-10-24; "
                     r"sista dag att överklaga är 2023-11-14\.", output), output
    return root


@pytest.fixture
def root(built: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(built, tmp_path / "root"))


def folder(root: Path) -> Path:
    return root / "out" / "sammantraden" / SAMPLE


@pytest.mark.slow
def test_the_protokoll_says_the_paragraph_is_omedelbart_justerad_with_its_own_dates(built):
    text = pdf_text(folder(built) / "protokoll.pdf")
    assert text.count("Paragrafen förklaras omedelbart justerad.") == 1
    # under § 115, before § 116 begins
    start = text.index("§ 115 Information")
    mark = text.index("Paragrafen förklaras omedelbart")
    end = text.index("§ 116 Tilldelningsbeslut")
    assert start < mark < end
    # the anslag: the protokoll's own justering, and § 115's from the meeting's day
    assert f"Datum för justering: {JUSTERING.isoformat()}" in text
    assert ("§ 115 förklarades omedelbart justerad vid sammanträdet 2023-10-24. Anslaget om den sätts upp "
            "2023-10-24 och tas ned 2023-11-15; sista dag att överklaga den är 2023-11-14.") in text


@pytest.mark.slow
def test_the_utdrag_of_the_paragraph_is_justerat_on_the_meeting_day(built):
    text = pdf_text(folder(built) / "protokollsutdrag-§115.pdf")
    assert "Paragrafen förklaras omedelbart justerad." in text
    assert "Paragrafen justerades omedelbart vid sammanträdet." in text
    assert "Datum för justering: 2023-10-24" in text
    assert "Datum då anslaget sätts upp: 2023-10-24" in text
    assert "Datum då anslaget tas ned: 2023-11-15" in text
    assert "Sista dag att överklaga (laglighetsprövning): 2023-11-14" in text
    assert "Rätt utdraget intygar Per Exempel Sekreterare, 2023-10-24" in text
    other = pdf_text(folder(built) / "protokollsutdrag-§116.pdf")
    assert "omedelbart" not in other and "Datum för justering" not in other
    assert f"Rätt utdraget intygar Per Exempel Sekreterare, {JUSTERING.isoformat()}" in other
    manifest = json.loads((folder(built) / "protokoll-manifest.json").read_text(encoding="utf-8"))
    flags = {p["paragraf"]: p.get("omedelbart_justerad") for p in manifest["paragrafer"]}
    assert flags[115] == "2023-10-24" and flags[116] is None


@pytest.mark.slow
def test_before_the_justering_only_the_omedelbart_justerad_paragraph_is_sent(root, smtp):  # noqa: F811
    dry = send(root)
    assert dry.exit_code == 0, dry.output
    assert "ks@example.org  § 115 (1 PDF, " in dry.output and "(omedelbart justerad)" in dry.output
    assert "inkop@example.org" not in dry.output
    assert f"Väntar på justeringen {JUSTERING.isoformat()}, skickas inte före den: § 116" in dry.output

    result = send(root, "--skarpt")
    assert result.exit_code == 0, result.output
    messages = smtp.messages()
    assert sorted(messages) == sorted(["registrator@gotalejon.example.com", "info@liseberg.example.com",
                                       "ks@example.org"])
    msg = messages["ks@example.org"]
    assert msg["Subject"] == "Protokollsutdrag: Förskolenämnden 2023-10-24, § 115 (omedelbart justerad)"
    body = msg.get_body(preferencelist=("plain",)).get_content()
    assert "Paragrafen förklarades omedelbart justerad vid sammanträdet 2023-10-24." in body
    assert [a.get_filename() for a in msg.iter_attachments()] == [
        "Protokollsutdrag Förskolenämnden 2023-10-24 § 115.pdf"]
    log = json.loads((folder(root) / "expediering-logg.json").read_text(encoding="utf-8"))["mottagare"]
    assert log["kommunstyrelsen:omedelbart"]["status"] == "skickat"
    assert "namnden-for-inkop-och-upphandling" not in log

    # on the justering's day the rest goes, and § 115 is not sent again
    content = root / "content"
    plan = plan_expediering(content / "sammantraden" / SAMPLE, content / "organisationer.yaml", root / "out",
                            today=JUSTERING)
    actions = {(d.org.id, d.omedelbart): (d.action, [p.nummer for p in d.paragrafer]) for d in plan.deliveries}
    assert actions[("kommunstyrelsen", True)] == (REDAN, [115])
    assert actions[("namnden-for-inkop-och-upphandling", False)] == (SKICKA, [116])
    assert not plan.waiting
    assert not any("Väntar på justeringen" in line for line in format_plan(plan, None, "ingen"))


# --- the checks ----------------------------------------------------------------------------


@pytest.fixture
def meeting(tmp_path):
    content = copy_content(tmp_path)
    return content / "sammantraden" / SAMPLE, content / "organisationer.yaml"


def test_omedelbart_justerad_takes_ja_or_nej(meeting):
    folder_, registry = meeting
    data = omedelbar_data()
    data["punkter"][4]["omedelbart_justerad"] = "Nej"
    write_yaml(folder_ / PROTOKOLL_FILE, data)
    loaded = load_protokoll(folder_, registry)
    assert [p.nummer for p in loaded.omedelbart_justerade] == [115]
    assert loaded.justerad(loaded.paragrafer[3]) == date(2023, 10, 24)
    assert loaded.justerad(loaded.paragrafer[4]) == JUSTERING
    assert loaded.anslag_for(loaded.paragrafer[3]).sista_dag == date(2023, 11, 14)


def test_a_bad_value_is_refused_at_its_line(meeting):
    error = refused(meeting, lambda d: d["punkter"][3].update(omedelbart_justerad="kanske"))
    match = [e for e in error.located() if "Skriv 'ja' eller 'nej'" in e.message]
    assert match, error.format()
    assert match[0].field == "punkter[4].omedelbart_justerad"
    assert match[0].file == meeting[0] / PROTOKOLL_FILE
    lines = (meeting[0] / PROTOKOLL_FILE).read_text(encoding="utf-8").splitlines()
    assert "omedelbart_justerad: kanske" in lines[match[0].line - 1]


def test_a_paragraph_without_beslut_cannot_be_omedelbart_justerad(meeting):
    error = refused(meeting, lambda d: d["punkter"][0].update(omedelbart_justerad="ja"))
    match = [e for e in error.located() if "kan inte förklaras omedelbart justerad" in e.message]
    assert match, error.format()
    assert match[0].field == "punkter[1].omedelbart_justerad" and match[0].line
