"""The Starlette application: security middleware, error handlers, and ``create_app``.

``create_app(config)`` returns the ASGI application that ``beslut web`` serves with
uvicorn. It imports the pages (``routes`` assembles them); no page imports this module.
Configuration is in ``config``, rendering in ``pages``; every call into the generator is
in ``actions``.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import threading
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from .. import pipeline
from .config import HERE, MB, WebConfig, add_roots, client_of, log, scrub
from .converters import ConverterPool
from .jobqueue import JobQueue
from .pages import error_page, make_templates, session_cookie
from .security import (
    SECURITY_HEADERS,
    SESSION_COOKIE,
    allowed_hosts,
    basic_credentials,
    csrf_token,
    host_allowed,
    wait_text,
)
from .signin import Gate
from .state import AuditLog, Sessions, load_secret, password_stamp, prepare_state

__all__ = ["MB", "WebConfig", "create_app", "scrub"]
"""``WebConfig``, ``MB`` and ``scrub`` live in ``config``; named here too for the callers that import them here."""


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


def create_app(config: WebConfig, *, pool: ConverterPool | None = None) -> Starlette:
    """Return the ``beslut web`` application for ``config``."""
    from . import routes, startsida

    pool = pool or ConverterPool(config.converters)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        threading.Thread(target=pool.warm, name="beslut-warm", daemon=True).start()
        startsida.load_listing(config)
        threading.Thread(target=startsida.warm_listing, args=(config,), name="beslut-lista", daemon=True).start()
        yield
        pool.close()

    app = Starlette(
        debug=False,
        routes=routes.ROUTES
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
    app.state.moved = pipeline.move_legacy_output(config.out)  # once, before any page shows or builds
    for notice in app.state.moved:
        log.warning(notice)
    return app


