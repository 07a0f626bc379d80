"""Signing in and out with the page's own user file."""

from __future__ import annotations

import secrets

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from .config import client_of
from .pages import audit, page, session_cookie
from .security import (
    SESSION_COOKIE,
    wait_text,
)
from .state import AuditLog


def _next_page(value: str) -> str:
    """Return where to go after signing in: a path of this site only (no //host, no scheme)."""
    if not value.startswith("/") or value.startswith(("//", "/\\")) or any(c in value for c in "\r\n\\"):
        return "/"
    return value


async def signin_form(request: Request) -> Response:
    if getattr(request.app.state, "gate", None) is None:
        return RedirectResponse("/", status_code=303)
    if request.state.user:
        return RedirectResponse(_next_page(request.query_params.get("nasta", "/")), status_code=303)
    notice = "Du är utloggad." if request.query_params.get("utloggad") else None
    return page(request, "login.html", nav="login", error=None, notice=notice, namn="",
                nasta=_next_page(request.query_params.get("nasta", "/")))


async def signin(request: Request) -> Response:
    """Check the user name and password (throttled, scrypt in a worker thread); start a session."""
    gate = getattr(request.app.state, "gate", None)
    if gate is None:
        return RedirectResponse("/", status_code=303)
    form = await request.form()
    name = str(form.get("anvandarnamn", "")).strip()[:200]
    password = str(form.get("losenord", ""))[:1024]
    nasta = _next_page(str(form.get("nasta", "/")))
    client = client_of(request.scope)
    attempt = await gate.attempt(name, password, client)
    log: AuditLog = request.app.state.audit
    if not attempt.wait or gate.log_denial(name, client):
        log.write("inloggning", anvandare=name[:100] or None, adress=client,
                  resultat="ok" if attempt.user else "nekad" if attempt.wait else "fel",
                  detalj=f"väntetid {int(attempt.wait) + 1} s" if attempt.wait else None)
    response: Response
    if attempt.wait:
        response = page(request, "login.html", status=429, nav="login", notice=None, namn=name, nasta=nasta,
                        error=f"För många misslyckade inloggningar. Vänta {wait_text(attempt.wait)} och försök igen.")
        response.headers["retry-after"] = str(int(attempt.wait) + 1)
        return response
    if attempt.user is None:
        return page(request, "login.html", status=401, nav="login", notice=None, namn=name, nasta=nasta,
                    error="Fel användarnamn eller lösenord. Kontrollera och försök igen.")
    sid = await run_in_threadpool(request.app.state.sessions.create, attempt.user)  # a new id: no fixation
    response = RedirectResponse(nasta, status_code=303)
    response.headers.append("set-cookie", session_cookie(sid, request.state.secure))
    return response


async def signout(request: Request) -> Response:
    """End the session and give the browser a new, signed-out one."""
    sid = request.cookies.get(SESSION_COOKIE)
    if request.state.user and getattr(request.app.state, "gate", None) is not None:
        audit(request, "utloggning")
    await run_in_threadpool(request.app.state.sessions.end, sid)
    response = RedirectResponse("/logga-in?utloggad=1", status_code=303)
    response.headers.append("set-cookie", session_cookie(secrets.token_urlsafe(32), request.state.secure))
    return response
