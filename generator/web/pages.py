"""Rendering pages: the Jinja2 environment, the Swedish error page and the session cookie."""

from __future__ import annotations

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from .config import HERE, scrub
from .security import SESSION_COOKIE


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
