"""Turning documents into PDF: the PDF stage of the pipeline.

``Converter`` keeps one LibreOffice warm behind unoserver's XML-RPC server (about 0.05 s
per document instead of about 0.8 s for a cold ``soffice --convert-to``). Office documents
go through LibreOffice as tagged PDF/A-2b; images are placed on an A4 page with reportlab;
PDFs are copied as they are. Every output is written atomically and checked to really be
a PDF, because LibreOffice sometimes writes nothing and says nothing.

The server (``python -m generator.convert``, see ``_serve``) gets free ports and a
profile of its own, is started on the first office document (about 1 s), restarted if
LibreOffice dies or hangs, and stopped with all its processes when the ``with`` block
ends. Process handling reads /proc: Linux only, like the LibreOffice setup (Debian 12).
"""

from __future__ import annotations

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
import zlib
from pathlib import Path
from typing import Callable, NamedTuple

from unoserver.client import UnoClient

from .conformance import make_conformant
from .errors import ConversionError
from .files import atomic_path

SETUP_HINT = "Installera det med: bash scripts/setup.sh"
RESAVE_HINT = "Öppna filen i Word eller LibreOffice, spara den igen och försök på nytt."
START_TIMEOUT = 60.0
"""Seconds to wait for the server to answer (it usually takes about 1 s)."""
STOP_GRACE = 10.0
"""Seconds LibreOffice gets to shut down after SIGTERM before it is killed."""


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
_IMAGES = (".png", ".jpg", ".jpeg")
ACCEPTED = (*_OFFICE, *_IMAGES, ".pdf")
"""File extensions ``Converter.to_pdf`` accepts."""

class _LibreOfficeDied(Exception):
    """LibreOffice died during a conversion (the document may or may not be the cause)."""


def libreoffice_available() -> bool:
    """Return True if ``soffice`` is on PATH and this Python can import ``uno``."""
    return shutil.which("soffice") is not None and importlib.util.find_spec("uno") is not None


