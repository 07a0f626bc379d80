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

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from pypdf import PdfReader
from webhelpers import browser, page, serve  # noqa: F401 (fixtures)

from generator.web.app import MB, WebConfig
from generator.web.security import AuthError
from generator.web.server import make_config
from generator.web.server import start_in_thread as start_server

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
    with serve(config) as site:
        site.root = root
        yield site


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
    # The list names the field as the form shows it; file, line and YAML key behind "Visa tekniska detaljer".
    expect(page.locator("#fellista a[href='#handlaggare-epost']")).to_contain_text(
        "Handläggarens e-post (under Handläggare): ")
    expect(page.locator("#fellista a[href='#handlaggare-epost']")).not_to_contain_text("rad ")
    details = page.locator("#fellista li", has=page.locator("a[href='#handlaggare-epost']")).locator("details")
    expect(details.locator("code")).to_be_hidden()
    details.locator("summary").click()
    expect(details.locator("code")).to_contain_text("arende.yaml, rad ")
    expect(email).to_have_attribute("aria-invalid", "true")
    email.fill("anna.exempel@example.goteborg.se")
    expect(error).to_be_hidden()
    expect(page.locator("#felrubrik")).to_have_text("Inga fel: handlingarna går att skapa")

    # Preview in the page (not saved): the viewer shows the PDF the server sent.
    sent = []

    def keep(route):  # pass the request on; keep what the server answered
        response = route.fetch()
        sent.append(response.body())
        route.fulfill(response=response)

    page.route("**/forhandsgranska", keep)
    page.get_by_role("button", name="Förhandsgranska", exact=True).click()
    expect(page.locator("#forhandsgranskning-status")).to_contain_text("klar (dokumentet)", timeout=60_000)
    frame = page.locator("#forhandsgranskning-ram")
    assert frame.get_attribute("src").startswith("blob:")
    assert int(frame.get_attribute("data-bytes")) == len(sent[-1])
    paper = PdfReader(io.BytesIO(sent[-1]))
    assert "Tjänsteutlåtande" in paper.pages[0].extract_text() and paper.metadata.title == "Plan för trygg förskola"
    assert not [o for o in paper.outline if isinstance(o, dict) and o.title.startswith("Bilaga")]

    # Preview of handlingar.pdf: the paper followed by its stamped bilagor, with bookmarks.
    page.get_by_role("button", name="Förhandsgranska handlingar.pdf").click()
    expect(page.locator("#forhandsgranskning-status")).to_contain_text("klar (handlingar.pdf)", timeout=120_000)
    assert int(frame.get_attribute("data-bytes")) == len(sent[-1])
    bundle = PdfReader(io.BytesIO(sent[-1]))
    assert [o.title for o in bundle.outline] == [
        "Tjänsteutlåtande", "Bilaga 1 – Budgetunderlag", "Bilaga 2 – Kostnader för planen"]
    assert "Utbildning" in "".join(p.extract_text() for p in bundle.pages[len(paper.pages):])
    page.unroute("**/forhandsgranska")

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
    with page.expect_download() as info:
        page.get_by_role("link", name="tillganglighetsrapport.txt").click()
    report = Path(info.value.path()).read_text(encoding="utf-8")
    assert "Bilaga 2" in report and "Kostnader för planen" in report
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
    # The engine's progress: two stages (Word, then PDF) of two letters each, on one bar.
    assert json.loads(page.request.get(status_url).text()) == {
        "state": "klar", "done": 4, "total": 4, "current": "Skapar PDF: 2 av 2 klara", "finished": True}
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
    assert response.status == 413  # the form comes back, its files dropped, with the reason
    assert "servern tar emot högst 6 MB" in response.text() and "Det du skrev står kvar" in response.text()


def test_other_host_without_authentication_is_refused(site):
    with pytest.raises(AuthError, match="utan inloggning"):
        make_config(content=site.content, organisationer=site.config.organisationer, out=site.out, host="0.0.0.0")
    config = make_config(content=site.content, organisationer=site.config.organisationer, out=site.out,
                         host="0.0.0.0", trusted_header="X-Remote-User", proxies=("10.0.4.17",))
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
        response = anonymous.request.get(url + "/", max_redirects=0)
        assert response.status == 303 and response.headers["location"].startswith("/logga-in")
        anonymous.close()
        signed_in = browser.new_context()
        pg = signed_in.new_page()
        pg.goto(url + "/")
        pg.get_by_label("Användarnamn").fill("anna")
        pg.get_by_label("Lösenord").fill("hemligt-lösenord")
        pg.get_by_role("button", name="Logga in").click()
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
             "/utskick/2023-08-handlingsplaner", "/utskick/2023-08-handlingsplaner/skicka", "/finns-inte"]
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


