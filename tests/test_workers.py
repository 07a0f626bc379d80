"""The render pool's worker processes die with the process that started them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml
from conftest import ORGANISATIONER, REPO


def children_of(pid: int) -> list[int]:
    """Return the pids of the running (not zombie) processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            state, ppid = stat.rsplit(")", 1)[1].split()[:2]
            if int(ppid) == pid and state != "Z":
                found.append(int(entry.name))
    return found


def running(pid: int) -> bool:
    """Return True if ``pid`` is a process that has not exited (a zombie has)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_render_workers_die_when_the_run_is_killed(tmp_path: Path):
    ids = [o["id"] for o in yaml.safe_load(ORGANISATIONER.read_text(encoding="utf-8"))["organisationer"]]
    folder = tmp_path / "brev"
    folder.mkdir()
    (folder / "utskick.yaml").write_text(yaml.safe_dump({
        "avsändare": "Stadsledningskontoret",
        "datum": "2023-08-21",
        "rubrik": "Information till {{ organisation }}",
        "mottagare": ids[:40],
        "underskrift": {"namn": "Christina Eide", "titel": "Direktör"},
        # a merge field in a code span: every letter is rendered on its own (no skeleton), which takes a while
        "brödtext": "Kod: `{{ id }}`\n\n" + "".join(f"Stycke {i} till {{{{ mottagare }}}} med **fet** text.\n\n"
                                                    for i in range(400)),
    }, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "generator", "letters", str(folder), "--out", str(out),
               "--organisationer", str(ORGANISATIONER), "--workers", "2"]
    run = subprocess.Popen(command, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)},
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        workers: list[int] = []
        while len(workers) < 2 and time.monotonic() < deadline and run.poll() is None:
            workers = children_of(run.pid)
            time.sleep(0.02)
        assert len(workers) == 2, "the run should have started two render workers"
        time.sleep(0.5)  # the workers are rendering
        assert all(running(pid) for pid in workers) and run.poll() is None, "killed mid-run"
        run.kill()
        run.wait()
    finally:
        run.kill()
    assert run.returncode == -signal.SIGKILL
    assert not (out / "utskick" / "brev" / "manifest.json").exists(), "the run was killed before it finished"
    deadline = time.monotonic() + 2
    while any(running(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    survivors = [pid for pid in workers if running(pid)]
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)  # leave nothing behind, even when the test fails
    assert survivors == []