class Converter:
    """A warm LibreOffice (unoserver) that converts documents to PDF; use as a context manager.

    The server starts with the first office document, so PDFs and images convert even
    where LibreOffice is not installed. One thread at a time.
    """

    def __init__(self, *, workdir: Path | None = None, timeout: float = 120.0):
        self.timeout = timeout
        """Seconds one conversion may take before LibreOffice is killed (and restarted)."""
        self._workdir = workdir
        self._tmp: Path | None = None
        self._proc: subprocess.Popen | None = None
        self._port = 0
        self._office_pid = 0

    def __enter__(self) -> "Converter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop the server and LibreOffice, and remove the temporary profile."""
        self._stop_server()

    @property
    def profile_dir(self) -> Path | None:
        """Return the LibreOffice profile of the running server (None when not running)."""
        return self._tmp / "profile" if self._proc is not None else None

    def to_pdf(self, src: Path, dst: Path, *, pdfa: bool = True, title: str | None = None) -> Path:
        """Convert ``src`` to the PDF ``dst`` and return ``dst``.

        ``pdfa`` makes office documents PDF/A-2b (they are always tagged); images and
        PDFs are not PDF/A. ``title`` replaces the PDF's title; by default an office
        document keeps the title from its properties and an image gets its file name.
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
        with atomic_path(dst) as tmp:
            if ext == ".pdf":
                shutil.copyfile(src, tmp)
            elif ext in _IMAGES:
                _image_to_pdf(src, tmp, title or src.stem)
            else:
                self._office_to_pdf(src, tmp, _OFFICE[ext], pdfa)
            _check_pdf(tmp, src)
            if title and ext not in _IMAGES:
                _set_title(tmp, title, src)
            if pdfa and ext in _OFFICE:
                make_conformant(tmp)  # PDF/A-2a and PDF/UA-1 where the validator agrees
        return dst

    def _office_to_pdf(self, src: Path, tmp: Path, fmt: _OfficeFormat, pdfa: bool) -> None:
        _check_container(src, fmt)
        try:
            self._convert_once(src, tmp, fmt, pdfa)
        except _LibreOfficeDied:
            # LibreOffice may have died before this document came (killed from outside, or
            # a crash that was not yet visible): try once on a fresh one before blaming the file.
            try:
                self._convert_once(src, tmp, fmt, pdfa)
            except _LibreOfficeDied as e:
                raise ConversionError(f"LibreOffice kraschade på filen. {RESAVE_HINT}", file=src) from e

    def _convert_once(self, src: Path, tmp: Path, fmt: _OfficeFormat, pdfa: bool) -> None:
        """Convert on the running server (started if need be); raise _LibreOfficeDied if it died."""
        if not self._server_alive():
            self._stop_server(force=True)
            self._start_server(src)
        client = UnoClient(server="127.0.0.1", port=str(self._port), host_location="local")
        options = ["UseTaggedPDF=true"] + (["SelectPdfVersion=2"] if pdfa else [])
        try:
            _run_with_timeout(lambda: client.convert(
                inpath=str(src), outpath=str(tmp), convert_to="pdf",
                infiltername=fmt.import_filter, filter_options=options), self.timeout)
        except TimeoutError:
            self._stop_server(force=True)
            raise ConversionError(
                f"LibreOffice blev inte klart inom {self.timeout:g} sekunder och avbröts. "
                f"Filen kan vara skadad eller mycket stor. {RESAVE_HINT}", file=src) from None
        except (xmlrpc.client.Error, http.client.HTTPException, OSError) as e:
            disposed = isinstance(e, xmlrpc.client.Fault) and "DisposedException" in e.faultString
            if disposed or not self._server_alive():
                self._stop_server(force=True)  # the next attempt gets a fresh LibreOffice
                raise _LibreOfficeDied() from e
            if isinstance(e, xmlrpc.client.Fault) and "Could not load document" in e.faultString:
                raise _unreadable(src, fmt) from e
            raise ConversionError(
                f"LibreOffice kunde inte göra om filen till PDF ({_last_line(str(e))}). {RESAVE_HINT}",
                file=src) from e

    def _server_alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None and _alive(self._office_pid)

    def _start_server(self, src: Path) -> None:
        if not libreoffice_available():
            raise ConversionError(
                "LibreOffice behövs för att göra om filen till PDF men är inte installerat "
                f"(soffice eller Pythons uno-modul saknas). {SETUP_HINT}", file=src)
        self._tmp = Path(tempfile.mkdtemp(prefix="beslut-lo-", dir=self._workdir))
        log = self._tmp / "server.log"
        port, uno_port = _free_ports(2)
        cmd = [sys.executable, "-m", __name__, str(port), str(uno_port),
               str(self._tmp / "profile"), shutil.which("soffice")]
        scratch = self._tmp / "tmp"  # LibreOffice's own temporary files, removed with the profile
        scratch.mkdir()
        env = {**os.environ, "TMPDIR": str(scratch), "PYTHONPATH": os.pathsep.join(
            filter(None, [str(Path(__file__).resolve().parents[__name__.count(".")]),
                          os.environ.get("PYTHONPATH")]))}
        with log.open("wb") as out:
            # A session of its own: the server, oosplash and soffice.bin share one process
            # group that can be stopped as a whole.
            self._proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                          stderr=subprocess.STDOUT, cwd=self._tmp, env=env,
                                          start_new_session=True)
        self._port = port
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                tail = _tail(log)
                self._stop_server(force=True)
                raise ConversionError(f"LibreOffice (unoserver) startade inte: {tail} {SETUP_HINT}", file=src)
            # Only talk to the ports once our own processes listen on them: on a shared
            # machine someone else's server may answer on a port that was free a moment ago.
            self._office_pid = _port_owner(self._proc.pid, uno_port) or 0
            if self._office_pid and _port_owner(self._proc.pid, port):
                info = xmlrpc.client.ServerProxy(f"http://127.0.0.1:{port}", allow_none=True).info
                try:
                    _run_with_timeout(info, deadline - time.monotonic())
                    return
                except (OSError, TimeoutError, xmlrpc.client.Error):
                    pass
            time.sleep(0.2)
        self._stop_server(force=True)
        raise ConversionError(
            f"LibreOffice (unoserver) svarade inte inom {START_TIMEOUT:g} sekunder. "
            f"Försök igen; händer det igen, kontrollera installationen. {SETUP_HINT}", file=src)

    def _stop_server(self, *, force: bool = False) -> None:
        """Stop the server and LibreOffice (its whole process group); SIGKILL at once if ``force``."""
        proc, self._proc = self._proc, None
        if proc is not None:
            pgid = proc.pid  # a session leader: its pid is the process group id
            for sig in ([] if force else [signal.SIGTERM]) + [signal.SIGKILL]:
                if not _group_pids(pgid):
                    break
                try:
                    os.killpg(pgid, sig)
                except ProcessLookupError:
                    break
                deadline = time.monotonic() + STOP_GRACE
                while _group_pids(pgid) and time.monotonic() < deadline:
                    time.sleep(0.05)
            proc.wait()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None


def _image_to_pdf(src: Path, dst: Path, title: str) -> None:
    """Write ``src`` as a one-page A4 PDF, turned upright and scaled to fit the margins."""
    from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError
    from reportlab import rl_config
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.units import cm
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas

    try:
        with Image.open(src) as im:
            if im.format == "JPEG" and im.getexif().get(ExifTags.Base.Orientation, 1) == 1:
                image, (w, h) = str(src), im.size  # reportlab embeds the JPEG as it is
            else:
                upright = ImageOps.exif_transpose(im)
                if upright.mode not in ("1", "L", "RGB", "RGBA", "CMYK"):
                    upright = upright.convert("RGBA")
                image, (w, h) = ImageReader(upright), upright.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as e:
        raise ConversionError(
            f"Bilden går inte att läsa ({e}). Öppna den i ett bildprogram, spara den igen som "
            "PNG eller JPEG och försök på nytt.", file=src) from e
    page = landscape(A4) if w > h else A4
    margin = 2 * cm
    scale = min((page[0] - 2 * margin) / w, (page[1] - 2 * margin) / h)
    use_a85, rl_config.useA85 = rl_config.useA85, 0  # ASCII85 would make images 25 % larger
    try:
        canvas = Canvas(str(dst), pagesize=page)
        canvas.setTitle(title)
        canvas.drawImage(image, (page[0] - w * scale) / 2, (page[1] - h * scale) / 2,
                         w * scale, h * scale, mask="auto")
        canvas.showPage()
        canvas.save()
    finally:
        rl_config.useA85 = use_a85


def _check_container(src: Path, fmt: _OfficeFormat) -> None:
    """Raise unless ``src`` is a zip container of the format its extension promises.

    LibreOffice itself happily turns an empty .pptx into a blank page.
    """
    if src.stat().st_size == 0:
        raise ConversionError(f"Filen är tom (0 byte). {RESAVE_HINT}", file=src)
    try:
        with zipfile.ZipFile(src) as zf:
            ok = fmt.needle in zf.read(fmt.member)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, zlib.error):
        ok = False
    if not ok:
        raise _unreadable(src, fmt)


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


def _set_title(path: Path, title: str, src: Path) -> None:
    """Set the PDF's title in both the document info and the XMP metadata."""
    import pikepdf

    try:
        with pikepdf.open(path, allow_overwriting_input=True) as pdf:
            with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
                meta["dc:title"] = title
            pdf.save(path)
    except pikepdf.PasswordError as e:
        raise ConversionError(
            "PDF-filen är lösenordsskyddad, så titeln kan inte skrivas in. Spara en kopia utan "
            "lösenord och försök igen.", file=src) from e
    except pikepdf.PdfError as e:
        raise ConversionError(
            "PDF-filen är skadad, så titeln kan inte skrivas in. Öppna den i en PDF-läsare, "
            "spara den igen och försök på nytt.", file=src) from e


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


