"""How the web's engine answers: warm previews, a preview during a letter run, web letters vs CLI letters.

Starts ``beslut web`` on 127.0.0.1 (a copy of content/, one converter as by default) and:

1. posts the preview form of the sample ärende (Göta Lejon's version) N times: p50/p95
   (target p95 <= 0.5 s, issue 21);
2. starts the sample utskick's letters to every organisation (with PDF/A) from the page
   and previews while it runs: each preview's time (target <= 1.5 s: a preview goes
   before the run's next conversion, ``web.converters.URGENT``);
3. times the same letter run alone in the page against ``beslut letters --pdf --workers 1``
   as a fresh command (target <= 1.1x; both take the composed route).

    .venv/bin/python benchmarks/bench_preview.py [N]
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

from generator.web.app import WebConfig
from generator.web.server import start_in_thread

REPO = Path(__file__).resolve().parents[1]
ARENDE = "2023-10-handlingsplaner"
UTSKICK = "2023-08-handlingsplaner"


class Site:
    """A ``beslut web`` on 127.0.0.1 with a copy of content/, and a browser-like client."""

    def __init__(self, root: Path):
        shutil.copytree(REPO / "content", root / "content")
        content = root / "content"
        self.out = root / "out"
        self.server, self.thread, self.url = start_in_thread(
            WebConfig(content=content, organisationer=content / "organisationer.yaml", out=self.out))
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        html = self.open(f"/arende/{ARENDE}?flik=gota-lejon").decode()
        fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))
        self.csrf = fields["csrf"]
        self.preview_body = urllib.parse.urlencode({**fields, "atgard": "forhandsgranska"}).encode()

    def open(self, path: str, data: bytes | None = None, headers: dict | None = None) -> bytes:
        request = urllib.request.Request(f"{self.url}{path}", data=data, headers=headers or {})
        with self.opener.open(request) as answer:
            self.last_url = answer.url
            return answer.read()

    def preview(self) -> float:
        start = time.perf_counter()
        data = self.open(f"/arende/{ARENDE}/forhandsgranska", self.preview_body)
        assert data.startswith(b"%PDF-"), data[:200]
        return time.perf_counter() - start

    def letters(self) -> tuple[float, int]:
        """Run the utskick's letters to every organisation with PDF/A; return (seconds, letters)."""
        start = time.perf_counter()
        body = urllib.parse.urlencode({"csrf": self.csrf, "till": "alla", "pdf": "ja"}).encode()
        self.open(f"/utskick/{UTSKICK}", body)
        job = self.last_url.rstrip("/").rsplit("/", 1)[-1]
        while True:
            state = json.loads(self.open(f"/jobb/{job}/status", headers={"Accept": "application/json"}))
            if state["finished"]:
                assert state["state"] == "klar", state
                manifest = json.loads((self.out / "utskick" / UTSKICK / "manifest.json").read_text(encoding="utf-8"))
                return time.perf_counter() - start, manifest["lyckade"]
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join()


def percentile(times: list[float], p: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main(runs: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="bench-preview-"))
    site = Site(root)
    try:
        first = site.preview()  # waits for LibreOffice to start if the warm-up has not finished
        times = [site.preview() for _ in range(runs)]
        print(f"load average: {os.getloadavg()[0]:.1f}")
        print(f"first preview (LibreOffice starting): {first:.2f} s")
        print(f"warm preview, {runs} runs: p50 {statistics.median(times):.2f} s, p95 {percentile(times, 95):.2f} s, "
              f"max {max(times):.2f} s (target p95 <= 0.5 s)")

        alone, count = site.letters()
        during: list[float] = []
        run = threading.Thread(target=lambda: during.append(site.letters()[0]))
        run.start()
        time.sleep(1.0)  # the run is converting
        busy = []
        while run.is_alive() and len(busy) < 5:
            busy.append(site.preview())
        run.join()
        print(f"preview during a run of {count} letters: {', '.join(f'{t:.2f}' for t in busy)} s "
              f"(max {max(busy):.2f} s, target <= 1.5 s; the run took {during[0]:.1f} s)")

        cli_out = root / "cli-out"
        start = time.perf_counter()
        subprocess.run([str(Path(sys.executable).parent / "beslut"), "letters", f"content/utskick/{UTSKICK}", "--pdf",
                        "--workers", "1", "--out", str(cli_out)], cwd=root, check=True, capture_output=True)
        cli = time.perf_counter() - start
        print(f"{count} letters with PDF/A: web {alone:.1f} s, CLI (fresh command, 1 worker) {cli:.1f} s: "
              f"{alone / cli:.2f}x (target <= 1.1x)")
    finally:
        site.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
