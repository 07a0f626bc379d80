"""The web's converter pool: typed seam, LibreOffice owned by long-lived threads, previews first.

Real LibreOffice throughout; the order test blocks a real pool's thread with a call of its own.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from pypdf import PdfReader

from generator import runfinish
from generator.web import actions, converters

REPO = Path(__file__).resolve().parents[1]
SAMPLE_UTSKICK = REPO / "content" / "utskick" / "2023-08-handlingsplaner"
ORGANISATIONER = REPO / "content" / "organisationer.yaml"
TEMPLATE = REPO / "templates" / "docx" / "foljebrev.docx"

WRAPPER = '''
from pathlib import Path
from generator.convert import PdfConverter

class Wrapper:
    def __enter__(self) -> "Wrapper":
        return self
    def __exit__(self, *exc: object) -> None:
        pass
    def start(self) -> None:
        pass
    def to_pdf(self, src: Path, dst: Path, *, pdfa: bool = True, title: str | None = None, when=None) -> Path:
        return dst
{export_pdf}
def use(converter: PdfConverter) -> None:
    pass

use(Wrapper())
'''
EXPORT_PDF = '''    def export_pdf(self, src: Path, out: Path, *, options: tuple[str, ...] = ()) -> Path:
        return out
'''


@pytest.mark.parametrize("complete", [True, False])
def test_mypy_refuses_a_converter_wrapper_without_export_pdf(tmp_path, complete):
    module = tmp_path / "wrapper.py"
    module.write_text(WRAPPER.format(export_pdf=EXPORT_PDF if complete else ""), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "mypy", "--no-incremental", "--follow-imports=silent",
                           "--config-file", str(REPO / "pyproject.toml"), str(module)],
                          capture_output=True, text=True, cwd=REPO, timeout=300)
    if complete:
        assert done.returncode == 0, done.stdout
    else:
        assert done.returncode == 1 and "export_pdf" in done.stdout, done.stdout


@pytest.fixture
def pool():
    made = converters.ConverterPool(1)
    yield made
    made.close()


def test_libreoffice_outlives_the_threads_that_borrow_it(pool, tmp_path):
    def convert(name: str) -> None:
        with pool.borrow(timeout=60) as conv:
            conv.to_pdf(TEMPLATE, tmp_path / name, pdfa=False)

    for name in ("a.pdf", "b.pdf", "c.pdf"):  # each request in a thread that ends right after
        thread = threading.Thread(target=convert, args=(name,))
        thread.start()
        thread.join()
    assert all(len(PdfReader(tmp_path / n).pages) >= 1 for n in ("a.pdf", "b.pdf", "c.pdf"))
    assert pool._owners[0].converter.starts == 1  # started once, never again as the threads ended


def test_urgent_work_goes_before_a_builds_queued_conversions(pool):
    owner = pool._owners[0]
    running, release, order = threading.Event(), threading.Event(), []

    def blocker(conv):
        running.set()
        release.wait(30)

    threads = [threading.Thread(target=owner.call, args=(converters.JOB, blocker))]
    threads[0].start()
    assert running.wait(30)
    for priority, name in ((converters.JOB, "bygge 1"), (converters.JOB, "bygge 2"), (converters.URGENT, "förhandsgranskning")):
        thread = threading.Thread(target=owner.call, args=(priority, lambda conv, n=name: order.append(n)))
        thread.start()
        threads.append(thread)
        while owner.waiting < len(threads):  # queued before the next one is added
            threading.Event().wait(0.01)
    release.set()
    for thread in threads:
        thread.join(30)
    assert order == ["förhandsgranskning", "bygge 1", "bygge 2"]


def test_an_urgent_borrow_does_not_wait_for_a_build_to_give_back_its_converter(pool, tmp_path):
    with pool.borrow(timeout=5):  # a build holds the only converter
        with pool.borrow(timeout=60, urgent=True) as conv:
            conv.to_pdf(TEMPLATE, tmp_path / "preview.pdf", pdfa=False)
        with pytest.raises(converters.Busy):
            with pool.borrow(timeout=0.2):
                pass
    assert PdfReader(tmp_path / "preview.pdf").pages


def test_web_letters_take_the_composed_route(pool, tmp_path, monkeypatch):
    results = []
    real = runfinish.convert_letters

    def watched(*args, **kwargs):  # the real function, its results kept
        results.append(real(*args, **kwargs))
        return results[-1]

    monkeypatch.setattr(runfinish, "convert_letters", watched)
    org_ids = ["gota-lejon", "liseberg", "higab", "forskolenamnden", "familjebostader"]
    with pool.borrow(timeout=60) as conv:
        report = actions.run_letters(SAMPLE_UTSKICK, ORGANISATIONER, tmp_path / "out", org_ids, pdf=True,
                                     converter=conv)
    assert report.exit_code == 0
    assert [r.composed for r in results] == [len(org_ids) - 1] and results[0].reason is None
    for outcome in report.outcomes:
        assert outcome.outputs.pdf is not None
        pages = PdfReader(outcome.outputs.pdf).pages
        assert len(pages) == 3 and "följebrev 3 (3)" in pages[-1].extract_text()

