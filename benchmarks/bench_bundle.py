"""Benchmark of write_bundle: ~20 bilagor, ~200 pages of mixed sizes, some rotated.

Run: .venv/bin/python benchmarks/bench_bundle.py
Prints the time, the output size against the sum of the inputs, and peak memory.
Targets: under 2 s, size ratio at most 1.2. Nothing is asserted.
"""

from __future__ import annotations

import io
import random
import resource
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
from generator.bundle import BundlePart, write_bundle  # noqa: E402

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


def main() -> None:
    """Build the inputs, time write_bundle, and print the figures."""
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
