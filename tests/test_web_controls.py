"""Every control of ``beslut web`` clicked in a real browser, its result checked by content.

A real server on 127.0.0.1 (``start_in_thread``), Debian's chromium through Playwright,
real LibreOffice for the builds. What a click delivers is read back: a PDF's text and page
count equal to the file on the server's disk, a .docx opened with python-docx, a zip's
entries; never a position in a list. Refused forms (stale token, too large upload, server
error) must come back with everything typed; removing asks first and goes to the
papperskorg, from which the page restores. Every page is screenshotted at 1280 and 320
CSS px (``artifacts/`` under pytest's tmp dir), reflows at 320 px and is clean under axe.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from playwright.sync_api import expect
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas
from webhelpers import (  # noqa: F401  (browser and artifacts are fixtures)
    LETTERS,
    SAMPLE,
    artifacts,
    assert_same_pdf,
    browser,
    check_page,
    copy_content,
    docx_text,
    download,
    opened,
    pdf_text,
    serve,
    zip_entries,
)

from generator.web.app import MB

EDIT = f"/arende/{SAMPLE}"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    config = copy_content(tmp_path_factory.mktemp("controls"))
    with serve(config) as s:
        yield s


@pytest.fixture
def page(browser, site):  # noqa: F811
    with opened(browser) as pg:
        yield pg


def form_post(response) -> bool:
    """The answer to the form's own POST (not the live check's, nor the Markdown preview's)."""
    return response.request.method == "POST" and not response.url.endswith(("/kontroll", "/markdown"))


def make_pdf(path: Path, text: str) -> Path:
    c = canvas.Canvas(str(path), pagesize=A4)
    c.drawString(72, 760, text)
    c.showPage()
    c.save()
    return path


def copy_arende(page, site, namn: str, bilagor: bool = True) -> Path:
    """Copy the sample with the page's "Kopiera ärende" (a test's own ärende); return its folder."""
    page.goto(site.url + EDIT)
    page.get_by_role("link", name="Kopiera ärende").click()
    page.get_by_label("Mappnamn för det nya ärendet").fill(namn)
    box = page.get_by_label("Ta med bilagorna")
    box.check() if bilagor else box.uncheck()
    page.get_by_role("button", name="Skapa kopian").click()
    expect(page).to_have_url(re.compile(rf"/arende/{namn}\?kopia="))
    return site.content / "arenden" / namn


# --- copying ------------------------------------------------------------------------------


def test_kopiera_arende_with_and_without_bilagor(site, page):
    source = site.content / "arenden" / SAMPLE
    folder = copy_arende(page, site, "2026-05-kopia")
    expect(page.locator("#meddelande")).to_contain_text(f"kopierat från {SAMPLE}")
    files = sorted(p.relative_to(source).as_posix() for p in source.rglob("*") if p.is_file())
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == files
    for name in files:
        assert (folder / name).read_bytes() == (source / name).read_bytes()
    bare = copy_arende(page, site, "2026-05-utan-bilagor", bilagor=False)
    assert not (bare / "bilagor").exists()
    assert "bilagor:" not in (bare / "arende.yaml").read_text(encoding="utf-8")
    expect(page.locator("#bilagor")).to_contain_text("Inga bilagor ännu.")
    # a name taken or malformed is refused at the field, the choice kept
    page.goto(f"{site.url}{EDIT}/kopiera")
    page.get_by_label("Mappnamn för det nya ärendet").fill("2026-05-kopia")
    page.get_by_label("Ta med bilagorna").uncheck()
    page.get_by_role("button", name="Skapa kopian").click()
    expect(page.locator("#nytt-fel")).to_contain_text("Det finns redan ett ärende som heter 2026-05-kopia")
    expect(page.get_by_label("Ta med bilagorna")).not_to_be_checked()
    page.get_by_role("link", name="Avbryt").click()
    expect(page).to_have_url(site.url + EDIT)


# --- no lost work -------------------------------------------------------------------------


