"""Shared pieces of the browser tests of ``beslut web``: a real server, Debian's chromium, downloads.

Import what a test module needs (``from webhelpers import browser, serve, ...``); the
fixtures here are ordinary pytest fixtures. Deliverables are checked by content: a PDF's
text and page count, a .docx opened with python-docx, a zip's entries.
"""

from __future__ import annotations

import io
import shutil
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import docx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect, sync_playwright
from pypdf import PdfReader

from generator.web.app import WebConfig
from generator.web.server import start_in_thread

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
SAMPLE = "2023-10-handlingsplaner"
LETTERS = "2023-08-handlingsplaner"

expect.set_options(timeout=20_000)  # a save runs the whole check; two cores shared by several test runs


@contextmanager
def serve(config: WebConfig) -> Iterator[SimpleNamespace]:
    """Serve ``config`` on 127.0.0.1 for the ``with`` block; yield its URL and config."""
    server, thread, url = start_in_thread(config)
    try:
        yield SimpleNamespace(url=url, config=config, content=config.content, out=config.out)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def copy_content(root: Path) -> WebConfig:
    """Copy the repository's content/ under ``root``; return a configuration serving it."""
    content = root / "content"
    shutil.copytree(REPO / "content", content)
    return WebConfig(content=content, organisationer=content / "organisationer.yaml", out=root / "out",
                     state=root / "state")


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (own cookies) and page: Swedish, downloads accepted."""
    context = browser.new_context(accept_downloads=True, locale="sv-SE")
    context.set_default_timeout(30_000)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory) -> Path:
    """The folder of the tests' screenshots (under pytest's tmp dir)."""
    folder = tmp_path_factory.getbasetemp() / "artifacts"
    folder.mkdir(exist_ok=True)
    return folder


def new_page(browser, width: int = 1280):
    context = browser.new_context(accept_downloads=True, locale="sv-SE", viewport={"width": width, "height": 900})
    context.set_default_timeout(20_000)
    return context.new_page()


@contextmanager
def opened(browser, width: int = 1280):
    page = new_page(browser, width)
    try:
        yield page
    finally:
        page.context.close()


def download(page, click) -> tuple[str, bytes]:
    """Run ``click`` (which starts a download); return the file name the server gave and the bytes."""
    with page.expect_download() as info:
        click()
    d = info.value
    return d.suggested_filename, Path(d.path()).read_bytes()


def pdf_text(data: bytes) -> tuple[str, int]:
    """Return a PDF's text and its number of pages."""
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(p.extract_text() or "" for p in reader.pages), len(reader.pages)


def assert_same_pdf(data: bytes, on_disk: Path) -> None:
    """The PDF downloaded has the text and the page count of the file on the server's disk."""
    assert pdf_text(data) == pdf_text(on_disk.read_bytes())
    assert pdf_text(data)[1] >= 1


def docx_text(data: bytes) -> str:
    """Open a .docx with python-docx (it must open) and return its paragraphs' text."""
    document = docx.Document(io.BytesIO(data))
    return "\n".join(p.text for p in document.paragraphs)


def zip_entries(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.testzip() is None
        return {name: z.read(name) for name in z.namelist()}


def check_page(page, artifacts: Path, name: str) -> None:
    """Screenshot the page at 1280 and 320 CSS px; at 320 nothing scrolls sideways; axe finds nothing."""
    results = Axe().run(page)
    assert results.violations_count == 0, f"{name}: {results.generate_report()}"
    width = page.viewport_size["width"] if page.viewport_size else 1280
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(artifacts / f"{name}-1280.png"), full_page=True)
    page.set_viewport_size({"width": 320, "height": 640})
    overflow = page.evaluate("""() => {
        const root = document.documentElement;
        const wide = [...document.querySelectorAll('body *')].filter(e => {
            const r = e.getBoundingClientRect();
            return r.width > 0 && r.right > root.clientWidth + 1 && getComputedStyle(e).position !== 'fixed'
                && !e.closest('.visually-hidden, .skip, dialog:not([open])');
        }).map(e => e.tagName + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : ''));
        return {scroll: root.scrollWidth, client: root.clientWidth, wide: wide.slice(0, 5)};
    }""")
    assert overflow["scroll"] <= overflow["client"], f"{name} scrolls sideways at 320 px: {overflow}"
    assert not overflow["wide"], f"{name}: wider than 320 px: {overflow['wide']}"
    page.screenshot(path=str(artifacts / f"{name}-320.png"), full_page=True)
    results = Axe().run(page)
    assert results.violations_count == 0, f"{name} at 320 px: {results.generate_report()}"
    page.set_viewport_size({"width": width, "height": 900})