# --- the review (granskning) in the page ---------------------------------------------------


def test_review_findings_at_fields_and_in_summary_follow_the_live_check(site, page):
    page.goto(f"{site.url}/arende/{SAMPLE}")
    before = (site.content / "arenden" / SAMPLE / "arende.yaml").read_bytes()
    # Server-rendered: the sample's varningar (the CLI's review), each at its field, and LIX.
    expect(page.locator("#granskningsrubrik")).to_have_text(re.compile(r"^Granskningen: \d+ varningar$"))
    expect(page.locator("#dimensioner-ekonomisk-granskning")).to_have_text(
        "Varning: 'ej' är ett myndighetsord; skriv hellre 'inte'.")
    assert "dimensioner-ekonomisk-granskning" in page.get_by_label(
        "Bedömning ur ekonomisk dimension").get_attribute("aria-describedby")
    expect(page.locator("#granskningslista a[href='#dimensioner-ekonomisk']")).to_contain_text(
        "Bedömning ur ekonomisk dimension: 'ej' är ett myndighetsord")
    expect(page.locator("#sammanfattning-lix")).to_have_text("Läsbarhet: LIX 64, mycket svår")
    expect(page.locator("#forslag-granskning")).to_contain_text("texten är mycket svår att läsa (LIX 77")
    # A placeholder typed into a field: a stopp appears at the field and in the summary.
    summary = page.get_by_label("Sammanfattning", exact=True)
    original = summary.input_value()
    summary.fill("Styrelsen får information om planerna. Beloppet är XXX kronor för hela året.")
    note = page.locator("#sammanfattning-granskning")
    expect(note).to_contain_text("Stopp: platshållaren 'XXX' står kvar. Skriv den riktiga texten.")
    expect(summary).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#granskningslista li.stopp a[href='#sammanfattning']")).to_contain_text(
        "Sammanfattning: ")
    expect(page.locator("#granskningsrubrik")).to_have_text(re.compile(r"^Granskningen: 1 stopp och \d+ varningar$"))
    expect(page.locator("#felrubrik")).to_have_text("Inga fel i fälten, men granskningen har stopp")
    expect(page.locator("#sammanfattning-lix")).to_have_text(re.compile(r"^Läsbarhet: LIX \d+, "))
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
    # Fixed: the stopp goes; too short a text to rate gets no LIX.
    summary.fill("Styrelsen får information.")
    expect(note).to_be_hidden()
    expect(page.locator("#sammanfattning-lix")).to_be_hidden()
    expect(summary).not_to_have_attribute("aria-invalid", "true")
    summary.fill(original)
    expect(page.locator("#sammanfattning-lix")).to_have_text("Läsbarhet: LIX 64, mycket svår")
    assert (site.content / "arenden" / SAMPLE / "arende.yaml").read_bytes() == before  # checking saves nothing


def test_review_of_an_override_links_to_the_shared_tab(site, page):
    page.goto(f"{site.url}/arende/{SAMPLE}?flik=forskolenamnden")
    shared = page.locator("#granskningslista a[href$='flik=gemensamt#dimensioner-ekonomisk']")
    expect(shared).to_contain_text("Bedömning ur ekonomisk dimension, fliken Gemensam text:")
    expect(page.locator("#dimensioner-ekonomisk-granskning")).to_be_hidden()  # not a field of this tab
    own = page.locator("#forslag-granskning")  # this organisation's own förslag till beslut
    expect(own).to_contain_text("texten är mycket svår att läsa (LIX 77")
    page.goto(f"{site.url}/arende/{SAMPLE}?flik=gota-lejon")  # another organisation's findings are not shown
    expect(page.locator("#granskningslista")).not_to_contain_text("Förskolenämnden")


