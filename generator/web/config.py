"""The web page's configuration and the helpers every part of it shares.

``WebConfig`` (folders, limits, authentication), ``MB``, the log, ``client_of`` (the
client's address) and ``scrub`` (server paths out of every message a page shows). Nothing
here imports another module of the web page but ``security``.
"""

from __future__ import annotations

import logging
import re
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from starlette.types import Scope

from ..pipeline import ARENDEN_DIR, UTSKICK_DIR
from .security import Auth

HERE = Path(__file__).parent
log = logging.getLogger("beslut.web")

MB = 1024 * 1024


@dataclass
class WebConfig:
    """Everything the application needs to know: folders, limits, authentication."""

    content: Path
    organisationer: Path
    out: Path
    auth: Auth | None = None
    templates: Path | None = None
    """A folder of edited Word templates (``--mallar``); None: the templates that ship."""
    max_file: int = 25 * MB
    """Largest bilaga, in bytes."""
    max_arende: int = 100 * MB
    """Largest total of an ärende's bilagor, in bytes."""
    converters: int = 1
    """Warm LibreOffice converters kept (each about 200 MB); also the number of build threads."""
    max_waiting: int = 8
    """Jobs that may wait for a converter before the page says the queue is full."""
    listen: str = "127.0.0.1"
    """The address served on (``--host``): an IP address there is an allowed ``Host`` too."""
    vardnamn: tuple[str, ...] = ()
    """The server's public names (``--vardnamn``), allowed as ``Host`` besides the local ones."""
    state: Path | None = None
    """The state folder (secret, sessions, audit log); None: ``OUT/.beslut-web``."""
    signin_limit: int = 5
    """Failed sign-ins per user name and per address within ``signin_window`` before a wait."""
    signin_window: float = 60
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    """The key of the CSRF tokens: read from (or made in) the state folder by ``create_app``."""

    @property
    def state_folder(self) -> Path:
        return self.state or self.out / ".beslut-web"

    @property
    def arenden(self) -> Path:
        return self.content / ARENDEN_DIR

    @property
    def utskick(self) -> Path:
        return self.content / UTSKICK_DIR


_ROOTS: dict[str, str] = {}
"""Server folders -> how the pages show them (filled by ``create_app``, longest first by ``scrub``)."""
_ABSOLUTE = re.compile(r"(?<![\w.:/~-])/[^\s/\"'<>|:;,()]+(?:/[^\s/\"'<>|:;,()]*)+|\b[A-Za-z]:\\[^\s\"'<>|]*")


def add_roots(config: WebConfig) -> None:
    """Note the server's folders of ``config`` for ``scrub``."""
    roots = {config.content: "", config.out: f"{config.out.name}/", config.state_folder: f"{config.state_folder.name}/",
             config.organisationer.parent: "", HERE.parent: "beslut/", Path(tempfile.gettempdir()): ""}
    if config.templates:
        roots[config.templates] = f"{config.templates.name}/"
    for folder, shown in roots.items():
        for variant in {str(folder), str(folder.resolve())}:
            if variant not in ("/", ""):
                _ROOTS.setdefault(variant.rstrip("/") + "/", shown)


def scrub(text: str) -> str:
    """Return a message without server paths: folders the server knows shown relative, others by name.

    Used on every message the pages show (errors, problems, job results); never on the
    user's own text in the form.
    """
    for root in sorted(_ROOTS, key=len, reverse=True):
        if root in text:
            text = text.replace(root, _ROOTS[root])
    return _ABSOLUTE.sub(lambda m: re.split(r"[/\\]", m.group(0).rstrip("/\\"))[-1], text)


def client_of(scope: Scope) -> str | None:
    """Return the client's address: the TCP peer, or what a trusted proxy says in X-Forwarded-For."""
    state = scope.get("state") or {}
    if state.get("client"):
        return state["client"]
    client = scope.get("client")
    return client[0] if client else None