def test_restart_between_typing_and_spara_loses_nothing(browser, tmp_path):  # noqa: F811
    config = copy_content(tmp_path)
    with serve(config) as first:
        port = int(first.url.rsplit(":", 1)[1])
        page_ctx = opened(browser)
        page = page_ctx.__enter__()
        try:
            page.goto(first.url + EDIT + "?flik=gota-lejon")
            page.get_by_label("Sammanfattning", exact=True).fill("Skrivet före omstarten av servern.")
        except BaseException:
            page_ctx.__exit__(None, None, None)
            raise
    from generator.web.server import start_in_thread

    server, thread, url = start_in_thread(config, port=port)  # the same state folder: the same secret
    try:
        page.get_by_role("button", name="Spara", exact=True).first.click()
        expect(page.locator("#meddelande")).to_have_text("Sparat.")
        saved = (config.content / "arenden" / SAMPLE / "organisationer" / "gota-lejon.yaml").read_text(encoding="utf-8")
        assert "Skrivet före omstarten av servern." in saved
    finally:
        page_ctx.__exit__(None, None, None)
        server.should_exit = True
        thread.join(timeout=30)


def test_a_stale_token_returns_the_form_with_the_text_and_the_reason(site, page):
    page.goto(site.url + EDIT + "?flik=forskolenamnden")
    path = site.content / "arenden" / SAMPLE / "organisationer" / "forskolenamnden.yaml"
    before = path.read_bytes()
    page.get_by_label("Ärendet", exact=True).fill("Text som inte får försvinna.")
    page.evaluate("document.querySelector('#arendeformular input[name=csrf]').value = 'gammal'")
    with page.expect_response(form_post) as answer:
        page.get_by_role("button", name="Spara", exact=True).first.click()
    assert answer.value.status == 403
    expect(page.locator("#nekad")).to_contain_text("Ingenting sparades. Det du skrev och valde står kvar")
    expect(page.locator("#nekad")).to_be_focused()
    expect(page.get_by_label("Ärendet", exact=True)).to_have_value("Text som inte får försvinna.")
    assert path.read_bytes() == before
    page.get_by_role("button", name="Spara", exact=True).first.click()  # the page's new token works
    expect(page.locator("#meddelande")).to_have_text("Sparat.")
    assert "Text som inte får försvinna." in path.read_text(encoding="utf-8")


def test_a_too_large_upload_keeps_the_form(browser, tmp_path):  # noqa: F811
    config = copy_content(tmp_path)
    config.max_file, config.max_arende = MB, MB
    big = tmp_path / "stor.pdf"
    big.write_bytes(b"%PDF-1.4\n" + b"0" * (3 * MB))
    with serve(config) as s, opened(browser) as page:
        page.goto(s.url + EDIT)
        page.get_by_label("Rubrik", exact=True).fill("Ny rubrik som inte får försvinna")
        page.get_by_label("Välj bilagor att ladda upp").set_input_files(big)
        # In the browser: named before anything is sent.
        page.get_by_role("button", name="Spara", exact=True).first.click()
        expect(page.locator("#nekad-klient")).to_contain_text("mer än servern tar emot (1 MB)")
        expect(page.get_by_label("Rubrik", exact=True)).to_have_value("Ny rubrik som inte får försvinna")
        # The server: a 413 gives the form back with the text and the reason, files dropped.
        page.evaluate("delete document.getElementById('arendeformular').dataset.maxTotal")
        with page.expect_response(form_post) as answer:
            page.get_by_role("button", name="Spara", exact=True).first.click()
        assert answer.value.status == 413
        expect(page.locator("#nekad")).to_contain_text("servern tar emot högst 1 MB")
        expect(page.get_by_label("Rubrik", exact=True)).to_have_value("Ny rubrik som inte får försvinna")
        assert "Ny rubrik" not in (config.content / "arenden" / SAMPLE / "arende.yaml").read_text(encoding="utf-8")
        assert not (config.content / "arenden" / SAMPLE / "bilagor" / "stor.pdf").exists()


def test_a_server_error_keeps_the_form(site, page, tmp_path):
    folder = copy_arende(page, site, "2026-05-fel", bilagor=False)
    (folder / "bilagor").write_text("en fil där mappen bilagor ska vara", encoding="utf-8")
    page.get_by_label("Rubrik", exact=True).fill("Rubrik skriven före felet")
    page.get_by_label("Välj bilagor att ladda upp").set_input_files(make_pdf(tmp_path / "a.pdf", "A"))
    with page.expect_response(form_post) as answer:
        page.get_by_role("button", name="Spara", exact=True).first.click()
    assert answer.value.status == 500
    expect(page.locator("#nekad")).to_contain_text("oväntat fel")
    expect(page.get_by_label("Rubrik", exact=True)).to_have_value("Rubrik skriven före felet")


