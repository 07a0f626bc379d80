"""The ``slow`` marker (tests/conftest.py) finds LibreOffice through helpers, and leaves pure Python alone."""

from __future__ import annotations

from conftest import SLOW_SIGNS, _reachable_sources


def _converts_alone(docx, pdf):  # never called: read by the marker
    from generator.convert import Converter

    with Converter() as converter:
        converter.to_pdf(docx, pdf)


def _builds_through_a_helper(folder):  # never called
    return [_converts_alone(folder / "a.docx", folder / "a.pdf")]


def _pure(text: str) -> str:  # never called
    return text.strip()


def is_slow(function) -> bool:
    return any(SLOW_SIGNS.search(text) for text in _reachable_sources(function, set()))


def test_a_helper_that_starts_libreoffice_makes_its_caller_slow():
    assert is_slow(globals()["_builds_through_a_helper"])  # by name: this test itself stays fast


def test_pure_python_is_not_slow():
    assert not is_slow(_pure)


def test_this_file_runs_without_slow(request):
    assert request.node.get_closest_marker("slow") is None
