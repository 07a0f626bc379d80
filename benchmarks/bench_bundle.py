"""Benchmark of write_bundle: ~20 bilagor, ~200 pages of mixed sizes, some rotated; and large bundles.

Run: .venv/bin/python benchmarks/bench_bundle.py
Prints the time, the output size against the sum of the inputs, and peak memory.
Targets: under 2 s, size ratio at most 1.2. Nothing is asserted.

Run: .venv/bin/python benchmarks/bench_bundle.py --large [PAGES ...]   (default 200 1000 2000)
handlingar.pdf of PAGES / 10 bilagor of 10 pages each (issue 13: 200 bilagor, 2,000 pages):
a tagged bilaga (a .docx converted once by LibreOffice, copied) and an untagged one
(reportlab), both made once and copied. Two bundles per size, each written in a fresh
process: "mixed" (every second bilaga untagged, so the bundle is untagged) and "tagged"
(every part tagged: the structure trees are merged). Prints the time, the process's peak
RSS, its RSS before write_bundle, and the size of the largest part.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import pikepdf
from PIL import Image
from reportlab.lib.pagesizes import A3, A4, landscape, letter
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from generator.bundle import write_bundle  # noqa: E402
from generator.bundleparts import BundlePart  # noqa: E402

BILAGOR = 20
SIZES = [A4, A4, A4, letter, landscape(A4), A3]
WORDS = "handlingsplan styrelse beslut ärende bolag Göteborg budget åtgärd uppföljning risk mål".split()
FONT = next(Path("/usr/share/fonts").rglob("LiberationSerif-Regular.ttf"))


def make_logo() -> ImageReader:
    """Return one noisy image that every page shows (the kind of thing dedup must catch)."""
    rng = random.Random(0)
    image = Image.frombytes("RGB", (240, 120), bytes(rng.randrange(256) for _ in range(240 * 120 * 3)))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return ImageReader(io.BytesIO(out.getvalue()))


def make_bilaga(path: Path, pages: int, rng: random.Random, logo: ImageReader) -> None:
    """Write one bilaga: text in a shared TrueType font, the logo, mixed sizes, some /Rotate."""
    c = canvas.Canvas(str(path), invariant=1)
    for _ in range(pages):
        width, height = rng.choice(SIZES)
        c.setPageSize((width, height))
        c.drawImage(logo, 40, height - 100, 120, 60)
        c.setFont("LiberationSerif", 10)
        for line in range(int((height - 160) / 14)):
            c.drawString(50, height - 130 - 14 * line, " ".join(rng.choice(WORDS) for _ in range(10)))
        c.showPage()
    c.save()
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        for page in pdf.pages:
            if rng.random() < 0.15:
                page.obj.Rotate = rng.choice([90, 180, 270])
        pdf.save(path)


def make_parts(folder: Path) -> list[BundlePart]:
    """Write the beslutsunderlag and the bilagor into ``folder`` and return them as parts."""
    pdfmetrics.registerFont(TTFont("LiberationSerif", str(FONT)))
    rng = random.Random(42)
    logo = make_logo()
    main = folder / "beslutsunderlag.pdf"
    make_bilaga(main, 4, rng, logo)
    parts = [BundlePart(pdf=main, bookmark="Beslutsunderlag", label=None, stamp=None)]
    for n in range(1, BILAGOR + 1):
        path = folder / f"bilaga-{n}.pdf"
        make_bilaga(path, rng.randint(5, 15), rng, logo)
        parts.append(
            BundlePart(pdf=path, bookmark=f"Bilaga {n} – Underlag {n}", label=f"Bilaga {n}:",
                       stamp=f"Bilaga {n}", nummer=n)
        )
    return parts


def count_pages(path: Path) -> int:
    """Return the number of pages of a PDF."""
    with pikepdf.open(path) as pdf:
        return len(pdf.pages)


def make_large_inputs(folder: Path) -> tuple[Path, Path, Path]:
    """Write the paper and one tagged and one untagged 10-page bilaga into ``folder``."""
    import docx
    from docx.enum.text import WD_BREAK

    from generator.convert import Converter

    rng = random.Random(7)
    document = docx.Document()
    for page in range(1, 11):
        document.add_heading(f"Avsnitt {page}", level=1)
        for _ in range(5):
            document.add_paragraph(" ".join(rng.choice(WORDS) for _ in range(40)))
        if page < 10:
            document.paragraphs[-1].add_run().add_break(WD_BREAK.PAGE)
    source = folder / "tagged.docx"
    document.save(str(source))
    paper, tagged = folder / "paper.pdf", folder / "tagged.pdf"
    with Converter() as converter:
        converter.to_pdf(source, tagged, pdfa=False)
        converter.to_pdf(source, paper, pdfa=True)
    pdfmetrics.registerFont(TTFont("LiberationSerif", str(FONT)))
    untagged = folder / "untagged.pdf"
    make_bilaga(untagged, 10, rng, make_logo())
    return paper, tagged, untagged


def large_parts(folder: Path, pages: int, mode: str) -> list[BundlePart]:
    """Return the paper and ``pages / 10`` bilagor, copies of the tagged or untagged bilaga."""
    parts = [BundlePart(pdf=folder / "paper.pdf", bookmark="Beslutsunderlag", label=None, stamp=None)]
    for n in range(1, pages // 10 + 1):
        kind = "untagged" if mode == "mixed" and n % 2 == 0 else "tagged"
        copy = folder / mode / f"bilaga-{n}.pdf"
        copy.parent.mkdir(exist_ok=True)
        shutil.copy(folder / f"{kind}.pdf", copy)
        parts.append(BundlePart(pdf=copy, bookmark=f"Bilaga {n} – Underlag {n}", label=f"Bilaga {n}:",
                                stamp=f"Bilaga {n}", nummer=n))
    return parts


def rss_mib() -> float:
    """Return the process's resident set size now, in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def large_one(folder: Path, pages: int, mode: str) -> None:
    """Write one large bundle in this (fresh) process; print its figures as JSON."""
    parts = large_parts(folder, pages, mode)
    out = folder / f"handlingar-{mode}-{pages}.pdf"
    before = rss_mib()
    start = time.perf_counter()
    warnings = write_bundle(parts, out, title="Benchmark")
    seconds = time.perf_counter() - start
    print(json.dumps({
        "seconds": seconds, "peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "before": before,
        "pages": count_pages(out), "size": out.stat().st_size, "largest": max(p.pdf.stat().st_size for p in parts),
        "tagged": "inte taggad" not in " ".join(warnings),
    }))


