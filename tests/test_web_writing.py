"""Writing in ``beslut web`` without Markdown: the toolbar, paste from Word, unsaved text kept.

A real server on 127.0.0.1 and Debian's chromium (Playwright). The clipboard HTML is what
Word for Windows puts there (its list paragraphs with ``mso-list`` and hidden markers, a
grid table, ``<b>``/``<i>`` runs), and what a web page gives (``<ul>``, ``<strong>``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect
from webhelpers import browser, copy_content, serve  # noqa: F401 (fixtures)

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
EDIT = "/arende/2023-10-handlingsplaner?flik=gota-lejon"

WORD_LIST = """<html xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:w="urn:schemas-microsoft-com:office:word">
<head><meta name=Generator content="Microsoft Word 15"><style><!-- p.MsoNormal {margin:0cm;} --></style></head>
<body lang=SV style='tab-interval:65.2pt'><!--StartFragment-->
<p class=MsoNormal>Planen har <b>tre</b> delar och ett <i>syfte</i>:<o:p></o:p></p>
<p class=MsoListParagraphCxSpFirst style='text-indent:-18.0pt;mso-list:l0 level1 lfo1'><![if !supportLists]><span
style='font-family:Symbol;mso-fareast-font-family:Symbol'><span style='mso-list:Ignore'>·<span
style='font:7.0pt "Times New Roman"'>&nbsp;&nbsp;&nbsp;&nbsp;&nbsp; </span></span></span><![endif]>trygghet<o:p></o:p></p>
<p class=MsoListParagraphCxSpMiddle style='text-indent:-18.0pt;mso-list:l0 level2 lfo1'><![if !supportLists]><span
style='font-family:"Courier New"'><span style='mso-list:Ignore'>o<span style='font:7.0pt "Times New Roman"'>&nbsp;&nbsp;
</span></span></span><![endif]>i förskolan<o:p></o:p></p>
<p class=MsoListParagraphCxSpLast style='text-indent:-18.0pt;mso-list:l0 level1 lfo1'><![if !supportLists]><span
style='font-family:Symbol'><span style='mso-list:Ignore'>·<span style='font:7.0pt "Times New Roman"'>&nbsp;&nbsp;
</span></span></span><![endif]>lärande<o:p></o:p></p>
<p class=MsoNormal>Beslutet i korthet:<o:p></o:p></p>
<p class=MsoListParagraphCxSpFirst style='text-indent:-18.0pt;mso-list:l1 level1 lfo2'><![if !supportLists]><span
style='mso-list:Ignore'>1.<span style='font:7.0pt "Times New Roman"'>&nbsp;&nbsp;&nbsp; </span></span><![endif]>Godkänna planen<o:p></o:p></p>
<p class=MsoListParagraphCxSpLast style='text-indent:-18.0pt;mso-list:l1 level1 lfo2'><![if !supportLists]><span
style='mso-list:Ignore'>2.<span style='font:7.0pt "Times New Roman"'>&nbsp;&nbsp;&nbsp; </span></span><![endif]>Förklara beslutet <span
style='font-weight:bold'>omedelbart justerat</span><o:p></o:p></p>
<!--EndFragment--></body></html>"""

WORD_TABLE = """<html><body><!--StartFragment-->
<h1>Kostnader<o:p></o:p></h1>
<table class=MsoTableGrid border=1 cellspacing=0 cellpadding=0 style='border-collapse:collapse;border:none'>
 <tr style='mso-yfti-irow:0;mso-yfti-firstrow:yes'>
  <td width=302 valign=top style='border:solid windowtext 1.0pt'><p class=MsoNormal><b>Post<o:p></o:p></b></p></td>
  <td width=302 valign=top style='border:solid windowtext 1.0pt'><p class=MsoNormal align=right><b>Belopp<o:p></o:p></b></p></td>
 </tr>
 <tr style='mso-yfti-irow:1;mso-yfti-lastrow:yes'>
  <td width=302 valign=top><p class=MsoNormal>Utbildning | personal<o:p></o:p></p></td>
  <td width=302 valign=top><p class=MsoNormal align=right>120 000<o:p></o:p></p></td>
 </tr>
