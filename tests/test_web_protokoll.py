"""The protokoll page of ``beslut web``: create the protokoll, fill in a vote, build, download, expediering.

A real server on 127.0.0.1 over a copy of the sample content (the sammanträde of
Förskolenämnden without its protokoll), driven by Debian's chromium through Playwright.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from axe_playwright_python.sync_playwright import Axe
from conftest import REPO
from playwright.sync_api import expect
from webhelpers import browser, page, serve  # noqa: F401 (fixtures)

from generator.web.app import WebConfig

CHROMIUM = "/usr/bin/chromium"
NAMN = "2023-10-forskolenamnden"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("web-protokoll")
    content = Path(shutil.copytree(REPO / "content", root / "content"))
    (content / "sammantraden" / NAMN / "protokoll.yaml").unlink()
    config = WebConfig(content=content, organisationer=content / "organisationer.yaml", out=root / "out")
    with serve(config) as site:
        yield site


def saved(site) -> dict:
    return yaml.safe_load((site.content / "sammantraden" / NAMN / "protokoll.yaml").read_text(encoding="utf-8"))


def test_create_fill_in_a_vote_build_and_download_the_protokoll(site, page, tmp_path):
    page.goto(f"{site.url}/sammantrade/{NAMN}")
    page.get_by_role("link", name="Protokoll, protokollsutdrag och expediering").click()
    page.get_by_role("button", name="Skapa protokollet").click()
    expect(page.get_by_role("status")).to_have_text("Protokollet skapades med förslagen till beslut ifyllda.")
    # the beslut of the ärende is prefilled from the förslag
    expect(page.get_by_label("Beslut, punkt 5")).to_have_value(re.compile("Förskolenämnden tilldelar kontraktet"))
    assert Axe().run(page).violations_count == 0
    file = site.content / "sammantraden" / NAMN / "protokoll.yaml"
    comments = [line.strip() for line in file.read_text(encoding="utf-8").splitlines() if line.strip().startswith("#")]
    assert len(comments) > 3  # the new file explains its fields

    # who was there and who justerar; the placeholders of the new file filled in
    page.get_by_label("Tjänstgörande ledamöter").fill(
        "Eva Exempel (S), ordförande\nOlof Exempel (M)\nSara Exempel (V)\nAli Exempel (L)")
    page.get_by_label("Tjänstgörande ersättare").fill("Jonas Exempel (S), ersätter Lena Exempel (SD)")
    page.get_by_label("Närvarande ersättare som inte tjänstgör").fill("Fatima Exempel (M)")
    page.get_by_label("Justerare").fill("Olof Exempel (M)")
    page.get_by_label("Beslut, punkt 2").fill("Förskolenämnden utser Olof Exempel (M) att justera protokollet.")
    page.get_by_label("Text, punkt 9").fill("Inga övriga frågor anmäls.")
    page.get_by_label("Yrkanden, punkt 5").fill("Olof Exempel (M): Återremiss.")
    page.get_by_label("Omröstning hölls i punkt 5").check()
    page.get_by_label("Ja-röst för, punkt 5").fill("Ärendet avgörs i dag.")
    page.get_by_label("Nej-röst för, punkt 5").fill("Ärendet återremitteras.")
    page.get_by_label("Reservationer, punkt 5").fill("Olof Exempel (M): Till förmån för eget yrkande.")
    page.get_by_label("Expedieras till, punkt 4").fill("alla bolag")
    page.get_by_label("Paragrafen förklaras omedelbart justerad, punkt 4").check()
    page.get_by_role("button", name="Spara protokollet").click()
    expect(page.get_by_role("status")).to_have_text("Protokollet sparades.")

    # the vote: a table of the § 's serving members (the saved närvarande), by keyboard-usable radios
    expect(page.get_by_role("table", name="Röster i punkt 5 (tjänstgörande i paragrafen)")).to_be_visible()
    for who, vote in (("Eva Exempel (S)", "ja"), ("Olof Exempel (M)", "nej"), ("Sara Exempel (V)", "ja"),
                      ("Ali Exempel (L)", "avstår"), ("Jonas Exempel (S)", "ja")):
        page.get_by_label(f"Punkt 5, {who}: {vote}").check()
    page.get_by_role("button", name="Spara protokollet").click()
    expect(page.get_by_role("status")).to_have_text("Protokollet sparades.")
    data = saved(site)
    vote = data["punkter"][4]["omröstning"]
    assert vote["röster"] == {"Eva Exempel (S)": "ja", "Olof Exempel (M)": "nej", "Sara Exempel (V)": "ja",
                              "Ali Exempel (L)": "avstår", "Jonas Exempel (S)": "ja"}
    assert vote["utfall"] == "ja" and data["punkter"][4]["beslut"] == "enligt förslag"
    assert data["punkter"][4]["reservationer"] == [{"av": "Olof Exempel (M)", "text": "Till förmån för eget yrkande."}]
    assert data["punkter"][3]["omedelbart_justerad"] == "ja" and "omedelbart_justerad" not in data["punkter"][4]
    expect(page.get_by_label("Paragrafen förklaras omedelbart justerad, punkt 4")).to_be_checked()
    expect(page.get_by_role("region", name=re.compile("Protokollet har"))).to_have_count(0)
    # the saves wrote only what changed: the file's comments are all still there
    kept = [line.strip() for line in file.read_text(encoding="utf-8").splitlines() if line.strip().startswith("#")]
    assert kept == comments
    assert Axe().run(page).violations_count == 0

    # build, follow the job, download the protokoll
    page.get_by_role("button", name="Skapa protokoll och utdrag").click()
    expect(page).to_have_url(re.compile(r"/jobb/"))
    expect(page.get_by_text("Klart.")).to_be_visible(timeout=600_000)
    with page.expect_download() as info:
        page.get_by_role("link", name="protokoll.pdf", exact=True).click()
    info.value.save_as(tmp_path / "protokoll.pdf")
    text = " ".join(subprocess.run(["pdftotext", str(tmp_path / "protokoll.pdf"), "-"], capture_output=True,
                                   text=True, check=True).stdout.split())
    assert "3 ja-röster, 1 nej-röster och 1 som avstår" in text
    assert "Olof Exempel (M) reserverar sig mot beslutet" in text
    assert text.count("Paragrafen förklaras omedelbart justerad.") == 1

    # the protokoll page now shows the downloads and the expediering's dry run
    page.goto(f"{site.url}/sammantrade/{NAMN}/protokoll")
    expect(page.get_by_role("link", name="protokollsutdrag-§4.pdf")).to_be_visible()
    expect(page.locator("pre.plan")).to_contain_text("Göteborg Energi AB  § 4  (ingen 'e-post' i registret)")


def test_a_vote_that_does_not_add_up_is_listed_on_the_page(site, page):
    page.goto(f"{site.url}/sammantrade/{NAMN}/protokoll")
    for who in ("Eva Exempel (S)", "Sara Exempel (V)", "Jonas Exempel (S)", "Ali Exempel (L)"):
        page.get_by_label(f"Punkt 5, {who}: nej").check()
    page.get_by_label("Punkt 5, Olof Exempel (M): ja").check()
    page.get_by_role("button", name="Spara protokollet").click()
    summary = page.get_by_role("region", name=re.compile(r"Protokollet har \d+ fel"))
    expect(summary).to_contain_text("rösterna (1 ja, 4 nej, 0 avstår) ger nej, men utfallet är skrivet som ja")
    page.get_by_role("button", name="Skapa protokoll och utdrag").click()
    expect(page.get_by_role("alert")).to_contain_text("Rätta felen nedan innan du skapar protokollet.")


def test_a_protokoll_out_of_step_with_the_meeting_names_the_file_without_a_server_path(site, page):
    """Points moved in the föredragningslista after the protokoll was made: the message names
    sammantrade.yaml as the page shows files, never the server's folder (``config.scrub``)."""
    meeting = site.content / "sammantraden" / NAMN / "sammantrade.yaml"
    before = meeting.read_text(encoding="utf-8")
    data = yaml.safe_load(before)
    data["punkter"][3], data["punkter"][4] = data["punkter"][4], data["punkter"][3]
    meeting.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    try:
        page.goto(f"{site.url}/sammantrade/{NAMN}/protokoll")
        page.get_by_role("button", name="Skapa protokoll och utdrag").click()
        summary = page.get_by_role("region", name=re.compile(r"Protokollet har \d+ fel"))
        expect(summary).to_contain_text("Punkterna ska komma i samma ordning som i föredragningslistan")
        expect(summary).to_contain_text("sammantrade.yaml, punkt 4")
        assert str(site.content) not in page.content() and str(site.content.resolve()) not in page.content()
    finally:
        meeting.write_text(before, encoding="utf-8")
