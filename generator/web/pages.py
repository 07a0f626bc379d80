"""What every page shares: rendering, the error page, CSRF-checked POST routes, and the folders of a URL.

``page`` renders a template with what every page needs; ``error_page`` is the Swedish error
page (never a stack trace); ``post`` makes a POST route that checks the CSRF token (and gives
a refused form back with what was typed); ``arende_folder`` and ``utskick_folder`` resolve a
URL's name (404 otherwise); ``problem_dicts`` puts problems on a page. The feature modules
(``startsida``, ``arendesidor``, ``utskicksidor``, ...) import this; it imports none of them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import jinja2
from jinja2.sandbox import SandboxedEnvironment
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from .. import pipeline
from ..pipeline import ARENDE_FILE, OVERRIDES_DIR
from . import actions, forms
from .config import HERE, MB, WebConfig, client_of, log, scrub
from .security import (
    CSRF_FIELD,
    CSRF_HEADER,
    SAFE_NAME,
    SESSION_COOKIE,
    csrf_ok,
    resolve_under,
)
from .state import AuditLog


def make_templates() -> jinja2.Environment:
    """Return the Jinja2 environment of the pages (autoescaped, undefined is an error)."""
    env = SandboxedEnvironment(  # the page's own templates; sandboxed like every template here
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


def session_cookie(value: str, secure: bool) -> str:
    """Return the Set-Cookie value of the session cookie."""
    return f"{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict" + ("; Secure" if secure else "")


SEVERITY_LABEL = {"fel": "Fel", "stopp": "Stopp", "varning": "Varning"}


def config_of(request: Request) -> WebConfig:
    return request.app.state.config


def page(request: Request, template: str, status: int = 200, **context) -> HTMLResponse:
    """Render ``template`` with what every page needs (CSRF token, user, limits)."""
    config = config_of(request)
    env = request.app.state.templates
    if template == "edit.html":
        context.setdefault("changed", last_changed(request, context["namn"]))
    html = env.get_template(template).render(
        csrf=request.state.csrf, user=request.state.user, nav=context.pop("nav", ""),
        signout=getattr(request.state, "signout", False),
        max_file_mb=config.max_file // MB, max_arende_mb=config.max_arende // MB, **context)
    return HTMLResponse(html, status_code=status)


def audit(request: Request, handelse: str, **fields) -> None:
    """Write one event of this request's user to the audit log."""
    log: AuditLog = request.app.state.audit
    log.write(handelse, anvandare=request.state.user, adress=client_of(request.scope), **fields)


def last_changed(request: Request, namn: str) -> str | None:
    """Return "Senast ändrad av … den …" for the ärende ``namn`` (from the audit log and its files)."""
    config = config_of(request)
    folder = config.arenden / namn
    files = [folder / ARENDE_FILE, *sorted((folder / OVERRIDES_DIR).glob("*.yaml"))]
    mtimes = [p.stat().st_mtime for p in files if p.is_file()]
    logged = request.app.state.audit.last_change(namn)
    when = datetime.fromtimestamp(max(mtimes)) if mtimes else None
    if logged:
        user, tid = logged
        try:
            at = datetime.fromisoformat(tid).astimezone().replace(tzinfo=None)
        except ValueError:
            at = None
        if at and (when is None or when.timestamp() <= at.timestamp() + 5):
            by = f" av {user}" if user else " på webbsidan"
            return f"Senast ändrad{by} den {at:%Y-%m-%d %H:%M}."
    if when:
        return (f"Senast ändrad den {when:%Y-%m-%d %H:%M} (vem som ändrade syns bara för ändringar gjorda på "
                "webbsidan).")
    return None


STALE_TOKEN = ("Sidan hade en säkerhetskod som inte längre gäller (till exempel efter att du loggats ut). "
               "Ingenting sparades. Det du skrev och valde står kvar nedan: kontrollera det och tryck på knappen "
               "igen.")


SERVER_ERROR = ("Ett oväntat fel inträffade i servern och ingenting sparades. Det du skrev står kvar nedan: "
                "tryck Spara igen, och kontakta IT-supporten om felet består.")


class _TextOnlyParser(MultiPartParser):
    """Parse a multipart form keeping its text fields and dropping the files it carries (a 413)."""

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._current_part.file is None:
            super().on_part_data(data, start, end)

    def on_part_end(self) -> None:
        if self._current_part.file is None:
            super().on_part_end()
        else:
            self._current_part.file.file.close()


def _same_site(request: Request) -> bool:
    """Return True unless the browser says the request came from another site (``Sec-Fetch-Site``)."""
    return request.headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none")


