"""The run's temporary folder: removed on exit and on SIGTERM, and after a SIGKILL at the next start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import docx
from test_convert import make_docx, needs_libreoffice, soffice_processes

from generator import runtemp

REPO = Path(__file__).resolve().parents[1]

CONVERT = (
    "import sys, time\n"
    "from pathlib import Path\n"
    "from generator.convert import Converter\n"
    "conv = Converter()\n"
    "conv.to_pdf(Path(sys.argv[1]), Path(sys.argv[3]) / 'liten.pdf')\n"
    "print(conv.profile_dir, flush=True)\n"
    "conv.to_pdf(Path(sys.argv[2]), Path(sys.argv[3]) / 'stor.pdf')\n"
    "conv.close()\n"
)


def run_python(script: str, *args, tmpdir: Path, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "TMPDIR": str(tmpdir), "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-c", script, *map(str, args)], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, text=True, **kwargs)


def big_docx(path: Path) -> Path:
    document = docx.Document()
    for i in range(4000):
        document.add_paragraph(f"Stycke {i}: " + "text " * 40)
    document.save(path)
    return path


@needs_libreoffice
def test_sigkill_mid_conversion_leaves_nothing_after_the_next_run(tmp_path):
    tmpdir, inputs, out = tmp_path / "tmp", tmp_path / "in", tmp_path / "ut"
    for folder in (tmpdir, inputs, out):
        folder.mkdir()
    small, big = make_docx(inputs / "liten.docx"), big_docx(inputs / "stor.docx")

    first = run_python(CONVERT, small, big, out, tmpdir=tmpdir)
    profile = first.stdout.readline().strip()
    time.sleep(0.3)  # into the conversion of the big one
    first.kill()
    first.wait()
    first.stdout.close()
    assert first.returncode == -signal.SIGKILL
    (stale,) = tmpdir.iterdir()  # the killed run could not clean up ...
    assert stale.name.startswith(runtemp.PREFIX)
    deadline = time.monotonic() + 10
    while soffice_processes(profile) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert soffice_processes(profile) == []  # ... but its LibreOffice died with it

    second = run_python(CONVERT, small, small, out, tmpdir=tmpdir)
    second.communicate(timeout=120)
    assert second.returncode == 0
    assert list(tmpdir.iterdir()) == []  # the stale folder and its own are gone
    assert sorted(p.name for p in inputs.iterdir()) == ["liten.docx", "stor.docx"]  # no .~lock files
    assert sorted(p.name for p in out.iterdir()) == ["liten.pdf", "stor.pdf"]  # no hidden temporary files


def test_sigterm_removes_the_run_folder(tmp_path):
    script = ("import time\nfrom generator import runtemp\n"
              "(runtemp.run_dir() / 'x').write_text('x')\nprint('klar', flush=True)\ntime.sleep(60)\n")
    proc = run_python(script, tmpdir=tmp_path)
    assert proc.stdout.readline().strip() == "klar"
    assert len(list(tmp_path.iterdir())) == 1

    proc.terminate()
    proc.wait(timeout=10)
    proc.stdout.close()

    assert proc.returncode == -signal.SIGTERM
    assert list(tmp_path.iterdir()) == []


def test_only_folders_of_dead_processes_are_stale(tmp_path):
    alive = tmp_path / f"{runtemp.PREFIX}{os.getpid()}-{runtemp.process_start(os.getpid())}-abc"
    dead = tmp_path / f"{runtemp.PREFIX}{os.getpid()}-1-abc"  # same pid, other start time: pid reused
    other = tmp_path / "annat"
    for folder in (alive, dead, other):
        folder.mkdir()

    assert runtemp.clean_stale_run_dirs(tmp_path) == [dead]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([alive.name, other.name])