def test_chosen_files_are_uploaded_by_spara_and_long_names_refused_as_such(site, page, tmp_path):
    folder = copy_arende(page, site, "2026-05-spara", bilagor=False)
    good = make_pdf(tmp_path / "Budget_2026.pdf", "Budget 2026 i siffror")
    long_name = make_pdf(tmp_path / ("l" * 120 + ".pdf"), "Lång")
    page.get_by_label("Välj bilagor att ladda upp").set_input_files([good, long_name])
    page.get_by_role("button", name="Spara", exact=True).first.click()
    messages = page.locator(".messages")
    expect(messages).to_contain_text("Budget_2026.pdf: uppladdad som bilaga 1")
    expect(messages).to_contain_text("filnamnet är för långt (124 tecken, högst 100)")
    expect(messages).not_to_contain_text("filformat")
    expect(page.get_by_label("Titel för bilaga 1")).to_have_value("Budget 2026")
    assert (folder / "bilagor" / "Budget_2026.pdf").read_bytes() == good.read_bytes()
    assert "fil: bilagor/Budget_2026.pdf" in (folder / "arende.yaml").read_text(encoding="utf-8")
    assert page.evaluate("window.scrollY") > 0  # shown at the bilagor, not the top of the page
    # files chosen and "Spara och skapa handlingarna": uploaded first, and the page says nothing was built
    other = make_pdf(tmp_path / "Tidplan.pdf", "Tidplan för arbetet")
    page.get_by_label("Välj bilagor att ladda upp").set_input_files(other)
    page.get_by_role("button", name="Spara och skapa handlingarna").click()
    expect(messages).to_contain_text("Handlingarna är inte skapade än: de valda filerna laddades upp först")
    expect(messages).to_contain_text("Tidplan.pdf: uppladdad som bilaga 2")
    assert (folder / "bilagor" / "Tidplan.pdf").read_bytes() == other.read_bytes()
    assert not (site.out / "2026-05-spara").exists()


def test_removing_a_bilaga_asks_first_by_keyboard_and_can_be_restored(site, page):
    folder = copy_arende(page, site, "2026-05-bort")
    text = (folder / "arende.yaml").read_text(encoding="utf-8")
    titel = page.get_by_label("Titel för bilaga 1").input_value()
    fil = re.search(r"fil: (bilagor/\S+)", text)[1]
    original = (folder / fil).read_bytes()
    remove = page.get_by_role("button", name="Ta bort bilaga 1")
    remove.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(f"Ta bort bilaga 1 ”{titel}”? Filen flyttas till papperskorgen")
    expect(page.get_by_role("button", name="Avbryt")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(remove).to_be_focused()
    assert (folder / fil).read_bytes() == original
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    page.keyboard.press("Shift+Tab")
    expect(page.get_by_role("button", name="Ta bort", exact=True)).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#meddelande")).to_contain_text(  # the save and check behind it: slow on a busy machine
        f"Bilagan ”{titel}” är borttagen och flyttad till papperskorgen", timeout=60_000)
    assert not (folder / fil).exists()
    assert fil not in (folder / "arende.yaml").read_text(encoding="utf-8")
    trashed = [p for p in (site.config.state_folder / "papperskorg").rglob(Path(fil).name) if p.is_file()]
    assert [p.read_bytes() for p in trashed] == [original]
    page.get_by_role("button", name="Ångra: återställ bilagan").click()
    expect(page.locator("#meddelande")).to_contain_text("återställd från papperskorgen")
    assert (folder / fil).read_bytes() == original
    expect(page.locator("#bilagor")).to_contain_text(f"Fil: {fil}")


def test_removing_an_arende_asks_first_and_the_papperskorg_restores_it(site, page, artifacts):  # noqa: F811
    folder = copy_arende(page, site, "2026-05-hela")
    files = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    page.get_by_role("link", name="Ta bort ärendet …").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ta bort ärende 2026-05-hela?")
    page.get_by_role("link", name="Nej, behåll ärendet").click()
    expect(page).to_have_url(site.url + "/arende/2026-05-hela")
    page.get_by_role("link", name="Ta bort ärendet …").click()
    yes = page.get_by_role("button", name="Ja, flytta ärendet till papperskorgen")
    yes.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".notice")).to_contain_text("Ärendet 2026-05-hela är flyttat till papperskorgen")
    assert not folder.exists()
    check_page(page, artifacts, "papperskorg-med-arende")
    page.get_by_role("button", name="Återställ ärende 2026-05-hela").click()
    expect(page).to_have_url(site.url + "/arende/2026-05-hela")
    assert {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()} == files


