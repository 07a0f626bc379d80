"""LibreOffice kept warm for ``convert``: the unoserver server it talks to, started, restarted and stopped.

The server (``python -m generator.officeserver``, see ``officeserver.serve``) gets free ports and a
profile of its own (``PROFILE_SETTINGS``: no linked content, no macros, no network), is started
on the first office document (about 1 s), restarted if LibreOffice dies or hangs (and after
``RESTART_AFTER`` conversions), and stopped with all its processes when the converter closes.
One conversion may take ``DEFAULT_TIMEOUT`` seconds, more for a large file
(``conversion_timeout``). Process handling reads /proc: Linux only, like the LibreOffice setup
(Debian 12).
"""

from __future__ import annotations

import errno
import http.client
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import xmlrpc.client
import zipfile
from collections.abc import Callable
from pathlib import Path

from unoserver.client import UnoClient

from . import officeserver
from .errors import ConversionError, EnvironmentProblem
from .inputformats import RESAVE_HINT, OfficeFormat, unreadable_office_file
from .officeserver import group_pids, port_owner
from .runtemp import register_group, register_litter, run_dir, unregister_group, unregister_litter

SETUP_HINT = "Installera det med: bash scripts/setup.sh"
START_TIMEOUT = 60.0
"""Seconds to wait for the server to answer (it usually takes about 1 s)."""
STOP_GRACE = 10.0
"""Seconds to wait for LibreOffice's processes to be gone after SIGKILL."""
DEFAULT_TIMEOUT = 60.0
"""Seconds one conversion may take (documents take 0.05-5 s; a 300-page report about 20 s)."""
MEMORY_LIMIT = 2 * 1024**3
"""Address space each LibreOffice process may use (RLIMIT_AS); it uses about 0.85 GiB idle."""
RESTART_AFTER = 200
"""Conversions after which LibreOffice is replaced by a fresh one (see README: measured)."""


class LibreOfficeDied(Exception):
    """LibreOffice died during a conversion (the document may or may not be the cause)."""


class LibreOfficeHung(Exception):
    """LibreOffice did not finish a conversion in time and was killed."""


def libreoffice_available() -> bool:
    """Return True if ``soffice`` is on PATH and this Python can import ``uno``."""
    return shutil.which("soffice") is not None and importlib.util.find_spec("uno") is not None


MIN_FREE_TEMP = 4 * 1024**2
"""Below this many free bytes in the temporary folder, a LibreOffice that will not start is blamed on the disk."""