def main_large(sizes: list[int]) -> None:
    """Make the inputs once, then write each bundle in a fresh process and print the figures."""
    with tempfile.TemporaryDirectory(prefix="bench-bundle-") as tmp:
        folder = Path(tmp)
        make_large_inputs(folder)
        print(f"bilaga: 10 pages, tagged {(folder / 'tagged.pdf').stat().st_size // 1024} KiB, "
              f"untagged {(folder / 'untagged.pdf').stat().st_size // 1024} KiB; "
              f"paper {count_pages(folder / 'paper.pdf')} pages")
        print(f"{'bundle':>8} {'pages':>6} {'tagged':>6} {'time':>7} {'peak RSS':>9} {'before':>7} "
              f"{'output':>9} {'largest part':>12}")
        for pages in sizes:
            for mode in ("mixed", "tagged"):
                run = subprocess.run([sys.executable, __file__, "--one", str(folder), str(pages), mode],
                                     check=True, capture_output=True, text=True)
                r = json.loads(run.stdout.splitlines()[-1])
                print(f"{mode:>8} {r['pages']:>6} {'yes' if r['tagged'] else 'no':>6} {r['seconds']:>6.1f}s "
                      f"{r['peak']:>6.0f} MiB {r['before']:>3.0f} MiB {r['size'] / 2**20:>5.1f} MiB "
                      f"{r['largest'] / 1024:>8.0f} KiB")


def main() -> None:
    """Build the inputs, time write_bundle, and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", nargs="*", type=int, metavar="PAGES")
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        large_one(Path(args.one[0]), int(args.one[1]), args.one[2])
        return
    if args.large is not None:
        main_large(args.large or [200, 1000, 2000])
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        parts = make_parts(folder)
        out = folder / "out" / "handlingar.pdf"
        pages = sum(count_pages(p.pdf) for p in parts)
        inputs = sum(p.pdf.stat().st_size for p in parts)

        start = time.perf_counter()
        write_bundle(parts, out, title="Benchmark")
        seconds = time.perf_counter() - start
        size = out.stat().st_size

        tracemalloc.start()
        write_bundle(parts, out, title="Benchmark")
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"parts: {len(parts)} ({BILAGOR} bilagor), pages: {pages}")
    print(f"write_bundle: {seconds:.2f} s (target < 2 s)")
    ratio = size / inputs
    print(f"size: {size / 1024:.0f} KiB out, {inputs / 1024:.0f} KiB in, ratio {ratio:.2f} (target <= 1.2)")
    print(f"memory: tracemalloc peak {peak / 2**20:.1f} MiB, process max RSS {maxrss:.0f} MiB")


if __name__ == "__main__":
    main()
