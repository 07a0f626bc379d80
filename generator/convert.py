"""Turning documents into PDF: the PDF stage of the pipeline.

``Converter`` keeps one LibreOffice warm behind unoserver's XML-RPC server (about 0.05 s
per document instead of about 0.8 s for a cold ``soffice --convert-to``). Office documents
go through LibreOffice as tagged PDF/A-2b; images are placed on an A4 page with reportlab;
PDFs are copied as they are. Every output is written atomically and checked to really be
a PDF, because LibreOffice sometimes writes nothing and says nothing.

The server (``python -m generator.officeserver``, see ``officeserver.serve``) gets free ports and a
profile of its own, is started on the first office document (about 1 s), restarted if
LibreOffice dies or hangs, and stopped with all its processes when the ``with`` block
ends. Process handling reads /proc: Linux only, like the LibreOffice setup (Debian 12).
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
import warnings
import xmlrpc.client
import zipfile
import zlib
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import NamedTuple, Protocol

from unoserver.client import UnoClient

from . import officeserver
from .errors import BeslutError, ConversionError, EnvironmentProblem
from .files import atomic_path
from .officefile import check_office_zip, copy_office_file
from .officeserver import group_pids, port_owner
from .runtemp import register_group, register_litter, run_dir, unregister_group, unregister_litter

SETUP_HINT = "Installera det med: bash scripts/setup.sh"
RESAVE_HINT = "Öppna filen i Word eller LibreOffice, spara den igen och försök på nytt."
START_TIMEOUT = 60.0
"""Seconds to wait for the server to answer (it usually takes about 1 s)."""
STOP_GRACE = 10.0
"""Seconds to wait for LibreOffice's processes to be gone after SIGKILL."""


class _OfficeFormat(NamedTuple):
    """How to recognise and import one office format."""

    kind: str
    """What the user calls it, in Swedish."""
    import_filter: str
    """LibreOffice import filter: forced, so LibreOffice never falls back to plain text."""
    member: str
    """A file inside the zip container that says which format it is ..."""
    needle: bytes
    """... by containing this."""


_OFFICE = {
    ".docx": _OfficeFormat("Word-dokument", "MS Word 2007 XML", "[Content_Types].xml", b"wordprocessingml"),
    ".pptx": _OfficeFormat("PowerPoint-presentation", "Impress MS PowerPoint 2007 XML",
                           "[Content_Types].xml", b"presentationml"),
    ".xlsx": _OfficeFormat("Excel-arbetsbok", "Calc MS Excel 2007 XML", "[Content_Types].xml", b"spreadsheetml"),
    ".odt": _OfficeFormat("textdokument (ODF)", "writer8", "mimetype", b"opendocument.text"),
    ".odp": _OfficeFormat("presentation (ODF)", "impress8", "mimetype", b"opendocument.presentation"),
    ".ods": _OfficeFormat("kalkylblad (ODF)", "calc8", "mimetype", b"opendocument.spreadsheet"),
}
_TEXT_KINDS = frozenset({_OFFICE[".docx"].kind, _OFFICE[".odt"].kind})
_IMAGES = (".png", ".jpg", ".jpeg")
ACCEPTED = (*_OFFICE, *_IMAGES, ".pdf")
"""File extensions ``Converter.to_pdf`` accepts."""

DEFAULT_TIMEOUT = 60.0
"""Seconds one conversion may take (documents take 0.05-5 s; a 300-page report about 20 s)."""
MEMORY_LIMIT = 2 * 1024**3
"""Address space each LibreOffice process may use (RLIMIT_AS); it uses about 0.85 GiB idle."""
RESTART_AFTER = 200
"""Conversions after which LibreOffice is replaced by a fresh one (see README: measured)."""


class _LibreOfficeDied(Exception):
    """LibreOffice died during a conversion (the document may or may not be the cause)."""


class _LibreOfficeHung(Exception):
    """LibreOffice did not finish a conversion in time and was killed."""


def libreoffice_available() -> bool:
    """Return True if ``soffice`` is on PATH and this Python can import ``uno``."""
    return shutil.which("soffice") is not None and importlib.util.find_spec("uno") is not None


MIN_FREE_TEMP = 4 * 1024**2
"""Below this many free bytes in the temporary folder, a LibreOffice that will not start is blamed on the disk."""