class LibreOffice:
    """A warm LibreOffice behind unoserver's XML-RPC server: launched, awaited, converted on, restarted, stopped.

    The base of ``convert.Converter``, which says what its arguments are. One thread at a time.
    """

    def __init__(self, *, workdir: Path | None = None, timeout: float = DEFAULT_TIMEOUT,
                 memory_limit: int = MEMORY_LIMIT, restart_after: int = RESTART_AFTER):
        self.timeout = timeout
        self.memory_limit = memory_limit
        self.restart_after = restart_after
        self._workdir = workdir
        self._tmp: Path | None = None
        self._proc: subprocess.Popen | None = None
        self._pipes: list[Path] = []
        self._port = self._uno_port = 0
        self._log = Path()
        self._deadline = 0.0
        self._office_pid = 0
        self._conversions = 0
        self.starts = 0
        """How many LibreOffice servers this converter has started (for tests and benchmarks)."""

    def close(self) -> None:
        """Stop the server and LibreOffice, and remove the temporary profile."""
        self._stop_server()

    @property
    def profile_dir(self) -> Path | None:
        """Return the LibreOffice profile of the running server (None when not running)."""
        return self._tmp / "profile" if self._proc is not None and self._tmp is not None else None

    @property
    def server_pgid(self) -> int | None:
        """Return the process group of the running server and its LibreOffice (None when not running)."""
        return self._proc.pid if self._proc is not None else None

    def start(self) -> None:
        """Start LibreOffice now, e.g. while the .docx files render.

        Without this it starts with the first office document.

        Does nothing where LibreOffice is not installed (``to_pdf`` then says so per document).
        """
        if libreoffice_available() and not self._server_alive():
            self._start_server(Path("."))

    def launch(self) -> None:
        """Start LibreOffice starting and return at once; the first conversion (or ``start``) waits for it.

        For a command line run: called in the main thread as the command begins, LibreOffice
        starts while the rest of beslut loads. (LibreOffice dies with the thread that
        started it, so that thread must outlive the converter's use.)
        Does nothing where LibreOffice is not installed.
        """
        if libreoffice_available() and not self._server_alive() and not self._launched():
            self._stop_server()
            self._launch_server(Path("."))

    def _base_dir(self) -> Path:
        if self._workdir is None:
            return run_dir()
        self._workdir.mkdir(parents=True, exist_ok=True)
        return self._workdir

    def _convert_once(self, src: Path, out: Path, fmt: OfficeFormat, pdfa: bool, user_file: Path,
                      extra: tuple[str, ...] = (), update_index: bool = True,
                      timeout: float | None = None) -> None:
        """Convert on the running server (started if need be); raise LibreOfficeDied/LibreOfficeHung."""
        if self._conversions >= self.restart_after:
            self._stop_server()
        if not self._server_alive():
            self._start_server(user_file)  # the launched one, or a new one
        self._conversions += 1
        client = UnoClient(server="127.0.0.1", port=str(self._port), host_location="local")
        options = ["UseTaggedPDF=true"] + (["SelectPdfVersion=2"] if pdfa else []) + list(extra)
        try:
            _run_with_timeout(lambda: client.convert(
                inpath=str(src), outpath=str(out), convert_to="pdf", infiltername=fmt.import_filter,
                filter_options=options, update_index=update_index), timeout or self.timeout)
        except TimeoutError:
            self._stop_server()
            raise LibreOfficeHung() from None
        except (xmlrpc.client.Error, http.client.HTTPException, OSError) as e:
            disposed = isinstance(e, xmlrpc.client.Fault) and "DisposedException" in e.faultString
            if disposed or not self._server_alive():
                self._stop_server()
                raise LibreOfficeDied() from e
            if isinstance(e, xmlrpc.client.Fault) and "Could not load document" in e.faultString:
                raise unreadable_office_file(user_file, fmt) from e
            raise ConversionError(
                f"LibreOffice kunde inte göra om filen till PDF ({_last_line(str(e))}). {RESAVE_HINT}",
                file=user_file) from e

    def _check_temp_space(self, what: str, full: bool = False) -> None:
        """Raise EnvironmentProblem if the temporary folder's disk is (nearly) full: the cause, not the file."""
        base = self._base_dir()
        if full or shutil.disk_usage(base).free < MIN_FREE_TEMP:
            shown = base.parent if self._workdir is None else base  # the run's own folder is gone by then
            raise EnvironmentProblem(
                f"{what}: det finns inte plats för LibreOffices tillfälliga filer i {shown} (disken är full). "
                "Frigör utrymme där, eller låt miljövariabeln TMPDIR peka på en mapp med mer plats.",
            ) from OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(base))

    def _server_alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None and _alive(self._office_pid)

    def _launched(self) -> bool:
        """Return True if a server was launched (``launch``) and is not known to be ready yet."""
        return self._proc is not None and not self._office_pid and self._proc.poll() is None

    def _start_server(self, src: Path) -> None:
        """Make the server ready: the one ``launch`` started, else a new one."""
        if not self._launched():
            self._stop_server()
            self._launch_server(src)
        self._await_server(src)

    def _launch_server(self, src: Path) -> None:
        soffice = shutil.which("soffice")
        if soffice is None or not libreoffice_available():
            raise ConversionError(
                "LibreOffice behövs för att göra om filen till PDF men är inte installerat "
                f"(soffice eller Pythons uno-modul saknas). {SETUP_HINT}", file=src)
        self._tmp = Path(tempfile.mkdtemp(prefix="lo-", dir=self._base_dir()))
        log = self._tmp / "server.log"
        port, uno_port = _free_ports(2)
        cmd = [sys.executable, "-m", officeserver.__name__, str(port), str(uno_port), str(self._tmp / "profile"),
               soffice, str(os.getpid()), str(self.memory_limit)]
        scratch = self._tmp / "tmp"  # LibreOffice's own temporary files, removed with the profile
        scratch.mkdir()
        write_profile_settings(self._tmp / "profile")
        nowhere = "http://127.0.0.1:9"  # a closed port: whatever still tries the network gets nothing
        env = {**os.environ, "TMPDIR": str(scratch), "http_proxy": nowhere, "https_proxy": nowhere,
               "HTTP_PROXY": nowhere, "HTTPS_PROXY": nowhere, "no_proxy": "", "NO_PROXY": "",
               "PYTHONPATH": os.pathsep.join(
                   filter(None, [str(Path(__file__).resolve().parents[__name__.count(".")]),
                                 os.environ.get("PYTHONPATH")]))}
        with log.open("wb") as out:
            # A session of its own: the server, oosplash and soffice.bin share one process
            # group that can be stopped as a whole.
            self._proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                          stderr=subprocess.STDOUT, cwd=self._tmp, env=env,
                                          start_new_session=True)
        register_group(self._proc.pid)
        self._pipes = officeserver.office_pipes(self._tmp / "profile")
        for pipe in self._pipes:
            register_litter(pipe)
        self._port, self._uno_port, self._log = port, uno_port, log
        self._office_pid = 0
        self._conversions = 0
        self.starts += 1
        self._deadline = time.monotonic() + START_TIMEOUT

    def _await_server(self, src: Path) -> None:
        assert self._proc is not None
        port, uno_port, log, deadline = self._port, self._uno_port, self._log, self._deadline
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                tail = _tail(log)
                self._stop_server()
                self._check_temp_space("LibreOffice kunde inte starta", "disk space" in tail)
                raise ConversionError(f"LibreOffice (unoserver) startade inte: {tail} {SETUP_HINT}", file=src)
            # Only talk to the ports once our own processes listen on them: on a shared
            # machine someone else's server may answer on a port that was free a moment ago.
            self._office_pid = port_owner(self._proc.pid, uno_port) or 0
            if self._office_pid and port_owner(self._proc.pid, port):
                info = xmlrpc.client.ServerProxy(f"http://127.0.0.1:{port}", allow_none=True).info
                try:
                    _run_with_timeout(info, deadline - time.monotonic())
                    return
                except (OSError, TimeoutError, xmlrpc.client.Error):
                    pass
            time.sleep(0.02)
        self._stop_server()
        raise ConversionError(
            f"LibreOffice (unoserver) svarade inte inom {START_TIMEOUT:g} sekunder. "
            f"Försök igen; händer det igen, kontrollera installationen. {SETUP_HINT}", file=src)

    def _stop_server(self) -> None:
        """Kill the server and LibreOffice (its whole process group) and remove the profile.

        No orderly shutdown: the profile is thrown away, so there is nothing to save.
        """
        proc, self._proc = self._proc, None
        if proc is not None:
            pgid = proc.pid  # a session leader: its pid is the process group id
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            deadline = time.monotonic() + STOP_GRACE
            while group_pids(pgid) and time.monotonic() < deadline:
                time.sleep(0.02)
            proc.wait()
            unregister_group(pgid)
            for pipe in self._pipes:  # LibreOffice's, in /tmp, outside the run's folder
                pipe.unlink(missing_ok=True)
                unregister_litter(pipe)
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None


