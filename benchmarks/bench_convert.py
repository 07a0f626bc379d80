"""Benchmark of docx -> PDF/A: a warm Converter against one cold soffice call per document.

Run: .venv/bin/python benchmarks/bench_convert.py [N]   (N small .docx files, default 20)
Prints seconds per document for both, the warm server's start-up time and the speedup.
Nothing is asserted.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import docx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from generator.convert import Converter  # noqa: E402

PDFA = ('pdf:writer_pdf_Export:{"SelectPdfVersion":{"type":"long","value":"2"},'
        '"UseTaggedPDF":{"type":"boolean","value":"true"}}')


def make_docx(path: Path, n: int) -> Path:
    document = docx.Document()
    document.core_properties.title = f"Ärende {n}"
    document.add_heading(f"Ärende {n}: handlingsplan", 1)
    for i in range(8):
        document.add_paragraph(f"Stycke {i}. Styrelsen antecknar informationen om ärende {n}. " * 4)
    document.save(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, nargs="?", default=20, help="number of documents (default 20)")
    n = parser.parse_args().n

    with tempfile.TemporaryDirectory(prefix="bench-convert-") as tmp:
        tmp = Path(tmp)
        sources = [make_docx(tmp / f"arende-{i:03}.docx", i) for i in range(n)]

        with Converter(workdir=tmp) as converter:
            start = time.perf_counter()
            converter.to_pdf(sources[0], tmp / "warm" / "first.pdf")  # starts the server
            startup = time.perf_counter() - start
            start = time.perf_counter()
            for src in sources:
                converter.to_pdf(src, tmp / "warm" / f"{src.stem}.pdf")
            warm = (time.perf_counter() - start) / n

        profile = (tmp / "cold-profile").as_uri()
        start = time.perf_counter()
        for src in sources:
            subprocess.run(["soffice", f"-env:UserInstallation={profile}", "--headless",
                            "--convert-to", PDFA, "--outdir", str(tmp / "cold"), str(src)],
                           check=True, capture_output=True)
        cold = (time.perf_counter() - start) / n
        assert len(list((tmp / "cold").glob("*.pdf"))) == n, "soffice skipped documents"

    print(f"{n} documents")
    print(f"warm Converter : {warm:.3f} s/doc (server start + first document {startup:.1f} s)")
    print(f"cold soffice   : {cold:.3f} s/doc (one process per document)")
    print(f"speedup        : {cold / warm:.1f}x; with start-up counted, {n * cold / (startup + n * warm):.1f}x "
          f"(break-even at {startup / (cold - warm):.0f} documents)")


if __name__ == "__main__":
    main()
