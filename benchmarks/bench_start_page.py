"""Benchmark of the web page's start page with a year of work: 200 ärenden and 50 utskick.

Run: .venv/bin/python benchmarks/bench_start_page.py [ÄRENDEN] [UTSKICK]   (default 200 and 50)
Copies the sample ärende (shared, seven organisations) and the sample utskick that many
times into a temporary content folder, gives every tenth ärende a final build and a draft
in out/ (manifests over copied files), serves it with ``beslut web`` on 127.0.0.1 and
prints the seconds of the first request (every line computed), of warm requests (every
line kept until its files change, ``cache.ByModification``), of a request after one
ärende was saved, and of the first request after a restart (the lines kept in the state
folder). The target is under 0.5 s warm. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from generator import pipeline  # noqa: E402
from generator.outfolder import ARENDEN_DIR, MANIFEST_NAME, UTKAST_DIR  # noqa: E402
from generator.web import startsida  # noqa: E402
from generator.web.app import WebConfig  # noqa: E402
from generator.web.server import start_in_thread  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
ARENDE = REPO / "content" / "arenden" / "2023-10-handlingsplaner"
UTSKICK = REPO / "content" / "utskick" / "2023-08-handlingsplaner"


def make_content(root: Path, arenden: int, utskick: int) -> tuple[Path, Path]:
    """Return (content, out) with ``arenden`` copies of the sample ärende and ``utskick`` of the utskick."""
    content, out = root / "content", root / "out"
    shutil.copytree(REPO / "content", content, ignore=shutil.ignore_patterns("arenden", "utskick"))
    for i in range(arenden):
        folder = content / "arenden" / f"2026-{i:03d}-arende"
        shutil.copytree(ARENDE, folder)
        if i % 10 == 0:
            for built in (out / ARENDEN_DIR / folder.name, out / ARENDEN_DIR / folder.name / UTKAST_DIR):
                write_build(built, ["gota-lejon", "forskolenamnden", "liseberg"])
    for i in range(utskick):
        shutil.copytree(UTSKICK, content / "utskick" / f"2026-{i:03d}-utskick")
    return content, out


def write_build(folder: Path, recipients: list[str]) -> None:
    """Write a manifest listing one paper per recipient (a small file standing in for the PDF)."""
    documents = []
    for who in recipients:
        (folder / who).mkdir(parents=True, exist_ok=True)
        (folder / who / "handlingar.pdf").write_bytes(b"%PDF-1.7\n")
        documents.append({"mottagare": who, "namn": who, "fil": f"{who}/handlingar.pdf", "sidor": 1, "sha256": ""})
    manifest = {"titel": "Prov", "antal_mottagare": len(recipients), "lyckade": len(recipients), "misslyckade": 0,
                "dokument": documents, "fel": [], "varningar": [], "rensat": []}
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest), encoding="utf-8")


def timed_get(url: str) -> tuple[float, int]:
    start = time.monotonic()
    with urllib.request.urlopen(url, timeout=600) as response:
        body = response.read()
    return time.monotonic() - start, len(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("arenden", type=int, nargs="?", default=200)
    parser.add_argument("utskick", type=int, nargs="?", default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        content, out = make_content(Path(tmp), args.arenden, args.utskick)
        config = WebConfig(content=content, organisationer=content / "organisationer.yaml", out=out)
        server, thread, url = start_in_thread(config)
        try:
            cold, size = timed_get(url + "/")
            print(f"{args.arenden} ärenden, {args.utskick} utskick: first request {cold:.2f} s ({size // 1024} KiB)")
            warm = sorted(timed_get(url + "/")[0] for _ in range(10))
            print(f"warm requests: median {warm[5]:.3f} s, slowest {warm[-1]:.3f} s (target < 0.5 s)")
            saved = content / "arenden" / "2026-007-arende" / "arende.yaml"
            saved.write_text(saved.read_text(encoding="utf-8") + "\n", encoding="utf-8")
            after, _ = timed_get(url + "/")
            print(f"after one ärende was saved: {after:.3f} s")
        finally:
            server.should_exit = True
            thread.join(timeout=60)
        startsida._LISTING = pipeline.kept_until_changed()  # as in a new process: only what the state folder kept
        saved.write_text(saved.read_text(encoding="utf-8") + "\n", encoding="utf-8")
        server, thread, url = start_in_thread(config)
        try:
            restarted, _ = timed_get(url + "/")
            print(f"first request after a restart (one ärende changed meanwhile): {restarted:.3f} s")
        finally:
            server.should_exit = True
            thread.join(timeout=60)


if __name__ == "__main__":
    main()
