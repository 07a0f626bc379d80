"""The Starlette application: configuration, security middleware, templates, error pages.

``create_app(config)`` returns the ASGI application that ``beslut web`` serves with
uvicorn. The routes are in ``routes``; every call into the generator is in ``actions``.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from .actions import ConverterPool
from .jobs import JobQueue
from .security import SECURITY_HEADERS, SESSION_COOKIE, Auth, csrf_token

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
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))

    @property
    def arenden(self) -> Path:
        return self.content / "arenden"

    @property
    def utskick(self) -> Path:
        return self.content / "utskick"


def make_templates() -> jinja2.Environment:
    """Return the Jinja2 environment of the pages (autoescaped, undefined is an error)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


ERROR_TEXTS = {
    400: ("Felaktig begäran", "Sidan fick en begäran den inte kunde förstå. Gå tillbaka och försök igen."),
    401: ("Inloggning krävs", "Logga in med ditt användarnamn och lösenord."),
    403: ("Åtgärden nekades", "Formuläret saknade en giltig säkerhetskod, eller så har du inte behörighet. "
          "Ladda om sidan och försök igen."),
    404: ("Sidan finns inte", "Det finns ingen sida eller fil med den adressen. "
          "Gå till startsidan och välj ärende där."),
    405: ("Fel metod", "Adressen kan inte användas på det sättet. Gå till startsidan."),
    413: ("Filen är för stor", "Det du skickade är större än vad servern tar emot. Se gränserna på sidan."),
    500: ("Något gick fel", "Ett oväntat fel inträffade i servern. Inget av ditt arbete har skrivits över. "
          "Försök igen, och kontakta IT-supporten om felet består."),
    503: ("Servern är upptagen", "Alla omvandlare är upptagna just nu. Vänta en stund och försök igen."),
}


def error_page(request: Request, status: int, detail: str | None = None) -> Response:
    """Return the Swedish error page for ``status`` (never a stack trace); JSON when asked for."""
    title, text = ERROR_TEXTS.get(status, ERROR_TEXTS[500])
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"fel": detail or text}, status_code=status)
    env: jinja2.Environment = request.app.state.templates
    html = env.get_template("error.html").render(
        title=title, text=text, detail=detail, status=status, user=getattr(request.state, "user", None),
        csrf="", nav="")
    headers = {"www-authenticate": 'Basic realm="beslut", charset="UTF-8"'} if status == 401 else None
    return HTMLResponse(html, status_code=status, headers=headers)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)  # the handler for HTTPException only (see create_app)
    detail = exc.detail if exc.detail not in (None, "") and not exc.detail.isascii() else None
    return error_page(request, exc.status_code, detail)


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("oväntat fel för %s %s", request.method, request.url.path, exc_info=exc)
    return error_page(request, 500)


class SecurityMiddleware:
    """Sign-in, a session cookie for CSRF, a size limit on bodies, and security headers."""

    def __init__(self, app: ASGIApp, config: WebConfig):
        self.app = app
        self.config = config

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        user = None
        if self.config.auth is not None:
            user = self.config.auth.user(request.headers)
            if user is None:
                await self._reply(scope, receive, send, 401)
                return
        limit = self.config.max_arende + MB
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            await self._reply(scope, receive, send, 413)
            return
        session = request.cookies.get(SESSION_COOKIE)
        new_session = None
        if not session or len(session) != 43:
            session = new_session = secrets.token_urlsafe(32)
        scope.setdefault("state", {})
        scope["state"].update(user=user, session=session, csrf=csrf_token(self.config.secret, session))

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                for name, value in SECURITY_HEADERS.items():
                    headers.append((name.encode(), value.encode()))
                if not any(h[0].lower() == b"cache-control" for h in headers):
                    headers.append((b"cache-control", b"no-store"))
                if new_session:
                    cookie = f"{SESSION_COOKIE}={new_session}; Path=/; HttpOnly; SameSite=Strict"
                    headers.append((b"set-cookie", cookie.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _reply(self, scope, receive, send, status: int) -> None:
        request = Request(scope, receive)
        scope.setdefault("state", {})
        response = error_page(request, status)
        for name, value in SECURITY_HEADERS.items():
            response.headers[name] = value
        await response(scope, receive, send)


def create_app(config: WebConfig, *, pool: ConverterPool | None = None) -> Starlette:
    """Return the ``beslut web`` application for ``config``."""
    from . import protokollsida, routes, sammantraden

    pool = pool or ConverterPool(config.converters)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        threading.Thread(target=pool.warm, name="beslut-warm", daemon=True).start()
        yield
        pool.close()

    app = Starlette(
        debug=False,
        routes=routes.ROUTES + sammantraden.ROUTES + protokollsida.ROUTES
        + [Mount("/static", StaticFiles(directory=HERE / "static"), name="static")],
        middleware=[Middleware(SecurityMiddleware, config=config)],
        exception_handlers={HTTPException: http_error, Exception: server_error},
        lifespan=lifespan,
    )
    app.state.config = config
    app.state.templates = make_templates()
    app.state.pool = pool
    app.state.jobs = JobQueue(pool, config.max_waiting)
    return app


