"""The real-world corpus (tests/corpus/): each file built as the only bilaga of an ärende.

Run: .venv/bin/python benchmarks/bench_corpus.py [--no-sheets]
Builds every file in tests/corpus/, plus a 350-column and a 60 000-row spreadsheet made
with XlsxWriter (skip them with --no-sheets), each with a fresh ``beslut build`` process, as
a handläggare would. Prints a table: bundled (with its warnings counted) or refused (exit
code and the reason, in the words the user sees), wall time, and the peak RSS of the
``beslut`` process and of its LibreOffice (the largest process of its server's group, read
from /proc while it runs). Nothing is asserted; the tests are in tests/test_corpus.py.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "tests" / "corpus"
sys.path.insert(0, str(REPO / "tests"))
from conftest import ORGANISATIONER, VALID_ARENDE  # noqa: E402
from test_corpus import large_sheet, wide_sheet  # noqa: E402


def descendants(pid: int) -> list[int]:
    """Return the processes below ``pid`` (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def build_alone(source: Path, work: Path) -> tuple[int, str, float, float, float]:
    """Build ``source`` as the only bilaga; return (exit code, stderr, seconds, beslut MiB, LibreOffice MiB)."""
    arende = work / "arende"
    arende.mkdir()
    shutil.copyfile(source, arende / source.name)
    data = {**VALID_ARENDE, "bilagor": [{"titel": "Bilagan", "fil": source.name}]}
    (arende / "arende.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "generator", "build", "--organisationer", str(ORGANISATIONER),
         "--out", str(work / "out"), str(arende)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=REPO)
    office_peak = 0
    stop = threading.Event()

    def watch() -> None:
        nonlocal office_peak
        while not stop.is_set():
            sizes = [rss_kib(p) for p in descendants(proc.pid)]
            office_peak = max([office_peak, *sizes])
            time.sleep(0.1)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    stderr = proc.stderr.read() if proc.stderr else ""
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    stop.set()
    watcher.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, stderr, seconds, usage.ru_maxrss / 1024, office_peak / 1024


def outcome(rc: int, stderr: str) -> str:
    """Return 'bundled (N warnings)' or 'refused (exit N): reason', in the user's words."""
    if rc == 0:
        warnings = stderr.count("Varning (")
        return f"bundled ({warnings} varningar)" if warnings else "bundled"
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    reason = lines[-1] if lines else "(inget meddelande)"
    reason = re.split(r"handlingar\.pdf: |till PDF: ", reason, maxsplit=1)[-1]
    return f"refused (exit {rc}): {reason[:110]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-sheets", action="store_true", help="skip the two generated spreadsheets")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-corpus-") as tmp:
        files = sorted(p for p in CORPUS.iterdir() if p.suffix != ".md")
        if not args.no_sheets:
            files.append(wide_sheet(Path(tmp) / "generated-350-columns.xlsx"))
            files.append(large_sheet(Path(tmp) / "generated-60000-rows.xlsx", 60_000))
        print(f"{'file':42} {'KiB':>6} {'s':>6} {'beslut MiB':>10} {'LO MiB':>7}  result")
        counts = {"bundled": 0, "refused": 0, "bug": 0}
        for i, source in enumerate(files):
            work = Path(tmp) / f"case-{i}"
            work.mkdir()
            rc, stderr, seconds, peak, office = build_alone(source, work)
            counts["bundled" if rc == 0 else "bug" if rc == 70 else "refused"] += 1
            print(f"{source.name[:42]:42} {source.stat().st_size / 1024:6.0f} {seconds:6.1f} {peak:10.0f} "
                  f"{office:7.0f}  {outcome(rc, stderr)}", flush=True)
            shutil.rmtree(work, ignore_errors=True)
        print(f"\n{len(files)} files: {counts['bundled']} bundled, {counts['refused']} refused with a message, "
              f"{counts['bug']} exit 70")


if __name__ == "__main__":
    main()