PROFILE_SETTINGS = {
    # Never load linked content (images, OLE objects, sections) from outside the document.
    ("/org.openoffice.Office.Common/Security/Scripting", "BlockUntrustedRefererLinks"): "true",
    ("/org.openoffice.Office.Writer/Content/Update", "Link"): "2",  # update links: never
    ("/org.openoffice.Office.Calc/Content/Update", "Link"): "2",
    # No macros, whatever the document asks.
    ("/org.openoffice.Office.Common/Security/Scripting", "MacroSecurityLevel"): "3",
    ("/org.openoffice.Office.Common/Security/Scripting", "DisableMacrosExecution"): "true",
    # No .~lock.name# files (we convert copies anyway).
    ("/org.openoffice.Office.Common/Misc", "UseLocking"): "false",
    # Any network access LibreOffice still attempts goes to a closed port.
    ("/org.openoffice.Inet/Settings", "ooInetProxyType"): "1",
    ("/org.openoffice.Inet/Settings", "ooInetHTTPProxyName"): "127.0.0.1",
    ("/org.openoffice.Inet/Settings", "ooInetHTTPProxyPort"): "9",
    ("/org.openoffice.Inet/Settings", "ooInetHTTPSProxyName"): "127.0.0.1",
    ("/org.openoffice.Inet/Settings", "ooInetHTTPSProxyPort"): "9",
    ("/org.openoffice.Inet/Settings", "ooInetNoProxy"): "",
}
"""LibreOffice settings of the converter's own profile: linked content, macros, locks, network."""


