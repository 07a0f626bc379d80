"""How long "Förhandsgranska" takes: the sample paper's PDF from a warm server, request to bytes.

Starts ``beslut web`` on 127.0.0.1 (a copy of content/, a warm converter), then posts the
preview form of the sample ärende (Göta Lejon's version) N times and prints the times.
Target (issue 10): within 1.5 s once warm.

    .venv/bin/python benchmarks/bench_preview.py [N]
"""

from __future__ import annotations

import re
import shutil
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

from generator.web.app import WebConfig
from generator.web.server import start_in_thread

REPO = Path(__file__).resolve().parents[1]


def main(runs: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="bench-preview-"))
    shutil.copytree(REPO / "content", root / "content")
    content = root / "content"
    server, thread, url = start_in_thread(WebConfig(content=content, organisationer=content / "organisationer.yaml",
                                                 out=root / "out"))
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    edit = f"{url}/arende/2023-10-handlingsplaner?flik=gota-lejon"
    html = opener.open(edit).read().decode()
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))
    body = urllib.parse.urlencode({**fields, "atgard": "forhandsgranska"}).encode()

    def preview() -> tuple[float, int]:
        start = time.perf_counter()
        data = opener.open(urllib.request.Request(f"{url}/arende/2023-10-handlingsplaner/forhandsgranska",
                                                  data=body)).read()
        assert data.startswith(b"%PDF-"), data[:200]
        return time.perf_counter() - start, len(data)

    first, size = preview()  # waits for LibreOffice to start if the warm-up has not finished
    times = [preview()[0] for _ in range(runs)]
    server.should_exit = True
    thread.join()
    shutil.rmtree(root, ignore_errors=True)
    print(f"first preview (LibreOffice starting): {first:.2f} s, PDF {size / 1024:.0f} KiB")
    print(f"warm preview, {runs} runs: median {statistics.median(times):.2f} s, "
          f"max {max(times):.2f} s (target < 1.5 s)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