</table>
<p class=MsoNormal>Se <a href="https://goteborg.se/plan">planen</a>.<o:p></o:p></p>
<!--EndFragment--></body></html>"""

WEB_PAGE = """<meta charset='utf-8'><h2>Bakgrund</h2><p>Text med <strong>fet</strong> och <em>kursiv</em> stil,
och en * stjärna.</p><ul><li>ett</li><li>två<ol><li>två a</li></ol></li></ul>"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with serve(copy_content(tmp_path_factory.mktemp("web-writing"))) as running:
        yield running


@pytest.fixture
def page(browser, site):
    context = browser.new_context(locale="sv-SE")
    context.set_default_timeout(20_000)
    pg = context.new_page()
    pg.goto(site.url + EDIT)
    yield pg
    context.close()


def paste(page, selector: str, html: str, plain: str = "") -> None:
    page.locator(selector).focus()
    page.evaluate("""([selector, html, plain]) => {
        const dt = new DataTransfer();
        dt.setData("text/html", html);
        dt.setData("text/plain", plain);
        document.querySelector(selector).dispatchEvent(
            new ClipboardEvent("paste", {clipboardData: dt, bubbles: true, cancelable: true}));
    }""", [selector, html, plain])


def test_pasting_a_word_list_gives_markdown_lists(page):
    area = page.locator("#sammanfattning")
    area.fill("")
    paste(page, "#sammanfattning", WORD_LIST, "trygghet")
    assert area.input_value() == (
        "Planen har **tre** delar och ett *syfte*:\n\n"
        "- trygghet\n"
        "   - i förskolan\n"
        "- lärande\n\n"
        "Beslutet i korthet:\n\n"
        "1. Godkänna planen\n"
        "2. Förklara beslutet **omedelbart justerat**")


def test_pasting_a_word_table_heading_and_link(page):
    area = page.locator("#beskrivning")
    area.fill("")
    paste(page, "#beskrivning", WORD_TABLE)
    assert area.input_value() == (
        "# Kostnader\n\n"
        "| **Post** | **Belopp** |\n"
        "| --- | --- |\n"
        "| Utbildning \\| personal | 120 000 |\n\n"
        "Se [planen](https://goteborg.se/plan).")


def test_pasting_from_a_web_page(page):
    markdown = page.evaluate("html => window.beslutSkriv.htmlToMarkdown(html)", WEB_PAGE)
    assert markdown == ("## Bakgrund\n\nText med **fet** och *kursiv* stil, och en \\* stjärna.\n\n"
                        "- ett\n- två\n   1. två a")


def test_plain_text_paste_is_left_to_the_browser(page):
    area = page.locator("#sammanfattning")
    area.fill("")
    area.focus()
    page.keyboard.insert_text("*redan markdown*")
    assert area.input_value() == "*redan markdown*"


@pytest.mark.parametrize(("button", "before", "selection", "after"), [
    ("Fetstil", "Viktigt beslut", (0, 7), "**Viktigt** beslut"),
    ("Kursiv", "Viktigt beslut", (8, 14), "Viktigt *beslut*"),
    ("Rubrik", "Bakgrund\nText", (0, 0), "# Bakgrund\nText"),
    ("Punktlista", "ett\ntvå", (0, 7), "- ett\n- två"),
    ("Numrerad lista", "ett\ntvå\ntre", (0, 11), "1. ett\n2. två\n3. tre"),
    ("Tabell", "Kostnader:", (10, 10), "Kostnader:\n\n| Rubrik 1 | Rubrik 2 |\n| --- | --- |\n| Text | Text |\n"),
    ("Fotnot", "Enligt lagen.", (12, 12), "Enligt lagen[^1].\n\n[^1]: Fotnotens text"),
    ("Länk", "Se planen", (3, 9), "Se [planen](https://)"),
])
def test_the_toolbar_inserts_each_construct(page, button, before, selection, after):
    area = page.locator("#beskrivning")
    area.fill(before)
    area.evaluate("(el, [a, b]) => el.setSelectionRange(a, b)", list(selection))
    page.locator("[role=toolbar][aria-controls=beskrivning]").get_by_role("button", name=button).click()
    assert area.input_value() == after


