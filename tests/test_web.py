"""``beslut web`` end to end: a real server on 127.0.0.1, Debian's chromium driven by Playwright.

One server (with a copy of content/) and one browser serve the whole module; every test
gets its own browser context (own cookies). The pages are read the way a user reads
them: fields found by their labels, buttons by their names.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect, sync_playwright
from pypdf import PdfReader

from generator.web.app import MB, WebConfig
from generator.web.security import AuthError
from generator.web.server import make_config, start_in_thread as start_server

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
SAMPLE = "2023-10-handlingsplaner"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("web")
    content = root / "content"
    shutil.copytree(REPO / "content", content)
    config = WebConfig(content=content, organisationer=content / "organisationer.yaml", out=root / "out",
                       max_file=2 * MB, max_arende=6 * MB)
    server, thread, url = start_server(config)
    yield SimpleNamespace(url=url, config=config, content=content, out=root / "out", root=root)
    server.should_exit = True
    thread.join(timeout=30)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(accept_downloads=True, locale="sv-SE")
    context.set_default_timeout(20_000)
    pg = context.new_page()
    yield pg
    context.close()


def csrf_of(page) -> str:
    return page.locator('meta[name="csrf-token"]').get_attribute("content")


def make_pdf(path: Path, text: str) -> Path:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4)
    c.drawString(72, 760, text)
    c.showPage()
    c.save()
    return path


def make_xlsx(path: Path) -> Path:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Budget")
    sheet.write_row(0, 0, ["Post", "Belopp"])
    sheet.write_row(1, 0, ["Utbildning", 120000])
    book.close()
    return path


# --- the whole road: new ärende -> fields -> bilagor -> validation -> preview -> build ------


def test_new_tjansteutlatande_filled_previewed_built_and_downloaded(site, page, tmp_path):
    page.goto(site.url + "/nytt")
    page.get_by_label("Mappnamn").fill("2026-02-ny-plan")
    page.get_by_label("Förskolenämnden").check()
    page.get_by_role("button", name="Skapa ärendet").click()
    expect(page).to_have_url(re.compile(r"/arende/2026-02-ny-plan"))
    assert (site.content / "arenden" / "2026-02-ny-plan" / "arende.yaml").is_file()

    values = {
        "Rubrik": "Plan för trygg förskola",
        "Utfärdat": "2026-02-10",
        "Diarienummer": "N123-0456/26",
        "Handläggarens namn": "Anna Exempel",
        "Handläggarens telefon": "031-000 00 02",
        "Handläggarens e-post": "anna.exempel@example.goteborg.se",
        "Beslutspunkt 1": "Förskolenämnden antecknar informationen.",
        "Sammanfattning": "En plan för trygghet i förskolan.",
        "Bedömning ur ekonomisk dimension": "Ryms i budgeten.",
        "Bedömning ur ekologisk dimension": "Ingen påverkan.",
        "Bedömning ur social dimension": "Stärker barnens trygghet.",
        "Samverkan": "Samverkan har skett i förvaltningens samverkansgrupp.",
        "Ärendet": "Nämnden ska informeras om planen.",
        "Beskrivning av ärendet": "Planen har tre delar:\n\n- trygghet\n- lärande\n- samverkan",
        "Förvaltningens bedömning": "Förvaltningen bedömer att planen är genomförbar.",
    }
    for label, value in values.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="Lägg till underskrift").click()
    page.get_by_label("Namn, underskrift 1").fill("Eva Direktör")
    page.get_by_label("Titel, underskrift 1").fill("Förvaltningsdirektör")

    pdf = make_pdf(tmp_path / "Budgetunderlag.pdf", "Budgetunderlag 2026")
    xlsx = make_xlsx(tmp_path / "Kostnader_2026.xlsx")
    page.get_by_label("Välj bilagor att ladda upp").set_input_files([pdf, xlsx])
    page.get_by_role("button", name="Ladda upp valda filer").click()
    expect(page.locator(".messages")).to_contain_text("uppladdad som bilaga 2")
    expect(page.get_by_label("Titel för bilaga 1")).to_have_value("Budgetunderlag")
    expect(page.get_by_label("Titel för bilaga 2")).to_have_value("Kostnader 2026")
    page.get_by_label("Titel för bilaga 2").fill("Kostnader för planen")

    saved = (site.content / "arenden" / "2026-02-ny-plan" / "arende.yaml").read_text(encoding="utf-8")
    assert "Plan för trygg förskola" in saved and "Eva Direktör" in saved  # uploading saved the form too

    # A validation error appears at the field (the CLI's message) and goes when fixed.
    email = page.get_by_label("Handläggarens e-post", exact=True)
    email.fill("anna.exempel")
    error = page.locator("#handlaggare-epost-fel")
    expect(error).to_be_visible()
    expect(error).to_contain_text("är ingen e-postadress. Skriv den på formen namn@goteborg.se.")
    expect(page.locator("#fellista a[href='#handlaggare-epost']")).to_contain_text("rad ")
    expect(email).to_have_attribute("aria-invalid", "true")
    email.fill("anna.exempel@example.goteborg.se")
    expect(error).to_be_hidden()
    expect(page.locator("#felrubrik")).to_have_text("Inga fel: handlingarna går att skapa")

    # Preview in the page (not saved).
    page.get_by_role("button", name="Förhandsgranska", exact=True).click()
    expect(page.locator("#forhandsgranskning-status")).to_contain_text("klar", timeout=60_000)
    frame = page.locator("#forhandsgranskning-ram")
    assert frame.get_attribute("src").startswith("blob:")
    assert int(frame.get_attribute("data-bytes")) > 10_000

    # Build: saves the form first, then the job page shows progress and the downloads.
    page.get_by_role("button", name="Spara och skapa handlingarna").click()
    expect(page.get_by_text("Klart.")).to_be_visible(timeout=120_000)
    with page.expect_download() as info:
        page.get_by_role("link", name="handlingar.pdf").click()
    bundle = tmp_path / "handlingar.pdf"
    info.value.save_as(bundle)
    reader = PdfReader(bundle)
    text = "".join(p.extract_text() for p in reader.pages)
    assert "Plan för trygg förskola" in text
    assert "Förvaltningens bedömning" in text and "Eva Direktör" in text
    assert "Budgetunderlag 2026" in text and "Utbildning" in text
    assert [o.title for o in reader.outline] == [
        "Tjänsteutlåtande", "Bilaga 1 – Budgetunderlag", "Bilaga 2 – Kostnader för planen"]
    saved = (site.content / "arenden" / "2026-02-ny-plan" / "arende.yaml").read_text(encoding="utf-8")
    assert "Eva Direktör" in saved and "fil: bilagor/Kostnader_2026.xlsx" in saved


# --- letters -----------------------------------------------------------------------------


def test_letters_for_two_recipients_downloaded_as_zip(site, page, tmp_path):
    page.goto(site.url + "/utskick/2023-08-handlingsplaner")
    page.get_by_text("Enskilda organisationer", exact=True).click()
    page.get_by_label("Förskolenämnden", exact=True).check()
    page.get_by_label("Försäkrings AB Göta Lejon", exact=True).check()
    page.get_by_role("button", name="Skapa följebrev").click()
    expect(page.locator("#jobb")).to_be_visible()
    status_url = site.url + page.locator("#jobb").get_attribute("data-status-url")
    expect(page.get_by_text("Klart.")).to_be_visible(timeout=120_000)
    assert json.loads(page.request.get(status_url).text()) == {
        "state": "klar", "done": 2, "total": 2, "current": "", "finished": True}
    with page.expect_download() as info:
        page.get_by_role("link", name=re.compile("Allt som zip")).click()
    names = zipfile.ZipFile(io.BytesIO(Path(info.value.path()).read_bytes())).namelist()
    assert sorted(names) == sorted(f"2023-08-handlingsplaner/{n}" for n in [
        "forskolenamnden.docx", "forskolenamnden.pdf", "gota-lejon.docx", "gota-lejon.pdf", "manifest.json"])


# --- two people, one file ----------------------------------------------------------------


def test_two_pages_editing_one_arende_conflict_and_no_text_lost(site, browser):
    context = browser.new_context()
    first, second = context.new_page(), context.new_page()
    url = f"{site.url}/arende/{SAMPLE}?flik=gota-lejon"
    first.goto(url)
    second.goto(url)
    first.get_by_label("Bolagets bedömning").fill("Första personens bedömning.")
    first.get_by_role("button", name="Spara").first.click()
    expect(first.get_by_text("Sparat.")).to_be_visible()

    second.get_by_label("Bolagets bedömning").fill("Andra personens bedömning, som inte får försvinna.")
    second.get_by_role("button", name="Spara").first.click()
    expect(second.get_by_role("heading", name="Inte sparat: filen har ändrats")).to_be_visible()
    expect(second.get_by_label("Bolagets bedömning")).to_have_value("Andra personens bedömning, som inte får försvinna.")
    on_disk = (site.content / "arenden" / SAMPLE / "organisationer" / "gota-lejon.yaml").read_text(encoding="utf-8")
    assert "Första personens bedömning." in on_disk and "Andra personens" not in on_disk
    assert on_disk.startswith("# Försäkrings AB Göta Lejon: det bolaget ändrar")  # comments kept
    context.close()


# --- refusals ----------------------------------------------------------------------------


def test_post_without_csrf_token_is_refused(site, page):
    page.goto(f"{site.url}/arende/{SAMPLE}")
    before = (site.content / "arenden" / SAMPLE / "arende.yaml").read_bytes()
    response = page.request.post(f"{site.url}/arende/{SAMPLE}", form={"rubrik": "Kapad", "flik": "gemensamt"})
    assert response.status == 403
    assert "säkerhetskod" in response.text()
    wrong = page.request.post(f"{site.url}/arende/{SAMPLE}/kontroll", form={"rubrik": "x"},
                              headers={"X-CSRF-Token": "0" * 64})
    assert wrong.status == 403
    assert (site.content / "arenden" / SAMPLE / "arende.yaml").read_bytes() == before


@pytest.mark.parametrize("path", [
    "/arende/..%2F..%2F..%2Fetc",
    "/arende/%2E%2E/fil/passwd",
    f"/arende/{SAMPLE}/fil/..%2F..%2Fcontent%2Forganisationer.yaml",
    f"/arende/{SAMPLE}/fil/%2Fetc%2Fpasswd",
    f"/arende/{SAMPLE}?flik=..%2F..%2Farende",
    "/utskick/..%2Farenden%2F2023-10-handlingsplaner",
])
def test_path_traversal_is_refused(site, page, path):
    response = page.request.get(site.url + path)
    assert response.status == 404
    assert "Sidan finns inte" in response.text()
    assert "root:" not in response.text() and "Traceback" not in response.text()


def test_oversized_upload_is_refused(site, page):
    page.goto(f"{site.url}/arende/{SAMPLE}")
    version = page.locator("input[name=version]").get_attribute("value")
    big = {"name": "stor.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n" + b"0" * (3 * MB)}
    before = (site.content / "arenden" / SAMPLE / "arende.yaml").read_bytes()
    response = page.request.post(f"{site.url}/arende/{SAMPLE}", multipart={
        "csrf": csrf_of(page), "version": version, "flik": "gemensamt", "atgard": "ladda-upp", "filer": big})
    assert response.status == 200
    assert "en bilaga får vara högst 2 MB" in response.text()
    assert not (site.content / "arenden" / SAMPLE / "bilagor" / "stor.pdf").exists()
    assert (site.content / "arenden" / SAMPLE / "arende.yaml").read_bytes() == before
    huge = dict(big, buffer=b"0" * (8 * MB))
    response = page.request.post(f"{site.url}/arende/{SAMPLE}", multipart={"csrf": csrf_of(page), "filer": huge})
    assert response.status == 413
    assert "Filen är för stor" in response.text()


def test_other_host_without_authentication_is_refused(site):
    with pytest.raises(AuthError, match="utan inloggning"):
        make_config(content=site.content, organisationer=site.config.organisationer, out=site.out, host="0.0.0.0")
    config = make_config(content=site.content, organisationer=site.config.organisationer, out=site.out,
                         host="0.0.0.0", trusted_header="X-Remote-User")
    assert config.auth.user({"x-remote-user": "anna"}) == "anna" and config.auth.user({}) is None


def test_user_file_sign_in(site, browser, tmp_path):
    from generator.web.security import add_user

    users = tmp_path / "anvandare"
    add_user(users, "anna", "hemligt-lösenord")
    config = make_config(content=site.content, organisationer=site.config.organisationer, out=tmp_path / "out",
                         host="0.0.0.0", users=users)
    server, thread, url = start_server(config)
    try:
        anonymous = browser.new_context()
        response = anonymous.request.get(url + "/")
        assert response.status == 401 and "Inloggning krävs" in response.text()
        anonymous.close()
        signed_in = browser.new_context(http_credentials={"username": "anna", "password": "hemligt-lösenord"})
        pg = signed_in.new_page()
        pg.goto(url + "/")
        expect(pg.get_by_text("Inloggad som anna")).to_be_visible()
        signed_in.close()
    finally:
        server.should_exit = True
        thread.join(timeout=30)


# --- accessibility -----------------------------------------------------------------------


def test_keyboard_only_new_arende(site, page):
    page.goto(site.url + "/nytt")

    def tab_to(selector: str, limit: int = 120) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate(f"document.activeElement.matches({json.dumps(selector)})"):
                return
        raise AssertionError(f"nådde inte {selector} med Tab")

    tab_to("#namn")
    page.keyboard.type("2026-03-tangentbord")
    tab_to("#org-grundskolenamnden")
    page.keyboard.press("Space")
    tab_to("button[type=submit]")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/arende/2026-03-tangentbord"))
    assert "organisation: grundskolenamnden" in (
        site.content / "arenden" / "2026-03-tangentbord" / "arende.yaml").read_text(encoding="utf-8")


def test_pages_have_no_axe_violations(site, page):
    axe = Axe()
    paths = ["/", "/nytt", f"/arende/{SAMPLE}", f"/arende/{SAMPLE}?flik=forskolenamnden",
             "/utskick/2023-08-handlingsplaner", "/finns-inte"]
    for path in paths:
        page.goto(site.url + path)
        results = axe.run(page)
        assert results.violations_count == 0, f"{path}:\n{results.generate_report()}"
    # A page with errors: the new-ärende form sent empty, and an edit page with a field error.
    page.goto(site.url + "/nytt")
    page.get_by_role("button", name="Skapa ärendet").click()
    expect(page.locator("#felsammanfattning")).to_be_focused()
    assert axe.run(page).violations_count == 0
    page.goto(f"{site.url}/arende/{SAMPLE}")
    page.get_by_label("Rubrik", exact=True).fill("")
    expect(page.locator("#rubrik-fel")).to_be_visible()
    results = axe.run(page)
    assert results.violations_count == 0, results.generate_report()


def test_focus_is_visible(site, page):
    page.goto(site.url + "/nytt")
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert page.evaluate("document.activeElement.textContent") == "Hoppa till innehållet"
    assert outline == "solid"