class PdfConverter(Protocol):
    """What the engine needs of a converter: ``Converter``, or a wrapper lent by a pool.

    mypy checks every implementation against this, so a wrapper that forgets a method
    fails in CI instead of silently falling back to a slower route at run time.
    """

    def __enter__(self) -> PdfConverter: ...

    def __exit__(self, *exc: object) -> None: ...

    def start(self) -> None:
        """Start LibreOffice now (the first conversion would otherwise)."""

    def to_pdf(self, src: Path, dst: Path, *, pdfa: bool = True, title: str | None = None,
               when: date | None = None) -> Path:
        """Convert ``src`` to the finished PDF ``dst``."""

    def export_pdf(self, src: Path, out: Path, *, options: tuple[str, ...] = ()) -> Path:
        """Export the .docx ``src`` as LibreOffice writes it (not finished) to ``out``."""


class Converter:
    """A warm LibreOffice (unoserver) that converts documents to PDF; use as a context manager.

    The server starts with the first office document, so PDFs and images convert even
    where LibreOffice is not installed. One thread at a time. ``timeout`` is the seconds
    one conversion may take, ``memory_limit`` the bytes of address space LibreOffice may
    use, ``restart_after`` the conversions after which it is replaced by a fresh one.
    Its profile and temporary files live in ``workdir`` (default: the run's own
    temporary folder, ``runtemp.run_dir``).
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

    def __enter__(self) -> Converter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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

    def to_pdf(self, src: Path, dst: Path, *, pdfa: bool = True, title: str | None = None,
               when: date | None = None) -> Path:
        """Convert ``src`` to the PDF ``dst`` and return ``dst``.

        ``pdfa`` makes office documents PDF/A-2b (they are always tagged); images and
        PDFs are not PDF/A. ``title`` replaces the PDF's title; by default an office
        document keeps the title from its properties and an image gets its file name.
        ``when`` dates the PDF (see ``document_time``); the same input gives the same bytes.
        A PDF is copied as it is.
        """
        src, dst = Path(src), Path(dst)
        ext = src.suffix.lower()
        if ext not in ACCEPTED:
            raise ConversionError(
                f"Filformatet '{src.suffix or '(ingen filändelse)'}' kan inte göras om till PDF. "
                f"Godkända format: {', '.join(ACCEPTED)}. Spara filen i något av dem och försök igen.",
                file=src)
        if not src.is_file():
            raise ConversionError("Filen finns inte. Kontrollera sökvägen och filnamnet.", file=src)
        if ext == ".pdf":
            with atomic_path(dst) as tmp:
                shutil.copyfile(src, tmp)
                _check_pdf(tmp, src)
            return dst
        # All the work in the run's temporary folder: a killed run leaves nothing beside dst.
        with tempfile.TemporaryDirectory(prefix="doc-", dir=self._base_dir()) as work:
            made = Path(work) / "made.pdf"
            if ext in _IMAGES:
                _image_to_pdf(src, made, title or src.stem)
            else:
                self._office_to_pdf(src, Path(work), made, _OFFICE[ext], pdfa)
            _check_pdf(made, src)
            try:
                finish_converted(made, dst, src=src, conform=pdfa and ext in _OFFICE, title=title, when=when)
            except (BeslutError, OSError):
                raise
            except Exception as e:  # pikepdf or the validator on what LibreOffice made of the file
                raise ConversionError(
                    f"PDF-filen som gjordes av filen gick inte att läsa ({type(e).__name__}). {RESAVE_HINT}",
                    file=src) from e
        return dst

    def export_pdf(self, src: Path, out: Path, *, options: tuple[str, ...] = ()) -> Path:
        """Write the .docx ``src`` as LibreOffice exports it (tagged PDF/A-2b, not finished) to ``out``.

        ``options`` are extra export filter options ("Name=value"). For a document beslut
        made itself and finishes in pieces (``letterbatch``); anything else goes through
        ``to_pdf``. Such a document has no table of contents or other index to update
        (unoserver's update lays the whole document out twice more).
        """
        src, out = Path(src), Path(out)
        with tempfile.TemporaryDirectory(prefix="doc-", dir=self._base_dir()) as work:
            self._office_to_pdf(src, Path(work), out, _OFFICE[src.suffix.lower()], True, options,
                                update_index=False)
        _check_pdf(out, src)
        return out

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

    def _office_to_pdf(self, src: Path, work: Path, out: Path, fmt: _OfficeFormat, pdfa: bool,
                       options: tuple[str, ...] = (), update_index: bool = True) -> None:
        """Convert a copy of ``src`` without outside links; retry once on a fresh LibreOffice."""
        _check_container(src, fmt)
        # LibreOffice never sees (or locks) the original; the copy keeps its name, which
        # FILENAME fields and &F headers print.
        (work / "fil").mkdir()
        copy = work / "fil" / src.name
        copy_office_file(src, copy)
        timeout = conversion_timeout(copy, self.timeout)
        failure: Exception | None = None
        for _ in range(2):
            try:
                # Only text documents have indexes (tables of contents) to update; for a
                # spreadsheet or a deck the update is only two more layouts.
                self._convert_once(copy, out, fmt, pdfa, src, options, update_index and fmt.kind in _TEXT_KINDS,
                                   timeout)
                return
            except ConversionError:
                self._check_temp_space("LibreOffice kunde inte göra om filen")
                raise
            except (_LibreOfficeDied, _LibreOfficeHung) as e:
                self._check_temp_space("LibreOffice kunde inte göra om filen")
                failure = e  # the server is gone: the next attempt gets a fresh LibreOffice
        if isinstance(failure, _LibreOfficeHung):
            raise ConversionError(
                f"LibreOffice blev inte klart inom {timeout:g} sekunder, två gånger (andra gången i "
                "en nystartad LibreOffice), och avbröts. Filen är troligen mycket stor eller gjord så att "
                f"LibreOffice fastnar. {RESAVE_HINT}", file=src) from failure
        raise ConversionError(
            "LibreOffice kraschade på filen två gånger (andra gången i en nystartad LibreOffice). Filen är "
            f"troligen skadad, eller behöver mer än {self.memory_limit / 1024**3:g} GiB minne. {RESAVE_HINT}",
            file=src) from failure

    def _convert_once(self, src: Path, out: Path, fmt: _OfficeFormat, pdfa: bool, user_file: Path,
                      extra: tuple[str, ...] = (), update_index: bool = True,
                      timeout: float | None = None) -> None:
        """Convert on the running server (started if need be); raise _LibreOfficeDied/_LibreOfficeHung."""
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
            raise _LibreOfficeHung() from None
        except (xmlrpc.client.Error, http.client.HTTPException, OSError) as e:
            disposed = isinstance(e, xmlrpc.client.Fault) and "DisposedException" in e.faultString
            if disposed or not self._server_alive():
                self._stop_server()
                raise _LibreOfficeDied() from e
            if isinstance(e, xmlrpc.client.Fault) and "Could not load document" in e.faultString:
                raise _unreadable(user_file, fmt) from e
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


def finish_converted(made: Path, dst: Path, *, src: Path, conform: bool, title: str | None = None,
                     when: date | None = None) -> None:
    """Write the PDF LibreOffice ``made`` of ``src`` to ``dst``: dated, /ID from content, and conforming.

    ``conform`` adds PDF/A-2a and PDF/UA-1 where the validator agrees (``make_conformant``).
    """
    # Imported here: a command line run imports this module to start LibreOffice early,
    # before the PDF tools (pikepdf, the validator) are needed.
    from .conformance import make_conformant
    from .pdfmeta import document_time, finish_pdf

    with tempfile.TemporaryDirectory(prefix="fin-", dir=made.parent) as work:
        final = Path(work) / "final.pdf"
        finish_pdf(made, final, title=title, when=document_time(src, when), src=src)
        if conform:
            make_conformant(final)  # PDF/A-2a and PDF/UA-1 where the validator agrees
        with atomic_path(dst) as tmp:
            shutil.copyfile(final, tmp)


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


def _image_to_pdf(src: Path, dst: Path, title: str) -> None:
    """Write ``src`` as a one-page A4 PDF, turned upright and scaled to fit the margins."""
    from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError
    from reportlab import rl_config
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.units import cm
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(src)  # reads the header only
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as e:
        limit = Image.MAX_IMAGE_PIXELS
        assert limit is not None, "Pillow warns of a decompression bomb only when it has a limit"
        side = int(limit ** 0.5)
        raise ConversionError(
            f"Bilden är för stor: den har fler än {limit / 1e6:.0f} miljoner bildpunkter, "
            f"som är gränsen (till exempel {side} × {side}). Så stora bilder kan vara gjorda för att "
            "överbelasta datorn, och de blir ändå inte skarpare på en A4-sida. Minska bilden i ett "
            "bildprogram (till exempel till 4000 bildpunkter på längsta sidan) och försök igen.",
            file=src) from e
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise _unreadable_image(src) from e
    image: str | ImageReader
    try:
        with im:
            if im.format == "JPEG" and im.getexif().get(ExifTags.Base.Orientation, 1) == 1:
                image, (w, h) = str(src), im.size  # reportlab embeds the JPEG as it is
            else:
                upright = ImageOps.exif_transpose(im)
                if upright.mode not in ("1", "L", "RGB", "RGBA", "CMYK"):
                    upright = upright.convert("RGBA")
                image, (w, h) = ImageReader(upright), upright.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as e:
        raise _unreadable_image(src) from e
    page = landscape(A4) if w > h else A4
    margin = 2 * cm
    scale = min((page[0] - 2 * margin) / w, (page[1] - 2 * margin) / h)
    use_a85, rl_config.useA85 = rl_config.useA85, 0  # ASCII85 would make images 25 % larger
    try:
        canvas = Canvas(str(dst), pagesize=page, invariant=1)  # no clock, no random /ID
        canvas.setTitle(title)
        canvas.drawImage(image, (page[0] - w * scale) / 2, (page[1] - h * scale) / 2,
                         w * scale, h * scale, mask="auto")
        canvas.showPage()
        canvas.save()
    finally:
        rl_config.useA85 = use_a85


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


def _unreadable_image(src: Path) -> ConversionError:
    return ConversionError(
        "Bilden går inte att läsa: den är skadad eller inte en PNG- eller JPEG-bild. Öppna den i ett "
        "bildprogram, spara den igen som PNG eller JPEG och försök på nytt.", file=src)


def _check_container(src: Path, fmt: _OfficeFormat) -> None:
    """Raise unless ``src`` is a zip container of the format its extension promises.

    LibreOffice itself happily turns an empty .pptx into a blank page.
    """
    if src.stat().st_size == 0:
        raise ConversionError(f"Filen är tom (0 byte). {RESAVE_HINT}", file=src)
    if src.suffix.lower() in _OOXML and _is_encrypted_ooxml(src):
        raise ConversionError(
            f"Filen är skyddad med lösenord och kan inte öppnas utan det. Öppna den i "
            f"{_PROGRAM.get(src.suffix.lower(), 'sitt program')}, ta bort lösenordet (Arkiv > Info > Skydda "
            "dokument > Kryptera med lösenord, töm fältet), spara och försök igen, eller be avsändaren om "
            "en version utan lösenord.", file=src)
    check_office_zip(src)  # before anything inflates a part of it
    try:
        with zipfile.ZipFile(src) as zf:
            ok = fmt.needle in zf.read(fmt.member)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, zlib.error):
        ok = False
    if not ok:
        raise _unreadable(src, fmt)


_OOXML = (".docx", ".xlsx", ".pptx")
_PROGRAM = {".docx": "Word", ".xlsx": "Excel", ".pptx": "PowerPoint"}
_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
"""An OLE compound file: how Office stores an OOXML file encrypted with a password (MS-OFFCRYPTO)."""


def _is_encrypted_ooxml(src: Path) -> bool:
    """Return True if ``src`` is an OOXML file encrypted with a password (a compound file with EncryptionInfo)."""
    try:
        with src.open("rb") as f:
            head = f.read(1 << 16)
            if not head.startswith(_CFB_MAGIC):
                return False
            f.seek(max(0, src.stat().st_size - (1 << 16)))
            tail = f.read()  # the directory may sit after the (large) encrypted package
    except OSError:
        return False
    names = ("EncryptionInfo".encode("utf-16-le"), "EncryptedPackage".encode("utf-16-le"))
    return any(name in head or name in tail for name in names)


def _unreadable(src: Path, fmt: _OfficeFormat) -> ConversionError:
    return ConversionError(
        f"Filen går inte att läsa som {fmt.kind}: den är skadad eller har fel filändelse. "
        f"Öppna den i Word eller LibreOffice, spara den igen som {src.suffix.lower()} och försök på nytt.",
        file=src)


def _check_pdf(path: Path, src: Path) -> None:
    """Raise unless ``path`` is a non-empty file that starts like a PDF."""
    with path.open("rb") as f:
        head = f.read(1024)
    if b"%PDF-" in head:
        return
    if src.suffix.lower() == ".pdf":
        raise ConversionError(
            "Filen är ingen giltig PDF. Öppna den i en PDF-läsare, spara den som PDF igen och "
            "försök på nytt.", file=src)
    raise ConversionError(f"LibreOffice skrev ingen PDF (utan att säga varför). {RESAVE_HINT}", file=src)


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