def test_build_with_stopp_explains_and_offers_a_draft(site, page, tmp_path):
    page.goto(site.url + "/nytt")
    page.get_by_label("Mappnamn").fill("2026-04-utkast")
    page.get_by_label("Förskolenämnden").check()
    page.get_by_role("button", name="Skapa ärendet").click()
    expect(page.locator("#rubrik-granskning")).to_contain_text("Stopp: platshållaren '[Skriv rubriken här]'")
    page.get_by_role("button", name="Spara och skapa handlingarna").click()

    expect(page.get_by_role("heading", name="Handlingarna skapades inte")).to_be_visible()
    expect(page.locator("#stopprubrik")).to_have_text(re.compile(r"^Granskningen hittade \d+ stopp$"))
    expect(page.locator("#felsammanfattning a[href='/arende/2026-04-utkast?flik=gemensamt#rubrik']")).to_contain_text(
        "Rubrik: platshållaren")
    expect(page.get_by_role("link", name="Tillbaka till ärendet och rätta")).to_have_class(re.compile("primary"))
    draft = page.get_by_role("button", name="Skapa utkast")
    expect(draft).not_to_have_class(re.compile("primary"))  # the secondary action
    assert not (site.out / "arenden" / "2026-04-utkast").exists()  # nothing was written
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()

    draft.click()
    expect(page.get_by_text("Klart.")).to_be_visible(timeout=120_000)
    expect(page.locator(".draft-note")).to_contain_text("utkast")
    labels = page.locator("ul.downloads a").all_inner_texts()
    assert "tjänsteutlåtande.pdf (utkast)" in labels and "handlingar.pdf (utkast)" in labels
    with page.expect_download() as info:
        page.get_by_role("link", name="tjänsteutlåtande.pdf (utkast)").click()
    paper = tmp_path / "utkast.pdf"
    info.value.save_as(paper)
    reader = PdfReader(paper)
    assert all("UTKAST" in p.extract_text() for p in reader.pages)
    with page.expect_download() as info:  # the drafts' zip: only drafts, named as drafts
        page.get_by_role("link", name=re.compile("Alla utkast som zip")).click()
    assert info.value.suggested_filename == "2026-04-utkast – UTKAST.zip"
    drafts = zipfile.ZipFile(io.BytesIO(Path(info.value.path()).read_bytes()))
    assert "2026-04-utkast – UTKAST/tjänsteutlåtande.pdf" in drafts.namelist()
    assert all(n.startswith("2026-04-utkast – UTKAST/") for n in drafts.namelist())
    assert "UTKAST" in PdfReader(io.BytesIO(drafts.read("2026-04-utkast – UTKAST/tjänsteutlåtande.pdf"))
                                 ).pages[0].extract_text()
    final = zipfile.ZipFile(io.BytesIO(page.request.get(f"{site.url}/arende/2026-04-utkast/zip").body()))
    assert not any("utkast/" in n or n.endswith(".pdf") for n in final.namelist())  # the final papers' zip: no drafts
    assert Axe().run(page).violations_count == 0


# --- letters as e-mail, and the dry run of beslut send ---------------------------------------


@pytest.fixture(scope="module")
def send_site(tmp_path_factory):
    """A second server whose registry has e-mail addresses (the send fixture's)."""
    root = tmp_path_factory.mktemp("web-send")
    content = root / "content"
    (content / "utskick" / "handlingsplaner").mkdir(parents=True)
    shutil.copy(REPO / "tests" / "fixtures" / "send" / "organisationer.yaml", content / "organisationer.yaml")
    shutil.copy(REPO / "tests" / "fixtures" / "send" / "handlingsplaner" / "utskick.yaml",
                content / "utskick" / "handlingsplaner" / "utskick.yaml")
    config = WebConfig(content=content, organisationer=content / "organisationer.yaml", out=root / "out")
    with serve(config) as site:
        site.root = root
        yield site


