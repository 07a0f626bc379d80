"""Shared test helpers: the sample content, a valid ärende to vary, and readers of output."""

from __future__ import annotations

import re
from pathlib import Path

import docx
import pytest
import yaml
from docx.oxml.ns import qn

REPO = Path(__file__).resolve().parents[1]
ORGANISATIONER = REPO / "content" / "organisationer.yaml"
SAMPLE = REPO / "content" / "arenden" / "2023-10-handlingsplaner"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PDF_SAMPLES = Path(__file__).resolve().parent / "data" / "pdf-samples"
"""Real-world PDFs (CC-BY-SA-4.0, py-pdf/sample-files): see the README there."""


def render_paper(arende: Path, out: Path, *, org_ids: list[str] | None = None, pdf: bool = False,
                 bundle: bool = False, templates: Path | None = None, converter=None):
    """Plan and run an ärende through the engine, as the CLI does; return the report.

    ``converter``: an open Converter to reuse (tests share one warm LibreOffice).
    """
    from contextlib import nullcontext

    from generator import pipeline

    plan = pipeline.plan_arende(arende, ORGANISATIONER, out, org_ids=org_ids, pdf=pdf, bundle=bundle,
                                templates=templates)
    factory = (lambda: nullcontext(converter)) if converter is not None else None
    report = pipeline.run(plan, converter_factory=factory)
    assert not report.failed, [o.error for o in report.failed]
    return report

VALID_ARENDE = {
    "organisation": "gota-lejon",
    "rubrik": "Information om handlingsplaner",
    "utfärdat": "2023-10-02",
    "handläggare": {"namn": "Petra Willquist", "telefon": "031-368 55 14",
                    "e-post": "petra.willquist@gotalejon.goteborg.se"},
    "förslag_till_beslut": ["Styrelsen antecknar informationen."],
    "sammanfattning": "En sammanfattning.",
    "dimensioner": {"ekonomisk": "Ekonomi.", "ekologisk": "Ekologi.", "social": "Socialt."},
    "samverkan": "Ingen samverkan.",
    "bilagor": [{"titel": "En bilaga", "fil": "bilaga.pdf"}],
    "ärendet": "Ärendet i korthet.",
    "beskrivning": "Beskrivningen.",
    "bedömning": "Bedömningen.",
}


def write_arende(folder: Path, data: dict | str) -> Path:
    """Write ``data`` (a dict, or raw YAML text) as folder/arende.yaml, with a bilaga file."""
    folder.mkdir(parents=True, exist_ok=True)
    text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    (folder / "arende.yaml").write_text(text, encoding="utf-8")
    bilaga = folder / "bilaga.pdf"
    if not bilaga.exists():
        bilaga.write_bytes((PDF_SAMPLES / "minimal-document.pdf").read_bytes())
    return folder


@pytest.fixture
def arende_dir(tmp_path: Path):
    """Return a function writing a valid ärende, changed by ``changes``, into tmp_path."""

    def make(name: str = "arende", **changes) -> Path:
        data = {**VALID_ARENDE, **changes}
        return write_arende(tmp_path / name, {k: v for k, v in data.items() if v is not None})

    return make


def block_texts(container) -> list[str]:
    """Return the text of every paragraph in body order, table cells included.

    The Bilagor list is numbered by Word (style Bilagelista): its numbers are added as a
    reader sees them ("1. …").
    """
    lines = []
    bilaga = 0
    for element in container.iterchildren(qn("w:p"), qn("w:tbl")):
        for para in [element] if element.tag == qn("w:p") else element.iter(qn("w:p")):
            style = para.find(f"{qn('w:pPr')}/{qn('w:pStyle')}")
            if style is not None and style.get(qn("w:val")) == "Bilagelista":
                bilaga += 1
                lines.append(f"{bilaga}. " + paragraph_text(para))
            else:
                lines.append(paragraph_text(para))
    return [normalise(line) for line in lines if line.strip()]


def paragraph_text(p) -> str:
    """Return a w:p element's text, with tabs and line breaks as spaces."""
    parts = []
    for node in p.iter(qn("w:t"), qn("w:tab"), qn("w:br")):
        parts.append(node.text or "" if node.tag == qn("w:t") else " ")
    return "".join(parts)


def docx_lines(path: Path) -> list[str]:
    """Return the text a reader sees in a .docx body, paragraph by paragraph."""
    return block_texts(docx.Document(str(path)).element.body)