def write_profile_settings(profile: Path) -> None:
    """Write ``PROFILE_SETTINGS`` as the profile's registrymodifications.xcu, before LibreOffice starts."""
    from xml.sax.saxutils import escape, quoteattr

    items = "".join(
        f'<item oor:path={quoteattr(path)}><prop oor:name={quoteattr(name)} oor:op="fuse">'
        f"<value>{escape(value)}</value></prop></item>\n"
        for (path, name), value in PROFILE_SETTINGS.items())
    user = profile / "user"
    user.mkdir(parents=True, exist_ok=True)
    (user / "registrymodifications.xcu").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<oor:items xmlns:oor="http://openoffice.org/2001/registry" '
        'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
        f"{items}</oor:items>\n", encoding="utf-8")


TIMEOUT_COVERS = 20 * 1024**2
"""Unpacked bytes an office file may have for the plain timeout (20 MiB: a 60 000-row sheet,
which takes about 25 s); larger files get proportionally more time."""
MAX_TIMEOUT = 900.0
"""The longest any one conversion may take, however large the file (15 minutes)."""


def conversion_timeout(path: Path, timeout: float) -> float:
    """Return the seconds converting ``path`` may take: ``timeout``, or more for a large file.

    Up to ``TIMEOUT_COVERS`` unpacked bytes, ``timeout``; above, in proportion to the size
    (a 50 MiB sheet gets 2.5 times as long), but never more than ``MAX_TIMEOUT``.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            unpacked = sum(info.file_size for info in zf.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return timeout
    return max(timeout, min(MAX_TIMEOUT, timeout * unpacked / TIMEOUT_COVERS))


def _run_with_timeout(fn: Callable, timeout: float):
    """Return ``fn()``, run in a daemon thread; raise TimeoutError if it takes too long."""
    result: dict = {}

    def target():
        try:
            result["value"] = fn()
        except BaseException as e:  # handed over to the caller
            result["error"] = e

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(max(timeout, 0))
    if thread.is_alive():
        raise TimeoutError
    if "error" in result:
        raise result["error"]
    return result.get("value")


def _free_ports(n: int) -> list[int]:
    """Return ``n`` distinct TCP ports on 127.0.0.1 that were free just now."""
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _alive(pid: int) -> bool:
    """Return True if process ``pid`` exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _tail(path: Path, lines: int = 5) -> str:
    """Return the last lines of a log file, joined on one line."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(ingen logg)"
    return " | ".join(line.strip() for line in text.strip().splitlines()[-lines:]) or "(tom logg)"


def _last_line(text: str) -> str:
    return text.strip().splitlines()[-1] if text.strip() else text