def test_a_broken_yaml_file_is_repaired_as_text_in_the_page(site, page):
    folder = copy_arende(page, site, "2026-05-trasig")
    path = folder / "organisationer" / "gota-lejon.yaml"
    good = path.read_text(encoding="utf-8")
    lines = good.rstrip("\n").splitlines() + ["rubrik: Plan: en rubrik med kolon"]
    bad_line = len(lines)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    page.goto(f"{site.url}/arende/2026-05-trasig?flik=gota-lejon")
    expect(page).to_have_url(re.compile(r"/arende/2026-05-trasig/text\?flik=gota-lejon"))
    expect(page.locator("#felsammanfattning h2")).to_have_text(f"Filen går inte att läsa: rad {bad_line}")
    expect(page.locator("pre.around .here")).to_contain_text("rubrik: Plan: en rubrik med kolon")
    caret = page.evaluate("(() => { const t = document.getElementById('text');"
                          " return t.value.slice(0, t.selectionStart).split('\\n').length; })()")
    assert caret == bad_line
    area = page.get_by_label("Filens text")
    area.fill(area.input_value().replace("rubrik: Plan: en rubrik med kolon", "rubrik: 'Plan: en rubrik med kolon'"))
    page.get_by_role("button", name="Spara").click()
    expect(page.locator("#meddelande")).to_have_text("Filen är rättad och sparad.")
    expect(page.get_by_label("Rubrik", exact=True)).to_have_value("Plan: en rubrik med kolon")


def test_list_buttons_return_to_the_list_and_focus_the_item(site, page):
    copy_arende(page, site, "2026-05-listor")
    page.get_by_role("button", name="Lägg till beslutspunkt").click()
    new = page.locator("#forslag ol.items textarea").last
    expect(new).to_be_focused()
    assert page.evaluate("window.scrollY") > 500
    new.fill("Den nya punkten.")
    count = page.locator("#forslag ol.items textarea").count()
    page.get_by_role("button", name=f"Flytta upp beslutspunkt {count}").click()
    moved = page.get_by_label(f"Beslutspunkt {count - 1}", exact=True)
    expect(moved).to_be_focused()
    expect(moved).to_have_value("Den nya punkten.")
    page.get_by_role("button", name="Lägg till underskrift").click()
    expect(page.locator("#underskrifter input[name=underskrift_namn]").last).to_be_focused()


def test_every_list_button_tab_and_toggle_of_the_edit_page(site, page):
    folder = copy_arende(page, site, "2026-05-knappar")
    import yaml

    def saved(key, file="arende.yaml"):
        return yaml.safe_load((folder / file).read_text(encoding="utf-8")).get(key)

    titles = [b["titel"] for b in saved("bilagor")]
    page.get_by_role("button", name="Flytta ned bilaga 1").click()
    expect(page.get_by_label("Titel för bilaga 2")).to_be_focused()
    assert [b["titel"] for b in saved("bilagor")] == [titles[1], titles[0], *titles[2:]]
    page.get_by_role("button", name="Flytta upp bilaga 2").click()
    expect(page.get_by_label("Titel för bilaga 1")).to_be_focused()
    assert [b["titel"] for b in saved("bilagor")] == titles
    page.get_by_role("button", name="Lägg till beslutspunkt").click()
    page.get_by_label("Beslutspunkt 2", exact=True).fill("Andra punkten.")
    page.get_by_role("button", name="Flytta ned beslutspunkt 1").click()
    expect(page.get_by_label("Beslutspunkt 2", exact=True)).to_be_focused()
    assert saved("förslag_till_beslut")[0] == "Andra punkten."
    page.get_by_role("button", name="Ta bort beslutspunkt 1").click()
    assert "Andra punkten." not in saved("förslag_till_beslut")
    page.get_by_role("button", name="Lägg till underskrift").click()
    page.get_by_label("Namn, underskrift 1").fill("Eva Direktör")
    page.get_by_role("button", name="Lägg till underskrift").click()
    page.get_by_label("Namn, underskrift 2").fill("Olle Ordförande")
    page.get_by_role("button", name="Flytta upp underskrift 2").click()
    assert [u["namn"] for u in saved("underskrifter")] == ["Olle Ordförande", "Eva Direktör"]
    page.get_by_role("button", name="Ta bort underskrift 1").click()
    assert [u["namn"] for u in saved("underskrifter")] == ["Eva Direktör"]
    # the formatted view of a text area, and the tabs of a shared ärende
    page.get_by_role("button", name="Visa formaterad text").first.click()
    expect(page.locator("#sammanfattning-visning p").first).to_contain_text(
        saved("sammanfattning").split(".")[0])
    page.get_by_role("button", name="Dölj formaterad text").first.click()
    expect(page.locator("#sammanfattning-visning")).to_be_hidden()
    page.get_by_role("navigation", name="Versioner av det gemensamma ärendet").get_by_role(
        "link", name="Försäkrings AB Göta Lejon").click()
    expect(page.get_by_label("Handläggarens namn")).to_have_value(
        saved("handläggare", "organisationer/gota-lejon.yaml")["namn"])


