"""beslut agenda on a big meeting: 20 ärenden and 200 / 1,000 / 2,000 pages in all.

    .venv/bin/python benchmarks/bench_agenda.py              # 200 1000 2000
    .venv/bin/python benchmarks/bench_agenda.py 200 1000     # chosen sizes

Each size gets a content folder with 20 ärenden of Förskolenämnden,
each with one Word bilaga of about pages/20 - 2 pages (every part tagged, converted by
LibreOffice once, the same bilaga for all ärenden), and a meeting of the 20 ärenden, one
of them utelämnad. The whole ``build_agenda`` is timed twice, each run in a fresh process as
``beslut agenda`` runs: the first builds the 20 ärenden, the second reuses them (unchanged
inputs) and only makes the kallelse and assembles. Peak memory is
sampled every 20 ms over the whole process tree: the main process plus LibreOffice and
its unoserver, which is what the 400 MB target counts.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
ARENDEN = 20


def make_bilaga(path: Path, pages: int) -> None:
    """Write a Word bilaga of ``pages`` pages: a heading and two paragraphs on each."""
    import docx
    from docx.enum.text import WD_BREAK

    document = docx.Document()
    document.core_properties.title = "Underlag"
    document.core_properties.language = "sv-SE"
    text = ("Förskoleförvaltningen redovisar här underlaget för nämndens beslut. " * 12).strip()
    for page in range(pages):
        document.add_heading(f"Avsnitt {page + 1}", 1)
        document.add_paragraph(text)
        paragraph = document.add_paragraph(text)
        if page < pages - 1:
            paragraph.add_run().add_break(WD_BREAK.PAGE)
    document.save(str(path))


def make_content(root: Path, pages: int) -> Path:
    """Write the registry, 20 ärenden and the meeting; return the meeting's folder."""
    content = root / "content"
    (content / "arenden").mkdir(parents=True)
    shutil.copy(REPO / "content" / "organisationer.yaml", content / "organisationer.yaml")
    bilaga = root / "bilaga.docx"
    make_bilaga(bilaga, max(1, pages // ARENDEN - 2))
    punkter: list[dict] = [{"punkt": "Mötets öppnande"}, {"punkt": "Val av justerare"}]
    for n in range(ARENDEN):
        folder = content / "arenden" / f"arende-{n + 1:02d}"
        (folder / "bilagor").mkdir(parents=True)
        shutil.copy(bilaga, folder / "bilagor" / "underlag.docx")
        data = {
            "organisation": "forskolenamnden", "rubrik": f"Ärende {n + 1} om förskolans lokaler",
            "utfärdat": "2023-10-02", "diarienummer": f"FSN 2023-{n + 1:05d}",
            "handläggare": {"namn": "Karin Exempel", "telefon": "031-000 00 02", "e-post": "karin@example.org"},
            "förslag_till_beslut": ["Förskolenämnden godkänner redovisningen."],
            "sammanfattning": "Förvaltningen redovisar läget i förskolans lokaler.",
            "dimensioner": {d: f"Ärendet har inga särskilda konsekvenser ur en {d} dimension."
                            for d in ("ekonomisk", "ekologisk", "social")},
            "samverkan": "Ärendet har behandlats i förvaltningens samverkansgrupp.",
            "bilagor": [{"titel": "Underlag", "fil": "bilagor/underlag.docx"}],
            "ärendet": "Nämnden ska ta ställning till redovisningen i bilaga 1.",
            "beskrivning": "Redovisningen finns i bilaga 1.", "bedömning": "Förvaltningen har inget att tillägga.",
        }
        (folder / "arende.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                                            encoding="utf-8")
        punkt = {"ärende": folder.name, "föredragande": "Karin Exempel"}
        if n == 3:
            punkt["utelämnad"] = "OSL 19 kap. 3 §"
        punkter.append(punkt)
    punkter.append({"punkt": "Övriga frågor"})
    meeting = content / "sammantraden" / "stort"
    meeting.mkdir(parents=True)
    data = {"organisation": "forskolenamnden", "datum": "2023-10-24", "tid": "16.00", "plats": "Rum 1",
            "ordförande": "Eva Exempel", "sekreterare": "Per Exempel", "kallelsedatum": "2023-10-17",
            "ledamöter": ["Eva Exempel"], "punkter": punkter}
    (meeting / "sammantrade.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                                              encoding="utf-8")
    return meeting


def tree_rss_mib(pid: int) -> float:
    """Return the RSS of ``pid`` and all its descendants, in MiB."""
    total = 0
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            with open(f"/proc/{current}/task/{current}/children") as f:
                todo += [int(c) for c in f.read().split()]
        except (OSError, ValueError):
            continue
    return total / 1024


class PeakSampler:
    """Sample the process tree's RSS in a thread; ``peak`` is the largest sum seen."""

    def __init__(self):
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss_mib(os.getpid()))
            time.sleep(0.02)


def one(root: Path, pages: int) -> dict:
    """Build the meeting once in this process (as ``beslut agenda`` does); return its figures.

    The first call (no content yet) writes the content and builds the 20 ärenden; a second
    call in a new process finds them unchanged and reuses them.
    """
    from generator.agenda import build_agenda

    meeting = root / "content" / "sammantraden" / "stort"
    if not meeting.is_dir():
        make_content(root, pages)
    registry = root / "content" / "organisationer.yaml"
    with PeakSampler() as sampler:
        start = time.perf_counter()
        result = build_agenda(meeting, registry, root / "out")
        seconds = time.perf_counter() - start
    manifest = json.loads((root / "out" / "sammantraden" / "stort" / "manifest.json").read_text())
    sidor = {d["fil"]: d["sidor"] for d in manifest["dokument"]}
    return {"seconds": seconds, "peak": sampler.peak, "pages": sidor["sammantradeshandlingar.pdf"],
            "public": sidor["sammantradeshandlingar-offentlig.pdf"], "pdfua": result.pdfua,
            "built": len(result.built), "reused": len(result.reused)}


def main() -> None:
    if sys.argv[1:2] == ["--one"]:
        print(json.dumps(one(Path(sys.argv[2]), int(sys.argv[3]))))
        return
    sizes = [int(a) for a in sys.argv[1:]] or [200, 1000, 2000]
    print(f"{'run':<17} {'pages':>6} {'public':>6} {'seconds':>8} {'s/page':>7} {'peak MiB':>9}  (process tree, "
          "LibreOffice included)")
    for pages in sizes:
        figures = {}
        with tempfile.TemporaryDirectory(prefix="bench-agenda-") as folder:
            for run in ("bygger ärendena", "återanvänder dem"):  # each in a fresh process, as the CLI
                done = subprocess.run([sys.executable, __file__, "--one", folder, str(pages)], capture_output=True,
                                      text=True)
                if done.returncode != 0:
                    print(done.stderr[-2000:])
                    break
                figures[run] = json.loads(done.stdout.strip().splitlines()[-1])
        for run, f in figures.items():
            print(f"{run:<17} {f['pages']:>6} {f['public']:>6} {f['seconds']:>8.1f} "
                  f"{f['seconds'] / f['pages']:>7.3f} {f['peak']:>9.0f}  ({f['built']} byggda, "
                  f"{f['reused']} återanvända, PDF/UA: {f['pdfua']['sammantradeshandlingar.pdf']})")


if __name__ == "__main__":
    main()
