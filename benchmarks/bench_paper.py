"""Benchmark: one paper cold, `beslut render --pdf` against one plain `soffice --convert-to pdf`.

Run: .venv/bin/python benchmarks/bench_paper.py [ROUNDS]   (default 5)

Each round, in a new process each (LibreOffice not running): `beslut render --pdf` of the
sample ärende for Göta Lejon, and one `soffice --headless --convert-to pdf` (PDF/A-2b,
tagged, own fresh profile) of the .docx that render wrote. Prints the medians and the
ratio (target <= 1.0x). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "content" / "arenden" / "2023-10-handlingsplaner"
PDFA = ('pdf:writer_pdf_Export:{"SelectPdfVersion":{"type":"long","value":"2"},'
        '"UseTaggedPDF":{"type":"boolean","value":"true"}}')


def timed(cmd: list, cwd: Path, env=None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, env=env)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rounds", type=int, nargs="?", default=5)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory(prefix="bench-paper-") as tmp:
        work = Path(tmp)
        shutil.copytree(REPO / "content", work / "content")
        arende = work / "content" / "arenden" / SAMPLE.name
        env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
        render = [sys.executable, "-m", "generator", "render", str(arende), "--pdf",
                  "--organisation", "gota-lejon", "--out", str(work / "out")]
        beslut, soffice = [], []
        for n in range(rounds):
            beslut.append(timed(render, work, env))
            docx = next((work / "out").rglob("*.docx"))
            profile = (work / f"profile-{n}").as_uri()
            soffice.append(timed(["soffice", f"-env:UserInstallation={profile}", "--headless",
                                  "--convert-to", PDFA, "--outdir", str(work / "plain"), str(docx)], work))
        b, s = statistics.median(beslut), statistics.median(soffice)
        print(f"beslut render --pdf, cold:          {b:.2f} s (median of {rounds}: {', '.join(f'{x:.2f}' for x in beslut)})")
        print(f"one soffice --convert-to pdf, cold: {s:.2f} s (median of {rounds}: {', '.join(f'{x:.2f}' for x in soffice)})")
        print(f"ratio render --pdf / soffice:       {b / s:.2f}x (target <= 1.0x)")


if __name__ == "__main__":
    main()
