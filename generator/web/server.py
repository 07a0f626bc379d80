"""Running ``beslut web``: checks before listening, then uvicorn."""

from __future__ import annotations

import logging
import socket
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..pipeline import ARENDEN_DIR, UTSKICK_DIR
from .app import WebConfig, create_app
from .security import (
    LOOPBACK,
    Auth,
    check_host,
    check_trusted_header,
    check_vardnamn,
    is_loopback,
    parse_proxies,
    read_users,
)

if TYPE_CHECKING:
    import uvicorn


def make_config(*, content: Path, organisationer: Path, out: Path, host: str, users: Path | None = None,
                trusted_header: str | None = None, converters: int = 1,
                templates: Path | None = None, vardnamn: tuple[str, ...] = (), proxies: tuple[str, ...] = (),
                state: Path | None = None) -> WebConfig:
    """Return the configuration for serving on ``host``; refuse what would let others in unchecked.

    Another address than this computer needs authentication; a trusted header needs the
    proxy's addresses (``proxies``) unless it listens on loopback only.
    """
    from ..errors import ContentError

    if users and trusted_header:
        raise ContentError("ange antingen --anvandare eller --betrott-huvud, inte båda.")
    check_vardnamn(vardnamn)
    networks = parse_proxies(proxies)
    check_trusted_header(host, trusted_header, networks)
    auth = None
    if users:
        auth = Auth(users=read_users(users), proxies=networks or LOOPBACK)
    elif trusted_header:
        auth = Auth(trusted_header=trusted_header.lower(), proxies=networks or LOOPBACK)
    check_host(host, auth)
    if not (content / ARENDEN_DIR).is_dir() and not (content / UTSKICK_DIR).is_dir():
        raise ContentError("mappen har varken arenden/ eller utskick/. Ange innehållsmappen med --innehall.",
                           file=content)
    (content / ARENDEN_DIR).mkdir(exist_ok=True)
    return WebConfig(content=content.resolve(), organisationer=organisationer.resolve(), out=out.resolve(),
                     auth=auth, converters=converters,
                     templates=templates.resolve() if templates else None, listen=host, vardnamn=tuple(vardnamn),
                     state=state.resolve() if state else None)


def serve(*, content: Path, organisationer: Path, out: Path, host: str, port: int, users: Path | None,
          trusted_header: str | None, converters: int, templates: Path | None = None,
          vardnamn: tuple[str, ...] = (), proxies: tuple[str, ...] = (), state: Path | None = None) -> None:
    """Serve the application with uvicorn until interrupted."""
    import uvicorn

    config = make_config(content=content, organisationer=organisationer, out=out, host=host, users=users,
                         trusted_header=trusted_header, converters=converters, templates=templates,
                         vardnamn=vardnamn, proxies=proxies, state=state)
    app = create_app(config)
    handler = logging.StreamHandler()  # warnings and the audit lines to the service's log (journalctl)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    web_log = logging.getLogger("beslut.web")
    web_log.addHandler(handler)
    web_log.setLevel(logging.INFO)
    web_log.propagate = False
    if users and not is_loopback(host):
        click.echo("Varning: lösenorden går okrypterade över nätverket om inte en TLS-proxy (https) står "
                   "framför servern. Se docs/web.md.", err=True)
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"beslut web: http://{shown}:{port}/ (avsluta med Ctrl+C)")
    uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False, proxy_headers=False)


def start_in_thread(config: WebConfig, port: int | None = None) -> tuple[uvicorn.Server, threading.Thread, str]:
    """Serve ``config`` on ``port`` (default: a free one) of 127.0.0.1 in a thread (tests, benchmarks).

    Return the server, its thread and its URL. Stop it with ``server.should_exit = True`` and
    ``thread.join()``.
    """
    import uvicorn

    if port is None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(config), host="127.0.0.1", port=port, log_level="warning",
                                               proxy_headers=False))
    thread = threading.Thread(target=server.run, name="beslut-web", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("beslut web startade inte")
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{port}"
