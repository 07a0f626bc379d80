"""Running ``beslut web``: checks before listening, then uvicorn."""

from __future__ import annotations

from pathlib import Path

import click

from .app import WebConfig, create_app
from .security import Auth, check_host, read_users


def make_config(*, content: Path, organisationer: Path, out: Path, host: str, users: Path | None = None,
                trusted_header: str | None = None, converters: int = 1,
                templates: Path | None = None) -> WebConfig:
    """Return the configuration for serving on ``host``; refuse other hosts without authentication."""
    from ..errors import ContentError

    if users and trusted_header:
        raise ContentError("ange antingen --anvandare eller --betrott-huvud, inte båda.")
    auth = None
    if users:
        auth = Auth(users=read_users(users))
    elif trusted_header:
        auth = Auth(trusted_header=trusted_header.lower())
    check_host(host, auth)
    if not (content / "arenden").is_dir() and not (content / "utskick").is_dir():
        raise ContentError("mappen har varken arenden/ eller utskick/. Ange innehållsmappen med --innehall.",
                           file=content)
    (content / "arenden").mkdir(exist_ok=True)
    return WebConfig(content=content.resolve(), organisationer=organisationer.resolve(), out=out.resolve(),
                     auth=auth, converters=converters,
                     templates=templates.resolve() if templates else None)


def serve(*, content: Path, organisationer: Path, out: Path, host: str, port: int, users: Path | None,
          trusted_header: str | None, converters: int, templates: Path | None = None) -> None:
    """Serve the application with uvicorn until interrupted."""
    import uvicorn

    config = make_config(content=content, organisationer=organisationer, out=out, host=host, users=users,
                         trusted_header=trusted_header, converters=converters, templates=templates)
    app = create_app(config)
    click.echo(f"beslut web: http://{host}:{port}/ (avsluta med Ctrl+C)")
    uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False, proxy_headers=False)
