"""Benchmark: följebrev batches. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bench_letters.py            # full run (naive route ~2 min)
    .venv/bin/python benchmarks/bench_letters.py --quick    # naive route on 10 letters, extrapolated

Measures, on the sample utskick (three pages of Markdown):
- .docx only: documents per second, one process and the default worker pool;
- .docx + PDF/A for 100 letters through the engine (`beslut letters --pdf`, LibreOffice
  started cold), side by side, in the same run, with two baselines on the same .docx
  files: the naive route (one ``soffice --convert-to pdf`` call per document) and two
  parallel batched ``soffice --convert-to pdf`` calls (half the files each, own profiles);
- peak memory (RSS of the main process and of its largest worker) for 20, 200, 1,000 and
  2,000 recipients (2,000 from two registry files: one holds at most 10,000 values).

Targets (issue 13): >= 300 docx/s with the pool, PDF batch <= 0.5x the two batched soffice
calls, flat memory. Each timed route runs ``--repeat`` times; medians are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from generator import pipeline  # noqa: E402
from generator.jobs import plan_letters  # noqa: E402

UTSKICK = REPO / "content" / "utskick" / "2023-08-handlingsplaner"


REGISTRY_MAX = 1000
"""Organisations per registry file: 2,000 would exceed a file's 10,000 values (yamlfile.MAX_NODES)."""


def make_registry(folder: Path, count: int, first: int = 0) -> Path:
    """Write a registry of ``count`` organisations (the real ones, repeated with new ids from ``first``)."""
    real = yaml.safe_load((REPO / "content" / "organisationer.yaml").read_text(encoding="utf-8"))
    orgs = []
    for i in range(first, first + count):
        org = dict(real["organisationer"][i % len(real["organisationer"])])
        org["id"] = f"{org['id']}-{i}"
        orgs.append(org)
    path = folder / f"organisationer-{first}-{count}.yaml"
    path.write_text(yaml.safe_dump({"organisationer": orgs}, allow_unicode=True), encoding="utf-8")
    return path


def make_utskick(folder: Path) -> Path:
    """Copy the sample utskick, sent to everyone in the registry."""
    target = folder / "brev"
    shutil.copytree(UTSKICK, target)
    data = yaml.safe_load((target / "utskick.yaml").read_text(encoding="utf-8"))
    data["mottagare"], data["utom"] = "alla", []
    (target / "utskick.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return target


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def naive_pdf(docs: list[Path], outdir: Path) -> float:
    """Convert each document with its own ``soffice --convert-to pdf`` call; return seconds."""
    profile = outdir / "profile"
    options = 'pdf:writer_pdf_Export:{"SelectPdfVersion":{"type":"long","value":"2"},"UseTaggedPDF":{"type":"boolean","value":"true"}}'
    start = time.perf_counter()
    for doc in docs:
        subprocess.run(
            ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", options,
             "--outdir", str(outdir), str(doc)],
            check=True, capture_output=True,
        )
    return time.perf_counter() - start


