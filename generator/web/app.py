"""The Starlette application: configuration, security middleware, templates, error pages.

``create_app(config)`` returns the ASGI application that ``beslut web`` serves with
uvicorn. The routes are in ``routes``; every call into the generator is in ``actions``.
"""

from __future__ import annotations

import contextlib
import logging
import re
import secrets
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import jinja2
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from .actions import ConverterPool, move_legacy_output
from .jobs import JobQueue
from .security import (
    SECURITY_HEADERS,
    SESSION_COOKIE,
    Auth,
    allowed_hosts,
    basic_credentials,
    csrf_token,
    host_allowed,
    wait_text,
)
from .signin import Gate
from .state import AuditLog, Sessions, load_secret, password_stamp, prepare_state

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
    429: ("För många försök", "För många misslyckade inloggningar. Vänta en stund och försök igen."),
    404: ("Sidan finns inte", "Det finns ingen sida eller fil med den adressen. "
          "Gå till startsidan och välj ärende där."),
    405: ("Fel metod", "Adressen kan inte användas på det sättet. Gå till startsidan."),
    413: ("Filen är för stor", "Det du skickade är större än vad servern tar emot. Se gränserna på sidan."),
    500: ("Något gick fel", "Ett oväntat fel inträffade i servern. Inget av ditt arbete har skrivits över. "
          "Försök igen, och kontakta IT-supporten om felet består."),
    503: ("Servern är upptagen", "Alla omvandlare är upptagna just nu. Vänta en stund och försök igen."),
}


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


def error_page(request: Request, status: int, detail: str | None = None) -> Response:
    """Return the Swedish error page for ``status`` (never a stack trace); JSON when asked for."""
    title, text = ERROR_TEXTS.get(status, ERROR_TEXTS[500])
    detail = scrub(detail) if detail else detail
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"fel": detail or text}, status_code=status)
    env: jinja2.Environment = request.app.state.templates
    html = env.get_template("error.html").render(
        title=title, text=text, detail=detail, status=status, user=getattr(request.state, "user", None),
        csrf=getattr(request.state, "csrf", ""), nav="", signout=getattr(request.state, "signout", False),
        signin=status == 401 and getattr(request.state, "signin", False))
    return HTMLResponse(html, status_code=status)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)  # the handler for HTTPException only (see create_app)
    detail = exc.detail if exc.detail not in (None, "") and not exc.detail.isascii() else None
    response = error_page(request, exc.status_code, detail)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("oväntat fel för %s %s", request.method, request.url.path, exc_info=exc)
    return error_page(request, 500)


KEEPS_FORM = re.compile(r"^/arende/[^/]+(/bygg)?$")
"""The forms whose too large upload is read through (files dropped) to give the typed text back."""

PUBLIC_PATHS = ("/logga-in", "/static/")
"""What may be asked for without signing in (the sign-in page and its style and script)."""


def client_of(scope: Scope) -> str | None:
    """Return the client's address: the TCP peer, or what a trusted proxy says in X-Forwarded-For."""
    state = scope.get("state") or {}
    if state.get("client"):
        return state["client"]
    client = scope.get("client")
    return client[0] if client else None


def forwarded_for(value: str) -> str | None:
    """Return the address a proxy added to ``X-Forwarded-For`` (the last one; the others are the client's say)."""
    last = value.split(",")[-1].strip()
    return last[:64] if last else None