@pytest.mark.parametrize(("path", "fill", "button"), [
    ("/nytt", {"Mappnamn": "2026-06-ny"}, "Skapa ärendet"),
    (f"{EDIT}/kopiera", {"Mappnamn för det nya ärendet": "2026-06-kopia"}, "Skapa kopian"),
    ("/nytt-utskick", {"Mappnamn": "2026-06-brev"}, "Skapa utskicket"),
    (f"/utskick/{LETTERS}", {}, "Skapa följebrev"),
], ids=["nytt", "kopiera", "nytt-utskick", "utskick"])
def test_small_forms_refused_for_a_stale_token_keep_their_values(site, page, path, fill, button):
    page.goto(site.url + path)
    for label, value in fill.items():
        page.get_by_label(label, exact=True).fill(value)
    boxes = page.locator("main input[type=checkbox]")
    chosen = boxes.first.get_attribute("id") if boxes.count() else None
    if chosen:
        page.locator(f"#{chosen}").check()
    page.evaluate("document.querySelectorAll('input[name=csrf]').forEach(i => i.value = 'gammal')")
    page.get_by_role("button", name=button).click()
    expect(page.locator("#nekad")).to_contain_text("Ingenting sparades")
    for label, value in fill.items():
        expect(page.get_by_label(label, exact=True)).to_have_value(value)
    if chosen:
        expect(page.locator(f"#{chosen}")).to_be_checked()
    assert not (site.content / "arenden" / "2026-06-ny").exists()


def test_the_error_page_leads_back(site, page):
    page.goto(site.url + "/arende/finns-inte")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sidan finns inte")
    page.get_by_role("link", name="Till startsidan").click()
    expect(page).to_have_url(site.url + "/")


def test_server_side_errors_appear_at_their_fields_without_javascript(site, browser, page):  # noqa: F811
    copy_arende(page, site, "2026-05-utan-js")
    context = browser.new_context(java_script_enabled=False, locale="sv-SE")
    try:
        page = context.new_page()
        page.goto(site.url + "/arende/2026-05-utan-js?flik=gota-lejon")
        page.get_by_label("Handläggarens e-post", exact=True).fill("inte-en-adress")
        page.get_by_role("button", name="Spara", exact=True).first.click()
        expect(page.locator("#handlaggare-epost-fel")).to_contain_text("är ingen e-postadress")
        link = page.locator("#fellista a[href='#handlaggare-epost']")
        expect(link).to_contain_text("Handläggarens e-post (under Handläggare): ")
        expect(link).not_to_contain_text("arende.yaml")
        tech = page.locator("#fellista li", has=page.locator("a[href='#handlaggare-epost']")).locator("details")
        expect(tech.locator("summary")).to_have_text("Visa tekniska detaljer")
        tech.locator("summary").click()
        expect(tech.locator("code")).to_contain_text("gota-lejon.yaml, rad 6")
        # without JavaScript a list button's answer opens at its list too (the URL's #anchor)
        page.get_by_role("button", name="Lägg till beslutspunkt").click()
        expect(page).to_have_url(re.compile(r"/arende/2026-05-utan-js#forslag$"))
        assert page.evaluate("window.scrollY") > 500
    finally:
        context.close()


# --- building and downloading ------------------------------------------------------------


def _downloads(page) -> dict[str, str]:
    return {a.inner_text(): a.get_attribute("href") for a in page.locator("ul.downloads a").all()}