def normalise(text: str) -> str:
    """Fold all white space to single spaces."""
    return re.sub(r"\s+", " ", text).strip()


def all_paragraphs(document) -> list:
    """Return every body paragraph of a python-docx Document in order, table cells included.

    Short lists, the Bilagor list and the signatures sit in one-cell tables
    (``markdownwriter.keep_on_one_page``), which ``document.paragraphs`` does not see.
    """
    from docx.text.paragraph import Paragraph

    return [Paragraph(p, document._body) for p in document.element.body.iter(qn("w:p"))]


def assert_opens_in_word(path: Path) -> None:
    """Assert that Word opens the .docx at ``path`` without a repair prompt or warning.

    The check is ``generator.docxcheck.check_docx`` (openxml-audit, profile Microsoft 365,
    and ISO 29500's rules beyond it). One line in the test of any new kind of document.
    """
    from generator.docxcheck import check_docx

    findings = check_docx(path)
    assert not findings, f"{path.name}:\n" + "\n".join(f"{f.severity}: {f.describe()}" for f in findings)


# --- one LibreOffice for the session, and the `slow` marker ------------------------------------


@pytest.fixture(scope="session")
def converter(tmp_path_factory):
    """Return the session's one warm LibreOffice (a ``Converter``), started on first use.

    Every test that converts with a plain converter shares it; a test that needs its own
    (a timeout, a crash, its own workdir) starts one itself.
    """
    from generator.convert import Converter
    from generator.libreoffice import libreoffice_available

    if not libreoffice_available():
        pytest.fail("LibreOffice saknas: bash scripts/setup.sh")
    with Converter(workdir=tmp_path_factory.mktemp("lo")) as conv:
        yield conv


SLOW_FIXTURES = frozenset({"converter"})
"""Fixtures that make a test slow by themselves."""
SLOW_SIGNS = re.compile(
    r"""Converter\(|early_converter\(|\bpdf=True|\bbundle=True|["'](?:--pdf|--bundle|build|bundle)["']"""
    r"""|\.to_pdf\(|soffice|playwright|chromium|sys\.executable|\bserve\(|\bstart_server\(""")
"""What starts LibreOffice (a converter, ``--pdf``, ``beslut build`` or ``bundle``, which make
handlingar.pdf), a browser, a Python subprocess (the CLI, pytest, mypy) or a real web server, in
a test's source."""


def _reachable_sources(func, seen: set) -> list[str]:
    """Return the source of ``func`` and of every function and constant of tests/ it refers to, recursively."""
    import inspect
    import types

    code = getattr(func, "__code__", None)
    if code is None or code in seen or not code.co_filename.startswith(str(Path(__file__).parent)):
        return []
    seen.add(code)
    try:
        texts = [inspect.getsource(func)]
    except (OSError, TypeError):
        texts = []
    codes = [code]
    while codes:  # names used in nested functions and lambdas too
        current = codes.pop()
        codes.extend(c for c in current.co_consts if isinstance(c, types.CodeType))
        for name in current.co_names:
            value = func.__globals__.get(name)
            if isinstance(value, types.FunctionType):
                texts += _reachable_sources(value, seen)
            elif isinstance(value, str | list | tuple | dict):
                texts.append(repr(value)[:2000])
    return texts


def pytest_collection_modifyitems(config, items):
    """Mark ``slow`` every test that uses LibreOffice, a browser, a Python subprocess or a real server.

    ``pytest -m "not slow"`` then runs the pure-Python tests. A test is slow when it (or
    a fixture it uses, or a helper of tests/ either calls) matches ``SLOW_SIGNS``, uses a
    fixture in ``SLOW_FIXTURES``, or is parametrized with such an argument.
    """
    for item in items:
        if item.get_closest_marker("slow") is not None:
            continue
        fixtures = set(getattr(item, "fixturenames", ()))
        sources: list[str] = []
        seen: set = set()
        sources += _reachable_sources(getattr(item, "function", None), seen)
        definitions = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
        for name in fixtures:
            for definition in definitions.get(name, ()):
                sources += _reachable_sources(definition.func, seen)
        callspec = getattr(item, "callspec", None)
        if callspec is not None:
            sources.append(repr(callspec.params))
        if fixtures & SLOW_FIXTURES or any(SLOW_SIGNS.search(text) for text in sources):
            item.add_marker(pytest.mark.slow)