class SecurityMiddleware:
    """The gate of every request, in this order.

    1. ``Host`` must be one of the page's own names, else 400 (no cookie, no page).
    2. A trusted header is accepted only from the proxy's addresses, else 403.
    3. Bodies bigger than the limit: 413 before they are read.
    4. With a user file: a signed-in session, or HTTP Basic (throttled, scrypt off the
       event loop); else the sign-in page (303 for a page, 401 for anything else).
    5. A session cookie for CSRF (HttpOnly, SameSite=Strict, Secure behind TLS), and the
       security headers on every answer.
    """

    def __init__(self, app: ASGIApp, config: WebConfig):
        self.app = app
        self.config = config
        self._allowed: dict[int, frozenset[str]] = {}

    def _allowed_hosts(self, scope: Scope) -> frozenset[str]:
        port = (scope.get("server") or ("", 80))[1] or 80
        if port not in self._allowed:
            self._allowed[port] = allowed_hosts(self.config.listen, port, self.config.vardnamn)
        return self._allowed[port]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        scope.setdefault("state", {})
        if not host_allowed(request.headers.get("host", ""), self._allowed_hosts(scope)):
            log.warning("okänt Host-huvud %r från %s", request.headers.get("host", "")[:100], client_of(scope))
            await self._reply(scope, receive, send, 400, "Servern svarar bara på sitt eget namn. Skriv in "
                                                         "adressen du fått av din förvaltning.")
            return
        auth = self.config.auth
        client = client_of(scope)
        from_proxy = auth is not None and auth.from_proxy(client)
        if from_proxy and request.headers.get("x-forwarded-for"):
            client = forwarded_for(request.headers["x-forwarded-for"]) or client
            scope["state"]["client"] = client
        if auth is not None and auth.trusted_header and not from_proxy:
            log.warning("begäran från %s utan att gå via den betrodda proxyn", client)
            await self._reply(scope, receive, send, 403, "Sidan nås bara genom stadens inloggning (proxyn).")
            return
        limit = self.config.max_arende + MB
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            if not (request.method == "POST" and KEEPS_FORM.match(scope["path"]) and int(length) <= 4 * limit
                    and request.headers.get("content-type", "").startswith("multipart/form-data")):
                await self._reply(scope, receive, send, 413)
                return
            scope["state"]["too_large"] = int(length)  # the form comes back with its text, its files dropped
        secure = scope.get("scheme") == "https" or (
            from_proxy and request.headers.get("x-forwarded-proto", "").lower() == "https")
        session = request.cookies.get(SESSION_COOKIE)
        new_session = None
        if not session or len(session) != 43:
            session = new_session = secrets.token_urlsafe(32)
        app_state = scope["app"].state
        sessions: Sessions = app_state.sessions
        user = None
        signin = auth is not None and auth.users is not None
        if auth is not None and auth.trusted_header:
            user = auth.user(request.headers)
            if user is None:
                await self._reply(scope, receive, send, 401, "Stadens inloggning skickade inget användarnamn. "
                                                             "Logga in på nytt via stadens inloggning.")
                return
        elif signin:
            user = sessions.user(None if new_session else session)
            credentials = basic_credentials(request.headers.get("authorization", ""))
            if user is None and credentials:
                gate: Gate = app_state.gate
                attempt = await gate.attempt(*credentials, client, basic=True)
                if attempt.checked or (attempt.wait and gate.log_denial(credentials[0], client)):
                    app_state.audit.write("inloggning", anvandare=credentials[0][:100], adress=client,
                                          resultat="ok" if attempt.user else "nekad" if attempt.wait else "fel",
                                          detalj="HTTP Basic")
                if attempt.wait:
                    await self._reply(scope, receive, send, 429, f"För många misslyckade inloggningar. Vänta "
                                      f"{wait_text(attempt.wait)} och försök igen.",
                                      {"retry-after": str(int(attempt.wait) + 1)})
                    return
                if attempt.user is None:
                    await self._reply(scope, receive, send, 401, None, {"www-authenticate":
                                                                        'Basic realm="beslut", charset="UTF-8"'})
                    return
                user = attempt.user
            if user is None and not scope["path"].startswith(PUBLIC_PATHS):
                if request.method == "GET" and "application/json" not in request.headers.get("accept", ""):
                    target = scope["path"] + (f"?{scope['query_string'].decode('latin-1')}"
                                              if scope.get("query_string") else "")
                    response: Response = RedirectResponse(f"/logga-in?nasta={quote(target, safe='')}",
                                                          status_code=303)
                    self._decorate(response, new_session, secure)
                    await response(scope, receive, send)
                    return
                scope["state"].update(signin=True)
                await self._reply(scope, receive, send, 401)
                return
        scope["state"].update(user=user, session=session, csrf=csrf_token(self.config.secret, session),
                              signout=signin and user is not None, secure=secure)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                for name, value in SECURITY_HEADERS.items():
                    headers.append((name.encode(), value.encode()))
                if not any(h[0].lower() == b"cache-control" for h in headers):
                    headers.append((b"cache-control", b"no-store"))
                sets_cookie = any(h[0].lower() == b"set-cookie" and h[1].startswith(SESSION_COOKIE.encode())
                                  for h in headers)
                if new_session and not sets_cookie:
                    headers.append((b"set-cookie", session_cookie(new_session, secure).encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)

    @staticmethod
    def _decorate(response: Response, new_session: str | None, secure: bool) -> None:
        for name, value in SECURITY_HEADERS.items():
            response.headers[name] = value
        response.headers["cache-control"] = "no-store"
        if new_session:
            response.headers.append("set-cookie", session_cookie(new_session, secure))

    async def _reply(self, scope, receive, send, status: int, detail: str | None = None,
                     headers: dict[str, str] | None = None) -> None:
        """Answer with an error page before any session: no cookie is set."""
        request = Request(scope, receive)
        response = error_page(request, status, detail)
        self._decorate(response, None, False)
        for name, value in (headers or {}).items():
            response.headers[name] = value
        await response(scope, receive, send)


def session_cookie(value: str, secure: bool) -> str:
    """Return the Set-Cookie value of the session cookie."""
    return f"{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict" + ("; Secure" if secure else "")


def create_app(config: WebConfig, *, pool: ConverterPool | None = None) -> Starlette:
    """Return the ``beslut web`` application for ``config``."""
    from . import protokollsida, routes, sammantraden

    pool = pool or ConverterPool(config.converters)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        threading.Thread(target=pool.warm, name="beslut-warm", daemon=True).start()
        routes.load_listing(config)
        threading.Thread(target=routes.warm_listing, args=(config,), name="beslut-lista", daemon=True).start()
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
    add_roots(config)
    state = prepare_state(config.state_folder, config.content)
    config.secret = load_secret(state)
    app.state.config = config
    users = config.auth.users if config.auth is not None else None
    app.state.sessions = Sessions(state, stamps={name: password_stamp(h) for name, h in users.items()}
                                  if users is not None else None)
    app.state.audit = AuditLog(state)
    if config.auth is not None and config.auth.users is not None:
        app.state.gate = Gate(config.auth.users, config.secret, limit=config.signin_limit,
                              window=config.signin_window)
    app.state.templates = make_templates()
    app.state.pool = pool
    app.state.jobs = JobQueue(pool, config.max_waiting)
    app.state.moved = move_legacy_output(config.out)  # once, before any page shows or builds
    for notice in app.state.moved:
        log.warning(notice)
    return app