def test_build_every_download_checked_by_content(site, page, artifacts):  # noqa: F811
    page.goto(site.url + EDIT)
    page.get_by_role("button", name="Spara och skapa handlingarna").click()
    expect(page.get_by_text("Klart.")).to_be_visible(timeout=300_000)
    check_page(page, artifacts, "jobb-arende")
    out = site.out / "arenden" / SAMPLE
    links = _downloads(page)
    assert links, "no downloads"
    seen = set()
    for label, href in links.items():
        name, data = download(page, lambda label=label: page.get_by_role("link", name=label, exact=True).click())
        if href.endswith("/zip"):
            entries = zip_entries(data)
            on_disk = {f"{SAMPLE}/{p.relative_to(out).as_posix()}": p.read_bytes() for p in out.rglob("*")
                       if p.is_file() and not any(part.startswith(".") or part == "utkast"
                                                  for part in p.relative_to(out).parts)}
            assert entries == on_disk
            assert name == f"{SAMPLE}.zip"
            continue
        relative = unquote(href.split("/fil/", 1)[1])
        disk = out / relative
        seen.add(relative)
        if disk.suffix == ".pdf":
            assert_same_pdf(data, disk)
        elif disk.suffix == ".docx":
            assert docx_text(data) == docx_text(disk.read_bytes()) and "handlingsplaner" in docx_text(data)
            assert data == disk.read_bytes()
        else:
            assert data == disk.read_bytes()
        assert name.startswith(f"{SAMPLE} – ") and name.endswith(f" – {disk.name}")
    assert "gota-lejon/handlingar.pdf" in seen
    name, data = download(page, lambda: page.locator(f"ul.downloads a[href$='{'gota-lejon/handlingar.pdf'}']").click())
    assert name == f"{SAMPLE} – Försäkrings AB Göta Lejon – handlingar.pdf"
    text, pages = pdf_text(data)
    assert pages > 1 and "Bilaga 1" in text
    href = page.locator("ul.downloads a[href$='gota-lejon/handlingar.pdf']").get_attribute("href")
    header = page.request.get(site.url + href).headers["content-disposition"]
    assert header.startswith('attachment; filename="2023-10-handlingsplaner - Forsakrings AB Gota Lejon - handlingar.pdf"')
    assert "filename*=UTF-8''2023-10-handlingsplaner%20%E2%80%93%20F%C3%B6rs%C3%A4krings" in header
    page.get_by_role("link", name="Tillbaka till ärendet").click()
    expect(page).to_have_url(re.compile(rf"{EDIT}\?flik="))


def test_letters_built_downloaded_and_send_dry_run(site, page, artifacts):  # noqa: F811
    page.goto(f"{site.url}/utskick/{LETTERS}")
    page.get_by_text("Enskilda organisationer", exact=True).click()
    page.get_by_label("Higab AB", exact=True).check()
    page.get_by_label("Boplats Göteborg AB", exact=True).check()
    page.get_by_role("button", name="Skapa följebrev").click()
    expect(page.get_by_text("Klart.")).to_be_visible(timeout=300_000)
    out = site.out / "utskick" / LETTERS
    for label, href in _downloads(page).items():
        if href.endswith("/zip"):
            continue
        disk = out / unquote(href.split("/fil/", 1)[1])
        name, data = download(page, lambda label=label: page.get_by_role("link", name=label, exact=True).click())
        assert data == disk.read_bytes()
        if disk.suffix == ".pdf":
            assert_same_pdf(data, disk)
            assert "– följebrev.pdf" in name and name.startswith(f"{LETTERS} – ")
        elif disk.suffix == ".docx":
            assert docx_text(data).strip()
    page.get_by_role("link", name="Tillbaka till utskicket").click()
    name, data = download(page, lambda: page.get_by_role("link", name="Ladda ner de senast skapade breven som zip").click())
    entries = zip_entries(data)
    assert entries == {f"{LETTERS}/{p.relative_to(out).as_posix()}": p.read_bytes() for p in out.rglob("*")
                       if p.is_file() and not any(part.startswith(".") for part in p.relative_to(out).parts)}
    page.get_by_role("link", name="Visa vad som skulle skickas nu (provkörning)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Provkörning: vad som skulle skickas")
    expect(page.locator("main")).to_contain_text(f"beslut send utskick/{LETTERS}")
    check_page(page, artifacts, "skicka")
    page.get_by_role("link", name="Tillbaka till utskicket").click()
    expect(page).to_have_url(f"{site.url}/utskick/{LETTERS}")