def post(path: str, endpoint, name: str | None = None, refused=None) -> Route:
    """Return a POST route whose requests must carry the session's CSRF token.

    With ``refused`` (``async refused(request, status, reason)``), a form refused for a
    stale token, a too large upload or a server error comes back with what was typed
    (nothing is saved) instead of a bare error page.
    """

    async def checked(request: Request):
        config = config_of(request)
        if "content-length" not in request.headers:
            raise HTTPException(411)
        too_large = request.scope["state"].get("too_large")
        if too_large:
            parser = _TextOnlyParser(request.headers, request.stream(), max_files=50, max_part_size=2 * MB)
            try:
                request._form = await parser.parse()
            except MultiPartException as e:
                raise HTTPException(413) from e
            if refused is None or not csrf_ok(config.secret, request.cookies.get("beslut_sid"),
                                              str(request._form.get(CSRF_FIELD, ""))):
                raise HTTPException(413)
            return await refused(request, 413, (
                f"Det du skickade var {too_large / MB:.0f} MB, men servern tar emot högst {config.max_arende // MB} MB "
                f"åt gången (en bilaga högst {config.max_file // MB} MB). Ingenting laddades upp och ingenting "
                "sparades. Det du skrev står kvar nedan: välj färre eller mindre filer och tryck Spara igen."))
        token = request.headers.get(CSRF_HEADER)
        if token is None:
            try:
                form = await request.form(max_files=50, max_part_size=2 * MB)
            except HTTPException as e:
                if "exceeded" in str(e.detail):
                    raise HTTPException(413) from e
                raise
            token = str(form.get(CSRF_FIELD, ""))
        if not csrf_ok(config.secret, request.cookies.get("beslut_sid"), token):
            if refused is not None and request.headers.get(CSRF_HEADER) is None and _same_site(request):
                try:
                    return await refused(request, 403, STALE_TOKEN)
                finally:
                    await request.close()
            await request.close()
            raise HTTPException(403)
        try:
            return await endpoint(request)
        except HTTPException:
            raise
        except Exception as e:
            if refused is None:
                raise
            log.exception("oväntat fel för %s %s", request.method, request.url.path, exc_info=e)
            return await refused(request, 500, SERVER_ERROR)
        finally:
            await request.close()  # uploaded files are temporary files

    return Route(path, checked, methods=["POST"], name=name)


def with_converter(request: Request, timeout: float, fn, first, *args):
    """Call ``fn(first, converter, *args)`` with a converter from the pool (in a worker thread)."""
    with request.app.state.pool.borrow(timeout=timeout, urgent=True) as converter:
        return fn(first, converter, *args)


def shown(config: WebConfig, path: Path | str) -> str:
    """Return a path as the user sees it: relative to the content folder (never a server path)."""
    try:
        return Path(path).resolve().relative_to(config.content.resolve()).as_posix()
    except ValueError:
        return Path(path).name


def arende_folder(config: WebConfig, namn: str) -> Path:
    """Return the ärende folder ``namn``; 404 unless it is one, inside the content folder."""
    folder = resolve_under(config.arenden, namn) if SAFE_NAME.match(namn) else None
    if folder is None or folder == config.arenden.resolve() or not pipeline.is_arende_folder(folder):
        raise HTTPException(404)
    return folder


def utskick_folder(config: WebConfig, namn: str) -> Path:
    """Return the utskick folder ``namn``; 404 unless it is one, inside the content folder."""
    folder = resolve_under(config.utskick, namn) if SAFE_NAME.match(namn) else None
    if folder is None or folder == config.utskick.resolve() or not pipeline.is_utskick_folder(folder):
        raise HTTPException(404)
    return folder


def shown_time(when: float | None) -> str | None:
    """Return a modification time as the page shows it: 2026-12-06 18:30."""
    return datetime.fromtimestamp(when).strftime("%Y-%m-%d %H:%M") if when is not None else None


_YAML_ADVICE = re.compile(r"\s*Fältet krävs: skriv '[^']*' följt av texten\.")


def page_message(message: str) -> str:
    """Return a message as the page says it: advice about writing YAML becomes advice about the field."""
    return _YAML_ADVICE.sub(" Fyll i fältet.", message)


def problem_dicts(problems: list[actions.Problem], file_shown: str | None = None,
                  other_tabs: Mapping[str, tuple[str, str | None]] | None = None,
                  labels: str | None = None) -> list[dict]:
    """Return problems for a page: message, full text, and where it is.

    ``anchor`` is the id of its field in this form (the file ``file_shown``); ``href`` links
    to it, here or in the tab (``other_tabs``: file shown -> (tab URL, name)) whose file it is in.
    The text names the field by its label and section in the form (the tab when it is in
    another one); ``tech`` is the CLI's text (file, line, YAML field) for "Visa tekniska
    detaljer". ``labels`` is the label of the bedömning field (review findings).
    """
    unique = list(dict.fromkeys(problems))  # a shared ärende may report one problem per organisation
    dicts = []
    for p in unique:
        field = "forslag" if labels is not None and p.field == "förslag_till_beslut" else forms.field_anchor(p.field)
        here = file_shown is None or p.file == file_shown
        tab, tab_label = (other_tabs or {}).get(p.file or "", (None, None))
        href = (f"#{field}" if here else f"{tab}#{field}" if tab else None) if field else None
        elsewhere = f"fliken {tab_label}" if tab_label else None
        label = forms.field_label(p.field, labels or "Bedömning") if p.field else None
        section = forms.field_section(field) if field else None
        where = [f"{label} (under {section})" if label and section and section != label else label,
                 None if here else elsewhere]
        message = page_message(p.message)
        text = f"{', '.join(w for w in where if w)}: {message}" if any(where) else message
        dicts.append({"message": scrub(message), "text": scrub(text), "tech": scrub(p.text),
                      "anchor": field if here else None, "href": href,
                      "severity": p.severity, "label": SEVERITY_LABEL.get(p.severity, p.severity)})
    return dicts


ASCII_FOLD = str.maketrans({"å": "a", "ä": "a", "ö": "o", "Å": "A", "Ä": "A", "Ö": "O", "é": "e", "É": "E",
                            "ü": "u", "–": "-", "—": "-"})


def disposition(kind: str, name: str) -> str:
    """Return a Content-Disposition naming the file ``name``: UTF-8, with a plain ASCII fallback."""
    fallback = re.sub(r"[^A-Za-z0-9 ._()-]", "_", name.translate(ASCII_FOLD)).strip() or "fil"
    return f'{kind}; filename="{fallback}"; filename*=UTF-8\'\'{quote(name, safe="")}'