def _group_pids(pgid: int) -> list[int]:
    """Return the live (non-zombie) processes in process group ``pgid`` (Linux /proc)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            pids.append(int(entry.name))
    return pids


def _port_owner(pgid: int, port: int) -> int | None:
    """Return the process in group ``pgid`` that listens on TCP ``port``, if any (Linux /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                inodes.add(f"socket:[{fields[9]}]")
    for pid in _group_pids(pgid) if inodes else ():
        try:
            if any(os.readlink(fd) in inodes for fd in Path(f"/proc/{pid}/fd").iterdir()):
                return pid
        except OSError:
            continue
    return None


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


def _serve(port: str, uno_port: str, profile: str, soffice: str) -> None:
    """Run LibreOffice and unoserver's XML-RPC server; the body of the server process.

    Not unoserver's own ``main``: that sleeps 5 s before it serves (this takes about 1 s),
    and it loads documents without Hidden=True, on which headless LibreOffice 7.4 aborts
    for Calc documents (SIGABRT in vcl::Window::GetCursor). The process group ends itself
    when the Converter's process dies, so a killed ``beslut`` leaves no LibreOffice behind.
    """
    from unoserver import converter, server  # imports uno, which enables com.sun.star imports
    from com.sun.star.beans import PropertyValue

    class HiddenDesktop:
        """The LibreOffice desktop, loading every document hidden."""

        def __init__(self, desktop):
            self._desktop = desktop

        def __getattr__(self, name):
            return getattr(self._desktop, name)

        def loadComponentFromURL(self, url, target, flags, props):  # noqa: N802 (UNO's name)
            hidden = PropertyValue(Name="Hidden", Value=True)
            return self._desktop.loadComponentFromURL(url, target, flags, (*props, hidden))

    unpatched_init = converter.UnoConverter.__init__

    def init(self, *args, **kwargs):
        unpatched_init(self, *args, **kwargs)
        self.desktop = HiddenDesktop(self.desktop)

    converter.UnoConverter.__init__ = init

    accept = f"socket,host=127.0.0.1,port={uno_port},tcpNoDelay=1;urp;StarOffice.ComponentContext"
    office = subprocess.Popen([soffice, "--headless", "--invisible", "--nocrashreport", "--nodefault",
                               "--nologo", "--nofirststartwizard", "--norestore",
                               f"-env:UserInstallation={Path(profile).as_uri()}", f"--accept={accept}"])
    parent = os.getppid()

    def watch_parent():
        while os.getppid() == parent:
            time.sleep(0.5)
        os.killpg(0, signal.SIGTERM)

    threading.Thread(target=watch_parent, daemon=True).start()
    while _port_owner(os.getpgid(0), int(uno_port)) is None:
        if office.poll() is not None:
            sys.exit(f"LibreOffice avslutades direkt (kod {office.returncode})")
        time.sleep(0.05)
    uno_server = server.UnoServer(interface="127.0.0.1", port=port,
                                  uno_interface="127.0.0.1", uno_port=uno_port)
    uno_server.libreoffice_process = office
    uno_server.serve()  # connects to LibreOffice, then serves until killed


if __name__ == "__main__":
    _serve(*sys.argv[1:])