def test_without_javascript_the_job_page_is_followed_by_its_link(site, browser):  # noqa: F811
    """No script polls the job: "Uppdatera sidan" reloads the same job until it says Klart, with its files."""
    context = browser.new_context(java_script_enabled=False, locale="sv-SE")
    try:
        page = context.new_page()
        page.goto(f"{site.url}/utskick/{LETTERS}")
        page.get_by_label("Alla organisationer", exact=True).check()  # 42 letters with PDF/A: seconds, not instant
        page.get_by_label("Skapa också PDF/A av varje brev").check()
        page.get_by_role("button", name="Skapa följebrev").click()
        expect(page).to_have_url(re.compile(r"/jobb/[^/]+$"))
        job_url, clicks = page.url, 0
        for _ in range(600):
            if page.get_by_text("Klart.", exact=True).count():
                break
            refresh = page.get_by_role("link", name="Uppdatera sidan")
            expect(refresh).to_have_attribute("href", job_url.removeprefix(site.url))
            page.wait_for_timeout(500)
            refresh.click()
            clicks += 1
        assert clicks >= 1, "the job was finished before its page was first shown: nothing to update"
        expect(page.get_by_text("Klart.", exact=True)).to_be_visible()
        assert page.url == job_url
        links = _downloads(page)
        assert sum(label.endswith(".pdf") for label in links) == 42
        name, data = download(page, lambda: page.get_by_role("link", name="Göteborg & Co Träffpunkt AB: goteborg-co.pdf").click())
        assert "följebrev" in name and "Göteborg & Co" in pdf_text(data)[0]
    finally:
        context.close()


def test_an_utskick_created_and_edited_in_the_page(site, page):
    page.goto(site.url + "/")
    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Nytt utskick").click()
    page.get_by_label("Mappnamn").fill("2026-05-inbjudan")
    page.get_by_role("button", name="Skapa utskicket").click()
    expect(page.locator("#meddelande")).to_have_text("Utskicket är skapat. Fyll i det och spara.")
    expect(page.locator("#felrubrik")).to_contain_text("fel")
    expect(page.locator("#felsammanfattning a[href='#rubrik']")).to_contain_text("Rubrik: saknas")
    page.get_by_label("Rubrik", exact=True).fill("Inbjudan till lanseringsträff")
    page.get_by_label("Namn", exact=True).fill("Eva Direktör")
    page.get_by_label("Titel", exact=True).fill("Direktör")
    page.get_by_label("Brödtext").fill("Hej {{ organisation }}!\n\nVälkommen till träffen.")
    page.get_by_label("Bara de organisationer jag väljer nedan").check()
    page.get_by_label("Higab AB", exact=True).first.check()
    page.locator("#valda-boplats").check()
    # a stale token: the form comes back with everything chosen and typed
    page.evaluate("document.querySelector('#utskicksformular input[name=csrf]').value = 'gammal'")
    page.get_by_role("button", name="Spara").first.click()
    expect(page.locator("#nekad")).to_contain_text("Ingenting sparades")
    expect(page.get_by_label("Rubrik", exact=True)).to_have_value("Inbjudan till lanseringsträff")
    expect(page.locator("#valda-boplats")).to_be_checked()
    page.get_by_role("button", name="Spara").first.click()
    expect(page.locator("#meddelande")).to_have_text("Sparat.")
    expect(page.locator("#felrubrik")).to_have_text("Inga fel: breven går att skapa")
    import yaml

    data = yaml.safe_load((site.content / "utskick" / "2026-05-inbjudan" / "utskick.yaml").read_text(encoding="utf-8"))
    assert data["rubrik"] == "Inbjudan till lanseringsträff" and data["mottagare"] == ["higab", "boplats"]
    assert data["underskrift"] == {"namn": "Eva Direktör", "titel": "Direktör"}
    assert data["brödtext"].startswith("Hej {{ organisation }}!")
    page.get_by_role("link", name="Till att skapa breven").click()
    expect(page.locator(".meta").first).to_contain_text("higab, boplats (2 mottagare)")
    page.get_by_role("link", name="Redigera utskicket (text och mottagare)").click()
    expect(page.get_by_label("Rubrik", exact=True)).to_have_value("Inbjudan till lanseringsträff")


# --- every page: navigation, screenshots, reflow at 320 px, axe ---------------------------