def test_the_toolbar_by_keyboard_and_shortcuts(page):
    area = page.locator("#sammanfattning")
    area.fill("Beslut")
    toolbar = page.locator("[role=toolbar][aria-controls=sammanfattning]")
    expect(toolbar).to_have_attribute("aria-label", "Textformat")
    toolbar.get_by_role("button", name="Fetstil").focus()
    page.keyboard.press("ArrowRight")
    expect(toolbar.get_by_role("button", name="Kursiv")).to_be_focused()
    page.keyboard.press("End")
    expect(toolbar.get_by_role("button", name="Länk")).to_be_focused()
    page.keyboard.press("ArrowRight")  # wraps around
    expect(toolbar.get_by_role("button", name="Fetstil")).to_be_focused()
    area.evaluate("el => el.setSelectionRange(0, 6)")
    page.keyboard.press("Enter")
    assert area.input_value() == "**Beslut**"
    area.fill("Beslut")
    area.evaluate("el => el.setSelectionRange(0, 6)")
    area.press("Control+i")
    assert area.input_value() == "*Beslut*"
    # One Tab stop for the whole toolbar: from the button, Tab leaves the toolbar.
    toolbar.get_by_role("button", name="Fetstil").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('[role=toolbar]') === null")


def test_unsaved_text_is_offered_back_after_a_reload_and_leaving_asks_first(page):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.type), d.accept()))
    area = page.locator("#sammanfattning")
    original = area.input_value()
    area.click()
    page.keyboard.press("End")
    page.keyboard.type(" Osparad mening om budgeten.")
    page.wait_for_timeout(800)  # kept after 0.4 s
    page.reload()
    assert dialogs == ["beforeunload"]
    expect(area).to_have_value(original)
    page.get_by_role("button", name="Återställ osparad text").click()
    typed = original + " Osparad mening om budgeten."
    expect(area).to_have_value(typed)
    # Saved: the text is in the file and no longer offered.
    page.get_by_role("button", name="Spara", exact=True).first.click()
    expect(page.get_by_text("Sparat")).to_be_visible()
    page.reload()
    expect(page.get_by_role("button", name="Återställ osparad text")).to_have_count(0)
    expect(area).to_have_value(typed.strip())  # saved as written (the form trims the ends)


def test_unsaved_text_can_be_thrown_away(page):
    area = page.locator("#sammanfattning")
    original = area.input_value()
    area.click()
    page.keyboard.type("x")
    page.wait_for_timeout(800)
    page.on("dialog", lambda d: d.accept())
    page.reload()
    page.get_by_role("button", name="Släng den").click()
    page.reload()
    expect(page.get_by_role("button", name="Återställ osparad text")).to_have_count(0)
    expect(area).to_have_value(original)


@pytest.mark.parametrize("key", ["Shift+Tab", "Tab"])
def test_the_sticky_button_bar_never_hides_the_focused_field(page, key):
    page.set_viewport_size({"width": 1280, "height": 700})
    for field in ("#beskrivning", "#bedomning", "#sammanfattning"):
        target = page.locator(field)
        neighbour = "previousElementSibling" if key == "Tab" else "nextElementSibling"
        # The field sits just under the sticky bar; focus comes to it from its neighbour.
        page.evaluate("""([sel, neighbour]) => {
            const el = document.querySelector(sel);
            window.scrollBy(0, el.getBoundingClientRect().top - 20);
            let from = el[neighbour];
            while (from && from.tabIndex < 0) { from = from[neighbour]; }
            (from || el).focus({preventScroll: true});
        }""", [field, neighbour])
        page.keyboard.press(key)
        if page.evaluate("document.activeElement.id") != field[1:]:
            target.focus()
        bar = page.locator(".actions").first.bounding_box()
        box = page.evaluate("document.activeElement.getBoundingClientRect().top")
        assert box >= bar["y"] + bar["height"], (field, box, bar)


def test_at_320_px_the_form_reflows_and_the_bar_does_not_stick(page):
    page.set_viewport_size({"width": 320, "height": 640})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    position = "getComputedStyle(document.querySelector('.actions')).position"
    assert page.evaluate(position) == "static"  # it would cover a third of the screen
    page.set_viewport_size({"width": 1280, "height": 700})
    assert page.evaluate(position) == "sticky"
