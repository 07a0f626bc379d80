"""The LibreOffice server process: soffice and unoserver's XML-RPC server, started by ``libreoffice``.

Run as ``python -m generator.officeserver PORT UNO_PORT PROFILE SOFFICE PARENT MEMORY``
by ``Converter``; it imports only what it needs (not the PDF tools of ``convert``), so it
starts LibreOffice a little sooner.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path


def serve(port: str, uno_port: str, profile: str, soffice: str, parent: str, memory_limit: str) -> None:
    """Run LibreOffice and unoserver's XML-RPC server; the body of the server process.

    Not unoserver's own ``main``: that sleeps 5 s before it serves (this takes about 1 s),
    and it loads documents without Hidden=True, on which headless LibreOffice 7.4 aborts
    for Calc documents (SIGABRT in vcl::Window::GetCursor). The process group (this
    server, oosplash, soffice.bin) dies with the Converter's process, so a killed
    ``beslut`` leaves no LibreOffice behind, and every process in it is capped at
    ``memory_limit`` bytes of address space.
    """
    _die_with_parent(int(parent))
    resource.setrlimit(resource.RLIMIT_AS, (int(memory_limit), int(memory_limit)))
    # unoserver imports uno, which is what makes com.sun.star importable: keep this order.
    # isort: off
    from unoserver import converter, server
    from com.sun.star.beans import PropertyValue
    # isort: on

    class HiddenDesktop:
        """The LibreOffice desktop, loading every document hidden."""

        def __init__(self, desktop):
            self._desktop = desktop

        def __getattr__(self, name):
            return getattr(self._desktop, name)

        def loadComponentFromURL(self, url, target, flags, props):  # noqa: N802 (UNO's name)
            hidden = PropertyValue(Name="Hidden", Value=True)
            document = self._desktop.loadComponentFromURL(url, target, flags, (*props, hidden))
            _one_footnote_line(document)
            return document

    unpatched_init = converter.UnoConverter.__init__

    def init(self, *args, **kwargs):
        unpatched_init(self, *args, **kwargs)
        self.desktop = HiddenDesktop(self.desktop)

    converter.UnoConverter.__init__ = init

    accept = f"socket,host=127.0.0.1,port={uno_port},tcpNoDelay=1;urp;StarOffice.ComponentContext"
    office = subprocess.Popen([soffice, "--headless", "--invisible", "--nocrashreport", "--nodefault",
                               "--nologo", "--nofirststartwizard", "--norestore",
                               f"-env:UserInstallation={Path(profile).as_uri()}", f"--accept={accept}"])
    while port_owner(os.getpgid(0), int(uno_port)) is None:
        if office.poll() is not None:
            sys.exit(f"LibreOffice avslutades direkt (kod {office.returncode})")
        time.sleep(0.02)
    uno_server = server.UnoServer(interface="127.0.0.1", port=port,
                                  uno_interface="127.0.0.1", uno_port=uno_port)
    uno_server.libreoffice_process = office
    uno_server.serve()  # connects to LibreOffice, then serves until killed


FOOTNOTE_LINE = ("FootnoteLineWeight", "FootnoteLineRelativeWidth", "FootnoteLineStyle", "FootnoteLineColor",
                 "FootnoteLineAdjust", "FootnoteLineTextDistance", "FootnoteLineDistance")
"""A page style's footnote separator, as LibreOffice's API names its parts."""


def _one_footnote_line(document) -> None:
    """Give every page style in use the footnote separator of the first page (runs in the server).

    A .docx has one footnote separator for the whole document, but LibreOffice 7.4 sets it
    only on the page style of the first section: footnotes in later sections (e.g. the
    letters of a composed batch, ``letterbatch``) would have no line above them.
    Documents without page styles (spreadsheets, slides) are left as they are.
    """
    try:
        styles = document.StyleFamilies.getByName("PageStyles")
        first = document.Text.createEnumeration().nextElement().PageDescName or "Standard"
        source = styles.getByName(first)
        line = [(name, source.getPropertyValue(name)) for name in FOOTNOTE_LINE]
        document.lockControllers()  # one layout after all changes, not one per change (~10x faster)
        try:
            for name in styles.ElementNames:
                style = styles.getByName(name)
                if name != first and style.isInUse():
                    for prop, value in line:
                        if style.getPropertyValue(prop) != value:
                            style.setPropertyValue(prop, value)
        finally:
            document.unlockControllers()
    except Exception:  # noqa: BLE001 -- not a text document; a layout fix-up never stops a conversion
        return


def _die_with_parent(parent: int) -> None:
    """Have the kernel SIGTERM this process when its parent dies; SIGTERM kills the whole group.

    PR_SET_PDEATHSIG fires when the thread that started this process ends, or the whole
    parent with it (SIGKILL included). The check of getppid covers a parent that died
    before the request was made.
    """
    signal.signal(signal.SIGTERM, lambda *_: os.killpg(0, signal.SIGKILL))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:
        os.killpg(0, signal.SIGKILL)


PR_SET_PDEATHSIG = 1
"""From <linux/prctl.h>."""


def group_pids(pgid: int) -> list[int]:
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


def port_owner(pgid: int, port: int) -> int | None:
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
    for pid in group_pids(pgid) if inodes else ():
        try:
            if any(os.readlink(fd) in inodes for fd in Path(f"/proc/{pid}/fd").iterdir()):
                return pid
        except OSError:
            continue
    return None


def office_pipes(profile: Path) -> list[Path]:
    """Return where LibreOffice with the profile ``profile`` makes its single-instance pipe.

    LibreOffice makes ``OSL_PIPE_<uid>_SingleOfficeIPC_<hash>`` in /tmp (or /var/tmp)
    whatever TMPDIR says (sal/osl/unx/pipe.cxx), and removes it only when it exits in an
    orderly way; ``Converter`` kills it, so it removes the pipe itself. ``<hash>`` is the
    MD5 of the profile's URL in UTF-16, each byte in hex without leading zeros
    (desktop/source/app/officeipcthread.cxx).
    """
    digest = hashlib.md5(Path(profile).as_uri().encode("utf-16-le"), usedforsecurity=False).digest()
    name = f"OSL_PIPE_{os.getuid()}_SingleOfficeIPC_{''.join(format(byte, 'x') for byte in digest)}"
    return [Path(folder) / name for folder in ("/tmp", "/var/tmp")]

if __name__ == "__main__":
    serve(*sys.argv[1:])
