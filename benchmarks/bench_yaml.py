"""Benchmark of read_yaml on the largest and most hostile content files it accepts or refuses.

Run: .venv/bin/python benchmarks/bench_yaml.py
Prints, per case, the time and peak memory of read_yaml and whether it was refused.
Target: every case under 2 s and 50 MB (issue 8: "a few MB or seconds"). Nothing is asserted.
"""

from __future__ import annotations

import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from generator.errors import ContentError  # noqa: E402
from generator.yamlfile import MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES, MAX_TEXT_CHARS, read_yaml  # noqa: E402

TEXT = ("ordet " * (MAX_TEXT_CHARS // 6))[: MAX_TEXT_CHARS * 95 // 100]
LAUGHS = "a: &a [" + ",".join(['"lol"'] * 9) + "]\n" + "".join(
    f"{c}: &{c} [" + ",".join([f"*{p}"] * 9) + "]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True))

CASES = {
    "2 texts near the length limit (block)": "".join(
        f"k{i}: |\n" + "".join(f"  {TEXT[j:j + 80]}\n" for j in range(0, len(TEXT), 80)) for i in range(2)),
    "values at the node limit": "a:\n" + "  - x\n" * (MAX_NODES - 3),
    "one value over the node limit": "a:\n" + "  - x\n" * MAX_NODES,
    "blank lines up to the size limit": "\n" * (MAX_FILE_BYTES - 10) + "a: b\n",
    "comment up to the size limit": "# " + "x" * (MAX_FILE_BYTES - 20) + "\na: b\n",
    "billion laughs, 9 levels": LAUGHS,
    "5000 nested brackets": "a: " + "[" * 5000 + "]" * 5000 + "\n",
    f"{MAX_DEPTH + 1} nested mappings": "".join("  " * i + f"k{i}:\n" for i in range(MAX_DEPTH + 1)),
}


def read(path: Path) -> str:
    """Read ``path`` and return "read" or the start of the refusal."""
    try:
        read_yaml(path)
        return "read"
    except ContentError as e:
        return "refused: " + e.message[:50]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fil.yaml"
        for name, text in CASES.items():
            path.write_text(text, encoding="utf-8")
            started = time.perf_counter()
            outcome = read(path)
            seconds = time.perf_counter() - started
            tracemalloc.start()  # a second run: tracemalloc slows reading down
            read(path)
            peak = tracemalloc.get_traced_memory()[1] / 1e6
            tracemalloc.stop()
            print(f"{name:38} {len(text) / 1e3:5.0f} kB {seconds:5.2f} s {peak:5.1f} MB  {outcome}")


if __name__ == "__main__":
    main()