def test_navigation_links_lead_where_they_say(site, page):
    page.goto(site.url + EDIT)
    for name, heading in [("Nytt ärende", "Nytt ärende"), ("Papperskorg", "Papperskorg"),
                          ("Ärenden och utskick", "Ärenden och utskick")]:
        page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name=name).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    page.get_by_role("link", name="Skapa ett nytt ärende").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nytt ärende")
    page.go_back()
    page.get_by_role("link", name=LETTERS, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Följebrev: "))
    page.get_by_role("link", name="Ärenden och utskick").last.click()
    page.get_by_role("link", name=SAMPLE).first.click()
    expect(page).to_have_url(site.url + EDIT)
    page.get_by_role("link", name="Ärenden och utskick").last.click()  # the crumb
    expect(page.get_by_role("heading", level=1)).to_have_text("Ärenden och utskick")
    page.get_by_role("link", name="beslut Göteborgs Stad").click()
    expect(page).to_have_url(site.url + "/")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Hoppa till innehållet")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.goto(site.url + EDIT)
    page.get_by_role("link", name="Redigera filen som text").click()
    expect(page.get_by_label("Filens text")).to_have_value(
        (site.content / "arenden" / SAMPLE / "arende.yaml").read_text(encoding="utf-8"))
    page.get_by_role("link", name="Tillbaka till formuläret").first.click()
    expect(page).to_have_url(re.compile(rf"{EDIT}\?flik="))


PAGES = [
    ("start", "/"),
    ("arende", EDIT),
    ("arende-flik", EDIT + "?flik=gota-lejon"),
    ("kopiera", EDIT + "/kopiera"),
    ("ta-bort", EDIT + "/ta-bort"),
    ("papperskorg", "/papperskorg"),
    ("text", EDIT + "/text?flik=gemensamt"),
    ("nytt", "/nytt"),
    ("utskick", f"/utskick/{LETTERS}"),
    ("utskick-redigera", f"/utskick/{LETTERS}/redigera"),
    ("nytt-utskick", "/nytt-utskick"),
    ("skicka-sida", f"/utskick/{LETTERS}/skicka"),
    ("fel-404", "/finns-inte"),
]


@pytest.mark.parametrize(("name", "path"), PAGES, ids=[p[0] for p in PAGES])
def test_every_page_reflows_at_320_px_and_is_clean_under_axe(site, page, artifacts, name, path):  # noqa: F811
    page.goto(site.url + path)
    check_page(page, artifacts, name)


def test_refused_and_dialog_states_reflow_and_are_clean_under_axe(site, page, artifacts):  # noqa: F811
    copy_arende(page, site, "2026-05-skarm")
    page.goto(site.url + "/arende/2026-05-skarm?flik=gota-lejon")
    page.get_by_label("Handläggarens e-post", exact=True).fill("fel")
    expect(page.locator("#handlaggare-epost-fel")).to_be_visible()
    check_page(page, artifacts, "arende-med-fel")
    page.goto(site.url + "/arende/2026-05-skarm")
    page.get_by_role("button", name="Ta bort bilaga 1").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    check_page(page, artifacts, "bekrafta-dialog")
    page.keyboard.press("Escape")


def test_sign_in_page(browser, tmp_path, artifacts):  # noqa: F811
    from generator.web.security import add_user
    from generator.web.server import make_config

    config = copy_content(tmp_path)
    users = tmp_path / "anvandare"
    add_user(users, "anna", "ett långt lösenord")

    config = make_config(content=config.content, organisationer=config.organisationer, out=config.out,
                         host="127.0.0.1", users=users, trusted_header=None, converters=1, state=config.state)
    with serve(config) as s, opened(browser) as page:
        page.goto(s.url + EDIT)
        expect(page).to_have_url(re.compile(r"/logga-in\?nasta="))
        check_page(page, artifacts, "logga-in")
        page.get_by_label("Användarnamn").fill("anna")
        page.get_by_label("Lösenord").fill("fel lösenord")
        page.get_by_role("button", name="Logga in").click()
        expect(page.get_by_role("alert")).to_contain_text("Fel användarnamn eller lösenord")
        check_page(page, artifacts, "logga-in-fel")
        page.get_by_label("Lösenord").fill("ett långt lösenord")
        page.get_by_role("button", name="Logga in").click()
        expect(page).to_have_url(s.url + EDIT)
        page.get_by_role("button", name="Logga ut").click()
        expect(page.get_by_text("Du är utloggad.")).to_be_visible()