def test_letters_with_eml_zipped_and_send_dry_run(send_site, page, tmp_path):
    from email import policy
    from email.parser import BytesParser

    page.goto(send_site.url + "/utskick/handlingsplaner")
    expect(page.locator("#eml-hint")).to_contain_text("(5 av 7)")
    page.get_by_role("link", name="Visa vad som skulle skickas nu (provkörning)").click()
    expect(page.locator("#felsammanfattning")).to_contain_text("manifest.json saknas")
    assert str(send_site.root) not in page.content()  # no server paths in the page
    page.get_by_role("link", name="Tillbaka till utskicket").click()

    page.get_by_label("Skapa också PDF/A av varje brev").uncheck()
    page.get_by_label("Skapa också e-postmeddelanden (.eml)").check()
    page.get_by_role("button", name="Skapa följebrev").click()  # e-mail needs the PDF
    expect(page.locator("#felsammanfattning")).to_contain_text("kryssa också i ”Skapa också PDF/A av varje brev”")
    expect(page.get_by_label("Skapa också e-postmeddelanden (.eml)")).to_be_checked()
    page.get_by_label("Skapa också PDF/A av varje brev").check()
    page.get_by_role("button", name="Skapa följebrev").click()
    expect(page.get_by_text("Klart.")).to_be_visible(timeout=120_000)
    expect(page.locator("ul.warnings")).to_contain_text("Valnämnden: ingen e-postadress")
    with page.expect_download() as info:
        page.get_by_role("link", name="Förskolenämnden: forskolenamnden.eml").click()
    assert info.value.suggested_filename == "handlingsplaner – Förskolenämnden – följebrev.eml"
    with page.expect_download() as info:
        page.get_by_role("link", name=re.compile("Allt som zip")).click()
    archive = zipfile.ZipFile(io.BytesIO(Path(info.value.path()).read_bytes()))
    ids = ["forskolenamnden", "kulturnamnden", "valnamnden", "gota-lejon", "liseberg", "goteborg-co", "higab"]
    with_address = [i for i in ids if i not in ("valnamnden", "higab")]
    assert sorted(archive.namelist()) == sorted(
        [f"handlingsplaner/{i}.{kind}" for i in ids for kind in ("docx", "pdf")]
        + [f"handlingsplaner/{i}.eml" for i in with_address] + ["handlingsplaner/manifest.json"])
    message = BytesParser(policy=policy.default).parsebytes(archive.read("handlingsplaner/forskolenamnden.eml"))
    assert message["To"].addresses[0].addr_spec == "forskola@example.org"
    attachment = next(message.iter_attachments())
    assert attachment.get_filename() == "Följebrev – Förskolenämnden.pdf"
    assert attachment.get_content() == archive.read("handlingsplaner/forskolenamnden.pdf")

    # The dry run of beslut send, read-only: who would get a letter; nothing is sent.
    page.goto(send_site.url + "/utskick/handlingsplaner")
    page.get_by_role("link", name="Visa vad som skulle skickas nu (provkörning)").click()
    plan = page.locator("pre.plan")
    expect(plan).to_contain_text("Från: Stadsledningskontoret <utskick@stadshuset.example.org>")
    expect(plan).to_contain_text("Skickas (5):")
    expect(plan).to_contain_text(re.compile(r"forskolenamnden +forskola@example.org +Följebrev – Förskolenämnden.pdf"))
    expect(plan).to_contain_text("Utan e-postadress i registret, hoppas över (2):")
    expect(plan).to_contain_text(re.compile(r"valnamnden +Valnämnden"))
    assert "Server:" not in plan.inner_text()
    assert not (send_site.out / "utskick" / "handlingsplaner" / "utskick-logg.json").exists()
    assert Axe().run(page).violations_count == 0


def test_letters_without_pdf_show_progress(send_site, page):
    page.goto(send_site.url + "/utskick/handlingsplaner")
    page.get_by_label("Skapa också PDF/A av varje brev").uncheck()
    page.get_by_role("button", name="Skapa följebrev").click()
    status_url = send_site.url + page.locator("#jobb").get_attribute("data-status-url")
    expect(page.get_by_text("Klart.")).to_be_visible(timeout=120_000)
    assert json.loads(page.request.get(status_url).text()) == {
        "state": "klar", "done": 7, "total": 7, "current": "Skapar Word-filer: 7 av 7 klara", "finished": True}


def test_stage_progress_is_one_bar_over_the_engine_stages(site, tmp_path):
    from generator.web import actions

    seen = []
    report = actions.run_letters(site.content / "utskick" / "2023-08-handlingsplaner", site.config.organisationer,
                                 tmp_path / "out", ["gota-lejon", "liseberg", "higab"], pdf=False, converter=None,
                                 progress=lambda done, total, what: seen.append((done, total, what)))
    assert not report.failed
    assert seen[0] == (0, 3, "Skapar Word-filer: 0 av 3 klara")
    assert seen[-1] == (3, 3, "Skapar Word-filer: 3 av 3 klara")
    assert [d for d, _, _ in seen] == sorted(d for d, _, _ in seen)
    two = []
    on_progress = actions.stage_progress(lambda *a: two.append(a), stages=2)
    for stage, done in [("docx", 0), ("docx", 2), ("pdf", 0), ("pdf", 1), ("pdf", 2)]:
        on_progress(stage, done, 2)
    assert [(d, t) for d, t, _ in two] == [(0, 4), (2, 4), (2, 4), (3, 4), (4, 4)]
    assert two[-1][2] == "Skapar PDF: 2 av 2 klara"
