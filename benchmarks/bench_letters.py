"""Benchmark: följebrev batches. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bench_letters.py            # full run (naive route ~2 min)
    .venv/bin/python benchmarks/bench_letters.py --quick    # naive route on 10 letters, extrapolated

Measures, on the sample utskick (three pages of Markdown):
- .docx only: documents per second, one process and the default worker pool;
- .docx + PDF/A for 100 letters with warm LibreOffice workers, side by side with the naive
  route of one ``soffice --convert-to pdf`` call per document;
- peak memory (RSS of the main process and of its workers) for 20 and for 200 recipients.

Targets (issue 4): >= 100 docx/s, PDF batch >= 8x faster than naive, flat memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from generator import pipeline  # noqa: E402

UTSKICK = REPO / "content" / "utskick" / "2023-08-handlingsplaner"


def make_registry(folder: Path, count: int) -> Path:
    """Write a registry of ``count`` organisations (the real ones, repeated with new ids)."""
    real = yaml.safe_load((REPO / "content" / "organisationer.yaml").read_text(encoding="utf-8"))
    orgs = []
    for i in range(count):
        org = dict(real["organisationer"][i % len(real["organisationer"])])
        org["id"] = f"{org['id']}-{i}"
        orgs.append(org)
    path = folder / f"organisationer-{count}.yaml"
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


def letters(utskick: Path, registry: Path, out: Path, *, pdf: bool = False, workers: int | None = None,
            till: list[str] | None = None):
    """Plan and run the letters of ``utskick`` through the engine, as `beslut letters` does."""
    plan = pipeline.plan_utskick(utskick, registry, out, till=till, pdf=pdf)
    return pipeline.run(plan, workers=workers)


def memory_run(count: int) -> None:
    """(child mode) Render ``count`` letters, docx only, and print peak RSS as JSON."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        registry = make_registry(tmp, count)
        utskick = make_utskick(tmp)
        letters(utskick, registry, tmp / "out")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"main_mib": round(own, 1), "worker_mib": round(workers, 1)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="naive route on 10 letters, extrapolated")
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_run(args.memory_child)
        return

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        registry = make_registry(tmp, args.count)
        utskick = make_utskick(tmp)
        letters(utskick, registry, tmp / "warmup", workers=1, till=["alla"])

        one = timed(lambda: letters(utskick, registry, tmp / "d1", workers=1))
        pool = timed(lambda: letters(utskick, registry, tmp / "d2"))
        print(f"docx only, {args.count} letters: {args.count / one:6.1f} docs/s in one process, "
              f"{args.count / pool:6.1f} docs/s with the worker pool (target >= 100)")

        warm = timed(lambda: letters(utskick, registry, tmp / "p", pdf=True))
        docs = sorted((tmp / "d1" / "brev").glob("*.docx"))
        sample = docs[:10] if args.quick else docs
        naive = naive_pdf(sample, tmp / "naive") * len(docs) / len(sample)
        label = " (extrapolated from 10)" if args.quick else ""
        print(f"docx + PDF/A, {args.count} letters: warm workers {warm:6.1f} s, "
              f"naive soffice per document {naive:6.1f} s{label}: {naive / warm:4.1f}x faster (target >= 8x)")

    for count in (20, 200):
        out = subprocess.run([sys.executable, __file__, "--memory-child", str(count)],
                             check=True, capture_output=True, text=True).stdout
        figures = json.loads(out.strip().splitlines()[-1])
        print(f"peak memory, {count:3d} recipients (docx): main {figures['main_mib']} MiB, "
              f"largest worker {figures['worker_mib']} MiB")


if __name__ == "__main__":
    main()