def batched_pdf(docs: list[Path], outdir: Path, calls: int = 2) -> float:
    """Convert ``docs`` with ``calls`` parallel batched ``soffice`` calls (own fresh profiles); return seconds."""
    options = 'pdf:writer_pdf_Export:{"SelectPdfVersion":{"type":"long","value":"2"},"UseTaggedPDF":{"type":"boolean","value":"true"}}'
    start = time.perf_counter()
    procs = [subprocess.Popen(
        ["soffice", f"-env:UserInstallation=file://{outdir}/profile-{i}", "--headless", "--convert-to", options,
         "--outdir", str(outdir / f"out-{i}"), *map(str, docs[i::calls])],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for i in range(calls)]
    for proc in procs:
        proc.wait()
    seconds = time.perf_counter() - start
    made = len(list(outdir.glob("out-*/*.pdf")))
    assert made == len(docs), f"soffice wrote {made} of {len(docs)} PDFs"
    return seconds


def letters(utskick: Path, registry: Path, out: Path, *, pdf: bool = False, workers: int | None = None,
            org_ids: list[str] | None = None):
    """Plan and run the letters of ``utskick`` through the engine, as `beslut letters` does."""
    plan = pipeline.plan_utskick(utskick, registry, out, org_ids=org_ids, pdf=pdf)
    return pipeline.run(plan, workers=workers)


def peak_rss_mib() -> float:
    """Return this process's peak RSS in MiB since it started.

    Linux's ``ru_maxrss`` keeps the peak of the process that forked and exec'ed us (the
    benchmark's own 80-odd MiB), so the kernel's per-image high-water mark is read instead.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class OfficeMemory:
    """Samples (every 50 ms, in a thread) the RSS of this process's LibreOffice processes.

    LibreOffice runs in sessions of its own (killed as a group), so it never shows in
    ``RUSAGE_CHILDREN``: every ``soffice.bin`` descended from this process is read from /proc.
    ``peak_mib`` is the largest sum seen at one moment.
    """

    def __init__(self):
        self.peak_mib = 0.0

    def __enter__(self) -> OfficeMemory:  # one sampling thread per ``with``; the peak is kept
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        me = os.getpid()
        while not self._stop.wait(0.05):
            total = 0
            for entry in Path("/proc").iterdir():
                try:
                    if not entry.name.isdigit() or (entry / "comm").read_text().strip() != "soffice.bin":
                        continue
                    if not _descends_from(int(entry.name), me):
                        continue
                    status = (entry / "status").read_text()
                except OSError:
                    continue
                total += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
            self.peak_mib = max(self.peak_mib, total / 1024)


def _descends_from(pid: int, ancestor: int) -> bool:
    while pid > 1:
        if pid == ancestor:
            return True
        try:
            pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            return False
    return False


def memory_run(count: int, pdf: bool = False) -> None:
    """(child mode) Render ``count`` letters (with ``pdf``, also PDF/A) in one run; print peak RSS as JSON.

    More than ``REGISTRY_MAX`` recipients come from several registry files, each checked
    as ``beslut letters`` checks one; their recipients are planned and run together.
    LibreOffice's peak (all its processes at one moment) is sampled while the run goes.
    """
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "in").mkdir()
        utskick = make_utskick(tmp / "in")
        recipients = []
        for first in range(0, count, REGISTRY_MAX):
            registry = make_registry(tmp / "in", min(REGISTRY_MAX, count - first), first)
            loaded, some = pipeline.validate_utskick(utskick, registry)
            recipients += some
        with OfficeMemory() as office:
            report = pipeline.run(plan_letters(loaded, recipients, tmp / "out", pdf=pdf))
        assert not report.failed and len(report.outcomes) == count
    own = peak_rss_mib()
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"main_mib": round(own, 1), "worker_mib": round(workers, 1),
                      "office_mib": round(office.peak_mib, 1)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="naive route on 10 letters, extrapolated")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each timed route (median printed)")
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--memory-pdf", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--pdf-memory", type=int, nargs="*", default=[], metavar="N",
                        help="also PDF/A runs of N letters each (e.g. 100 400), peak RSS with LibreOffice's")
    args = parser.parse_args()
    if args.memory_child:
        memory_run(args.memory_child, pdf=args.memory_pdf)
        return

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        inputs = tmp / "in"  # apart from the output folders: out/ may not lie inside the content
        inputs.mkdir()
        registry = make_registry(inputs, args.count)
        utskick = make_utskick(inputs)
        letters(utskick, registry, tmp / "warmup", workers=1, org_ids=["alla"])
        runs = range(args.repeat)

        one = statistics.median(timed(lambda n=n: letters(utskick, registry, tmp / f"d1-{n}", workers=1)) for n in runs)
        pool = statistics.median(timed(lambda n=n: letters(utskick, registry, tmp / f"d2-{n}")) for n in runs)
        print(f"docx only, {args.count} letters: {args.count / one:6.1f} docs/s in one process, "
              f"{args.count / pool:6.1f} docs/s with the worker pool (target >= 300)")

        docs = sorted((tmp / "d1-0" / "brev").glob("*.docx"))
        engine, batched = [], []
        office_engine, office_batched = OfficeMemory(), OfficeMemory()
        for n in runs:  # interleaved, so that the machine's load hits both alike
            with office_batched:
                batched.append(batched_pdf(docs, tmp / f"batched-{n}"))
            with office_engine:
                engine.append(timed(lambda n=n: letters(utskick, registry, tmp / f"p-{n}", pdf=True)))
        warm, two = statistics.median(engine), statistics.median(batched)
        sample = docs[:10] if args.quick else docs
        naive = naive_pdf(sample, tmp / "naive") * len(docs) / len(sample)
        label = " (extrapolated from 10)" if args.quick else ""
        print(f"docx + PDF/A, {args.count} letters: beslut letters --pdf {warm:6.1f} s "
              f"(runs: {', '.join(f'{x:.1f}' for x in engine)})")
        print(f"  two parallel batched soffice calls {two:6.1f} s (runs: {', '.join(f'{x:.1f}' for x in batched)}): "
              f"{warm / two:4.2f}x their time (target <= 0.5x)")
        print(f"  naive soffice per document {naive:6.1f} s{label}: {naive / warm:4.1f}x faster")
        print(f"  LibreOffice peak RSS (its processes at one moment): beslut letters --pdf "
              f"{office_engine.peak_mib:.0f} MiB, two batched soffice calls {office_batched.peak_mib:.0f} MiB")

    for count in (20, 200, 1000, 2000):
        out = subprocess.run([sys.executable, __file__, "--memory-child", str(count)],
                             check=True, capture_output=True, text=True).stdout
        figures = json.loads(out.strip().splitlines()[-1])
        print(f"peak memory, {count:4d} recipients (docx): main {figures['main_mib']} MiB, "
              f"largest worker {figures['worker_mib']} MiB")
    for count in args.pdf_memory:
        start = time.perf_counter()
        out = subprocess.run([sys.executable, __file__, "--memory-child", str(count), "--memory-pdf"],
                             check=True, capture_output=True, text=True).stdout
        seconds = time.perf_counter() - start
        figures = json.loads(out.strip().splitlines()[-1])
        print(f"peak memory, {count:4d} recipients (docx + PDF/A, {seconds:.1f} s): main {figures['main_mib']} MiB, "
              f"largest worker {figures['worker_mib']} MiB, LibreOffice {figures['office_mib']} MiB")


if __name__ == "__main__":
    main()
