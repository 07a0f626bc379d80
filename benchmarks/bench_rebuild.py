"""Benchmark of a rebuild after a text edit: `build` against `render --pdf`, one organisation.

Run: .venv/bin/python benchmarks/bench_rebuild.py [ROUNDS]   (default 3)

Copies the sample ärende, builds it once for Göta Lejon (which converts its .pptx and
.docx bilagor into the cache), then, each round, changes only `rubrik` and times
`beslut render --pdf` and `beslut build` as the user runs them (a new process each, so
LibreOffice starts cold every time). Prints the median of each and the ratio
build / render --pdf (target: at most 1.3). Nothing is asserted.
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
BESLUT = [sys.executable, "-m", "generator"]


def beslut(*args: str | Path, cwd: Path) -> float:
    """Run one beslut command in a new process; return its wall time in seconds."""
    start = time.perf_counter()
    subprocess.run([*BESLUT, *map(str, args)], cwd=cwd, check=True, capture_output=True,
                   env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rounds", type=int, nargs="?", default=3)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory(prefix="bench-rebuild-") as tmp:
        work = Path(tmp)
        shutil.copytree(REPO / "content", work / "content")
        arende = work / "content" / "arenden" / SAMPLE.name
        common = ["--organisation", "gota-lejon", "--out", work / "out"]
        first = beslut("build", arende, *common, cwd=work)
        print(f"first build (bilagor converted into the cache): {first:.2f} s")
        shared = arende / "arende.yaml"
        text = shared.read_text(encoding="utf-8")
        render, build = [], []
        for n in range(rounds):
            shared.write_text(text.replace("rubrik: ", f"rubrik: Version {n} av ", 1), encoding="utf-8")
            render.append(beslut("render", arende, "--pdf", *common, cwd=work))
            build.append(beslut("build", arende, *common, cwd=work))
        r, b = statistics.median(render), statistics.median(build)
        print(f"render --pdf after a text edit: {r:.2f} s (median of {rounds})")
        print(f"build after a text edit:        {b:.2f} s (median of {rounds})")
        print(f"ratio build / render --pdf:     {b / r:.2f}x (target <= 1.3x)")


if __name__ == "__main__":
    main()
