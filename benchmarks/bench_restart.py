"""Benchmark for choosing RESTART_AFTER: LibreOffice's memory over many conversions, and a restart's cost.

Run: .venv/bin/python benchmarks/bench_restart.py [N]   (N conversions of a letter, default 300)
Prints soffice.bin's resident and peak memory every 50 conversions on one warm converter,
the seconds per conversion, and the seconds one restart costs. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.bench_convert import make_docx  # noqa: E402
from generator.convert import Converter
from generator.officeserver import group_pids  # noqa: E402


def office_memory(conv: Converter) -> tuple[int, int]:
    """Return (VmRSS, VmHWM) of soffice.bin in MiB."""
    for pid in group_pids(conv.server_pgid):
        if b"soffice.bin" in Path(f"/proc/{pid}/cmdline").read_bytes():
            status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
            return int(status["VmRSS"].split()[0]) // 1024, int(status["VmHWM"].split()[0]) // 1024
    return 0, 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, nargs="?", default=300, help="number of conversions (default 300)")
    n = parser.parse_args().n
    with tempfile.TemporaryDirectory() as tmp:
        src = make_docx(Path(tmp) / "brev.docx", 1)
        with Converter(workdir=Path(tmp) / "lo", restart_after=10**9) as conv:
            start = time.monotonic()
            conv.to_pdf(src, Path(tmp) / "ut.pdf")
            first = time.monotonic() - start
            print(f"start + first conversion: {first:.2f} s; RSS/peak {office_memory(conv)} MiB")
            start = time.monotonic()
            for i in range(1, n + 1):
                conv.to_pdf(src, Path(tmp) / "ut.pdf")
                if i % 50 == 0:
                    rss, peak = office_memory(conv)
                    per = (time.monotonic() - start) / i
                    print(f"{i:4d} conversions: RSS {rss} MiB, peak {peak} MiB, {per:.3f} s each")
        with Converter(workdir=Path(tmp) / "lo2", restart_after=1) as conv:
            conv.to_pdf(src, Path(tmp) / "ut.pdf")
            start = time.monotonic()
            for _ in range(5):
                conv.to_pdf(src, Path(tmp) / "ut.pdf")
            print(f"with a restart before every conversion: {(time.monotonic() - start) / 5:.2f} s each")


if __name__ == "__main__":
    main()
