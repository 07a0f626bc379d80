"""One temporary folder per run, gone when the run ends, however it ends.

``run_dir`` creates ``$TMPDIR/beslut-run-<pid>-<start>-XXXX`` on first use (pid and start
time of the process: together they name one process, even when pids are reused). It is
removed when the process exits normally (``atexit``) or on SIGTERM; the process groups
registered with ``register_group`` (LibreOffice) are killed first, and the files registered
with ``register_litter`` (LibreOffice's pipe in /tmp) removed. A run killed with
SIGKILL or a power cut cannot clean up after itself, so ``run_dir`` first removes every
``beslut-run-*`` folder whose process no longer exists (``clean_stale_run_dirs``).

Everything temporary goes in here: LibreOffice profiles and its own temporary files, the
copies of bilagor that LibreOffice converts, and its PDFs before they are checked.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import tempfile
import threading
from pathlib import Path

PREFIX = "beslut-run-"

_lock = threading.Lock()
_run: Path | None = None
_owner = 0
_groups: set[int] = set()
_litter: set[Path] = set()


def run_dir() -> Path:
    """Return this process's temporary folder, creating it (and cleaning stale ones) on first use."""
    global _run, _owner
    with _lock:
        if _run is None or _owner != os.getpid() or not _run.is_dir():
            _run = process_folder(Path(tempfile.gettempdir()), PREFIX)
            _owner = os.getpid()
            atexit.register(remove_run_dir)
            _install_sigterm_handler()
        return _run


def remove_run_dir() -> None:
    """Kill the registered process groups and remove this process's run folder (if it made one)."""
    global _run
    if _owner != os.getpid():  # a forked child: the run and its LibreOffice are its parent's
        return
    for pgid in list(_groups):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except OSError:
            pass
    _groups.clear()
    for path in list(_litter):
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass
    _litter.clear()
    if _run is not None:
        shutil.rmtree(_run, ignore_errors=True)
        _run = None


def register_group(pgid: int) -> None:
    """Have the process group ``pgid`` killed when the run ends (SIGTERM included)."""
    _groups.add(pgid)


def unregister_group(pgid: int) -> None:
    """Forget ``pgid`` (it was stopped in an orderly way)."""
    _groups.discard(pgid)


def register_litter(path: Path) -> None:
    """Have ``path`` removed when the run ends: a file a child process leaves outside the run folder.

    LibreOffice's pipe in /tmp is one (``officeserver.office_pipes``).
    """
    _litter.add(path)


def unregister_litter(path: Path) -> None:
    """Forget ``path`` (it was removed in an orderly way)."""
    _litter.discard(path)


def process_folder(base: Path, prefix: str = "") -> Path:
    """Return a new folder in ``base`` named for this process: ``<prefix><pid>-<start>-XXXX``.

    The folders in ``base`` of processes that are gone (killed, crashed) are removed first.
    Used for the run's temporary folder and for the engine's staging folders in ``out/``.
    """
    base.mkdir(parents=True, exist_ok=True)
    clean_stale_run_dirs(base, prefix)
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-{process_start(os.getpid())}-", dir=base))


def clean_stale_run_dirs(base: Path, prefix: str = PREFIX) -> list[Path]:
    """Remove the folders ``<prefix><pid>-<start>-…`` in ``base`` whose process is gone; return them."""
    removed = []
    for folder in base.glob(f"{prefix}*"):
        try:
            pid, start = folder.name[len(prefix):].split("-")[:2]
            mine = folder.stat().st_uid == os.getuid()
        except (ValueError, OSError):
            continue
        if mine and pid.isdigit() and process_start(int(pid)) != start:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def process_start(pid: int) -> str:
    """Return the start time of process ``pid`` in clock ticks since boot ('' if there is none)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def describe_temp_error(error: OSError) -> str | None:
    """Return a Swedish message for a full disk under the temporary folder (TMPDIR), else None.

    ``errors.describe_os_error`` points at ``--out``; a full TMPDIR needs other advice.
    """
    import errno

    temp = Path(tempfile.gettempdir())
    if error.errno not in (errno.ENOSPC, errno.EDQUOT) or not error.filename:
        return None
    if not Path(str(error.filename)).is_relative_to(temp):
        return None
    return (f"det finns inte plats för tillfälliga filer i {temp} (disken är full). Frigör utrymme där, "
            "eller låt miljövariabeln TMPDIR peka på en mapp med mer plats.")


def _install_sigterm_handler() -> None:
    """On SIGTERM clean up, then die of SIGTERM as before; only where nobody else handles it."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return

    def on_sigterm(signum, frame):
        remove_run_dir()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)

    signal.signal(signal.SIGTERM, on_sigterm)
