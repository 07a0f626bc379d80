"""Sammanträden in ``beslut web``: create, add ärenden, order by keyboard, mark utelämnad, build, download.

A real server on 127.0.0.1 with a content folder of its own (the registry, the small sample
ärende 2023-10-lokalvard and one more small ärende of Förskolenämnden), driven by Debian's
chromium through Playwright.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from axe_playwright_python.sync_playwright import Axe
from conftest import ORGANISATIONER, REPO, VALID_ARENDE
from playwright.sync_api import expect
from webhelpers import browser, page, serve  # noqa: F401 (fixtures)

from generator.web.app import WebConfig

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    root = tmp_path_factory.mktemp("web-sammantraden")
    content = root / "content"
    content.mkdir()
    shutil.copy(ORGANISATIONER, content / "organisationer.yaml")
    shutil.copytree(REPO / "content" / "arenden" / "2023-10-lokalvard", content / "arenden" / "2023-10-lokalvard")
    plan = content / "arenden" / "2023-09-utemiljo"
    plan.mkdir()
    data = {**VALID_ARENDE, "organisation": "forskolenamnden", "rubrik": "Plan för utemiljöer",
            "diarienummer": "FSN 2023-00777", "bilagor": [{"titel": "Karta", "fil": "karta.pdf"}]}
    (plan / "arende.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    c = canvas.Canvas(str(plan / "karta.pdf"), pagesize=A4)
    c.drawString(72, 700, "Karta över gården vid Ekbacken")
    c.showPage()
    c.save()
    config = WebConfig(content=content, organisationer=content / "organisationer.yaml", out=root / "out")
    with serve(config) as site:
        site.root = root
        yield site


def points(site, namn: str) -> list[dict]:
    data = yaml.safe_load((site.content / "sammantraden" / namn / "sammantrade.yaml").read_text(encoding="utf-8"))
    return data["punkter"]


def test_create_order_mark_build_and_download_a_sammantrade(site, page, tmp_path):
    page.goto(site.url + "/sammantraden")
    page.get_by_label("Mappnamn för sammanträdet").fill("2023-10-24-fsn")
    page.get_by_label("Organisation").select_option("forskolenamnden")
    page.get_by_role("button", name="Skapa sammanträdet").click()
    expect(page).to_have_url(re.compile(r"/sammantrade/2023-10-24-fsn"))
    assert [p.get("punkt") for p in points(site, "2023-10-24-fsn")][:2] == ["Mötets öppnande", "Val av justerare"]
    file = site.content / "sammantraden" / "2023-10-24-fsn" / "sammantrade.yaml"
    comments = [line.strip() for line in file.read_text(encoding="utf-8").splitlines() if line.strip().startswith("#")]
    assert len(comments) > 3  # the scaffold explains its fields

    # the meeting's date and the kallelse's (the scaffold's are two weeks from today)
    page.get_by_label("Datum (ÅÅÅÅ-MM-DD)", exact=True).fill("2023-10-24")
    page.get_by_label("Kallelsedatum (ÅÅÅÅ-MM-DD)").fill("2023-10-17")
    page.get_by_label("Plats", exact=True).fill("Gårdavägen 2")
    page.get_by_role("button", name="Spara tid och plats").click()
    expect(page.get_by_role("status")).to_have_text("Uppgifterna sparades.")

    # add both ärenden of the organisation from the list
    for arende, who in (("2023-10-lokalvard", "Karin Exempel, upphandlare"), ("2023-09-utemiljo", "Anna Exempel")):
        page.get_by_label("Ärende", exact=True).select_option(arende)
        page.get_by_label("Föredragande").fill(who)
        page.get_by_role("button", name="Lägg till ärendet").click()
        expect(page.get_by_role("status")).to_have_text("Ärendet lades till sist i föredragningslistan.")
    assert [p.get("ärende") for p in points(site, "2023-10-24-fsn")][-2:] == ["2023-10-lokalvard", "2023-09-utemiljo"]

    # order with the keyboard: the moved point's button keeps the focus, so Enter moves it again
    last = len(points(site, "2023-10-24-fsn"))
    page.get_by_role("button", name=f"Flytta upp punkt {last}, Plan för utemiljöer").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("Punkten flyttades upp.")
    expect(page.get_by_role("button", name=f"Flytta upp punkt {last - 1}, Plan för utemiljöer")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name=f"Flytta upp punkt {last - 2}, Plan för utemiljöer")).to_be_focused()
    order = [p.get("ärende") or p.get("punkt") for p in points(site, "2023-10-24-fsn")]
    assert order.index("2023-09-utemiljo") == last - 3 and order[-1] == "2023-10-lokalvard"
    assert order[-2] == "Övriga frågor"
    # and Övriga frågor back last: lokalvård up once
    page.get_by_role("button", name=f"Flytta upp punkt {last}, Tilldelningsbeslut i upphandling av lokalvård i "
                                    "förskolor").click()
    order = [p.get("ärende") or p.get("punkt") for p in points(site, "2023-10-24-fsn")]
    assert order[-1] == "Övriga frågor"
    lokalvard = order.index("2023-10-lokalvard") + 1

    # mark the lokalvård point utelämnad with its ground
    page.get_by_label(f"Lagrum om handlingarna ska utelämnas, punkt {lokalvard}").fill("OSL 19 kap. 3 §")
    page.get_by_role("button", name="Markera utelämnad").nth(1).click()
    expect(page.get_by_role("status")).to_have_text("Punkten markerades som utelämnad.")
    assert points(site, "2023-10-24-fsn")[lokalvard - 1]["utelämnad"] == "OSL 19 kap. 3 §"
    # every change above wrote only what it changed: the file's comments are all still there
    kept = [line.strip() for line in file.read_text(encoding="utf-8").splitlines() if line.strip().startswith("#")]
    assert kept == comments
    assert Axe().run(page).violations_count == 0

    # build, follow the job, download both versions
    page.get_by_role("button", name="Skapa kallelse och handlingar").click()
    expect(page).to_have_url(re.compile(r"/jobb/"))
    expect(page.get_by_text("Klart.")).to_be_visible(timeout=600_000)
    files = {}
    for name in ("kallelse.pdf", "sammantradeshandlingar.pdf", "sammantradeshandlingar-offentlig.pdf"):
        with page.expect_download() as info:
            page.get_by_role("link", name=name, exact=True).click()
        files[name] = tmp_path / name
        info.value.save_as(files[name])

    def text(path: Path) -> str:
        return " ".join(subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                                       check=True).stdout.split())

    kallelse = text(files["kallelse.pdf"])
    assert kallelse.index("Plan för utemiljöer") < kallelse.index("Tilldelningsbeslut") < kallelse.index("Övriga frågor")
    assert "utelämnade enligt OSL 19 kap. 3 §" in kallelse
    assert "Sammanställning av anbud" in text(files["sammantradeshandlingar.pdf"])
    public = text(files["sammantradeshandlingar-offentlig.pdf"])
    assert "Sammanställning av anbud" not in public and "enligt OSL 19 kap. 3 §" in public
    assert "Karta över gården vid Ekbacken" in public


def test_sammantraden_pages_have_no_axe_violations_and_refuse_bad_names(site, page):
    page.goto(site.url + "/sammantraden")
    assert Axe().run(page).violations_count == 0
    page.get_by_label("Mappnamn för sammanträdet").fill("../utanfor")
    page.get_by_role("button", name="Skapa sammanträdet").click()
    expect(page.locator("#felsammanfattning")).to_be_focused()
    assert Axe().run(page).violations_count == 0
    assert not (site.content / "utanfor").exists()
    assert page.goto(site.url + "/sammantrade/..%2Fx").status == 404
