"""Benchmark: the send dry run (``send.plan_send``) for 42 letters. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bench_send.py [--repeat 5]

Makes the sample utskick's letters (.docx + PDF/A) for the 42 organisations of the
registry, each given an address, then times ``plan_send``, which checks every letter is
current before anything is sent:
- after (issue 21): it compares each letter's input fingerprint in ``manifest.json``
  (``letters.letter_inputs``) with today's inputs; nothing is rendered;
- before: as until then, each letter rendered again into a temporary folder and its
  .docx compared with the manifest's sha256 (the earlier ``check_letters``, kept here).
Medians of ``--repeat`` runs; renders counted with the real function in place.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from generator import letters, pipeline  # noqa: E402
from generator import send as mailing  # noqa: E402
from generator.files import sha256_file  # noqa: E402
from generator.templates import FOLJEBREV, template_path  # noqa: E402

UTSKICK = REPO / "content" / "utskick" / "2023-08-handlingsplaner"
COUNT = 42


def make_registry(folder: Path) -> Path:
    """Write the real registry (43 organisations; the utskick leaves out one), each with an address."""
    real = yaml.safe_load((REPO / "content" / "organisationer.yaml").read_text(encoding="utf-8"))
    orgs = []
    for org in real["organisationer"]:
        orgs.append({**org, "e-post": f"{org['id']}@example.org"})
    path = folder / "organisationer.yaml"
    path.write_text(yaml.safe_dump({"organisationer": orgs}, allow_unicode=True), encoding="utf-8")
    return path


def rendering_check(loaded, recipients, out: Path, templates: Path | None = None) -> dict:
    """The check before issue 21: every letter rendered again and compared with the manifest."""
    from generator.outfolder import read_manifest, utskick_folder

    folder = utskick_folder(out, loaded.name)
    listed = {(d.org_id, Path(d.file).suffix): d for d in read_manifest(folder, strict=True).documents}
    found = {}
    with tempfile.TemporaryDirectory(prefix="bench-send-") as tmp:
        for org in recipients:
            docx, pdf = listed[(org.id, ".docx")], listed[(org.id, ".pdf")]
            for entry in (docx, pdf):
                assert sha256_file(folder / entry.file) == entry.sha256
            fresh = letters.render_letter(loaded, org, Path(tmp) / f"{org.id}.docx", template_path(templates, FOLJEBREV))
            assert sha256_file(fresh) == docx.sha256, org.id
            found[org.id] = mailing.Letter(pdf=folder / pdf.file, sha256=pdf.sha256, fingerprint=docx.sha256)
    return found


def timed(registry: Path, out: Path, repeat: int) -> tuple[float, int]:
    """Return the median seconds of ``plan_send`` and the renders of one run."""
    renders = []
    real = letters.render_docx
    real_skeleton = letters.letter_skeleton

    def counting(*args, **kwargs):
        renders.append(1)
        return real(*args, **kwargs)

    def counting_skeleton(*args, **kwargs):
        renders.append(1)
        return real_skeleton(*args, **kwargs)

    letters.render_docx, letters.letter_skeleton = counting, counting_skeleton
    try:
        times = []
        for _ in range(repeat):
            renders.clear()
            start = time.perf_counter()
            plan = mailing.plan_send(UTSKICK, registry, out)
            times.append(time.perf_counter() - start)
            assert len(plan.having(mailing.SKICKA)) == COUNT
    finally:
        letters.render_docx, letters.letter_skeleton = real, real_skeleton
    return statistics.median(times), len(renders)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-send-") as tmp:
        registry, out = make_registry(Path(tmp)), Path(tmp) / "out"
        start = time.perf_counter()
        report = pipeline.run(pipeline.plan_utskick(UTSKICK, registry, out, pdf=True))
        assert not report.failed, [o.error for o in report.failed]
        print(f"letters --pdf for {COUNT} recipients: {time.perf_counter() - start:.1f} s (setup, not timed below)")

        after, after_renders = timed(registry, out, args.repeat)
        new_check = mailing.check_letters
        mailing.check_letters = rendering_check  # type: ignore[assignment]
        try:
            before, before_renders = timed(registry, out, args.repeat)
        finally:
            mailing.check_letters = new_check
        print(f"plan_send, {COUNT} letters, median of {args.repeat}:")
        print(f"  before (each letter rendered again): {before * 1000:8.1f} ms  ({before_renders} renders)")
        print(f"  after  (input fingerprints):         {after * 1000:8.1f} ms  ({after_renders} renders)")
        print(f"  speed-up: {before / after:.1f}x")


if __name__ == "__main__":
    main()
