"""What keeps ``beslut web`` safe on a shared server: users, CSRF tokens, paths, headers.

- Serving on anything but the local machine needs authentication: a user file with
  scrypt-hashed passwords (HTTP Basic, behind the city's TLS proxy), or a header that the
  city's reverse proxy sets to the signed-in user.
- Every state-changing request carries a CSRF token tied to a browser cookie.
- Every path taken from a request is resolved and must lie under its root folder.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from ..errors import BeslutError

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
SESSION_COOKIE = "beslut_sid"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "frame-src 'self' blob:; object-src 'self' blob:; frame-ancestors 'self'; form-action 'self'; "
       "base-uri 'none'")
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "SAMEORIGIN",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
}


class AuthError(BeslutError):
    """Raised when the server would be reachable by others without authentication."""

    exit_code = 2


@dataclass(frozen=True)
class Auth:
    """How users sign in: a user file (HTTP Basic) or a trusted header from a reverse proxy."""

    users: dict[str, str] | None = None
    """User name -> password hash, from the user file."""
    trusted_header: str | None = None

    def user(self, headers) -> str | None:
        """Return the signed-in user for a request's headers, or None."""
        if self.trusted_header:
            value = headers.get(self.trusted_header, "").strip()
            return value or None
        if self.users is not None:
            scheme, _, encoded = headers.get("authorization", "").partition(" ")
            if scheme.lower() != "basic":
                return None
            try:
                name, _, password = base64.b64decode(encoded).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                return None
            stored = self.users.get(name)
            return name if stored and verify_password(password, stored) else None
        return None


def check_host(host: str, auth: Auth | None) -> None:
    """Refuse to serve on another address than the local machine without authentication."""
    if host not in LOCAL_HOSTS and auth is None:
        raise AuthError(
            f"servern skulle nås av andra på adressen {host} utan inloggning. Ange en användarfil "
            "med --anvandare FIL eller ett huvud som stadens omvända proxy sätter med "
            "--betrott-huvud NAMN (se docs/web.md), eller lyssna bara lokalt med --host 127.0.0.1."
        )


def hash_password(password: str) -> str:
    """Return a salted scrypt hash of ``password`` for the user file."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt:16384:8:1:{salt.hex()}:{digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Return True if ``password`` matches the ``stored`` hash."""
    try:
        kind, n, r, p, salt, digest = stored.split(":")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p))
    except ValueError:
        return False
    return hmac.compare_digest(got.hex(), digest)


def read_users(path: Path) -> dict[str, str]:
    """Read a user file: one ``namn:hash`` per line, ``#`` starts a comment."""
    from ..errors import ContentError

    if not path.is_file():
        raise AuthError("användarfilen finns inte.", file=path)
    users = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, stored = line.partition(":")
        if not sep or not stored.startswith("scrypt:"):
            raise ContentError("raden ska vara 'namn:scrypt:…'. Skapa raden med --ny-anvandare NAMN.",
                               file=path, line=number)
        users[name] = stored
    if not users:
        raise AuthError("användarfilen har inga användare. Lägg till en med --ny-anvandare NAMN.", file=path)
    return users


def add_user(path: Path, name: str, password: str) -> None:
    """Add (or replace) ``name`` in the user file at ``path``."""
    from ..files import write_bytes

    if not re.fullmatch(r"[A-Za-z0-9._@-]+", name):
        raise AuthError("användarnamnet får bara innehålla bokstäver a–z, siffror och . _ @ -.")
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else ["# beslut web: användare"]
    lines = [line for line in lines if not line.startswith(f"{name}:")] + [f"{name}:{hash_password(password)}"]
    write_bytes(path, ("\n".join(lines) + "\n").encode("utf-8"))
    path.chmod(0o600)


def csrf_token(secret: bytes, session: str) -> str:
    """Return the CSRF token of a browser session."""
    return hmac.new(secret, session.encode("ascii"), hashlib.sha256).hexdigest()


def csrf_ok(secret: bytes, session: str | None, token: str | None) -> bool:
    """Return True if ``token`` is the CSRF token of ``session``."""
    if not session or not token:
        return False
    return hmac.compare_digest(csrf_token(secret, session), token)


SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def resolve_under(root: Path, *parts: str) -> Path | None:
    """Return ``root/parts…`` if it lies under ``root`` once resolved (no ``..``, no symlinks out)."""
    if any(not p or p.startswith("/") or "\\" in p or "\x00" in p for p in parts):
        return None
    base = root.resolve()
    target = base.joinpath(*parts).resolve()
    return target if target == base or base in target.parents else None


def safe_filename(name: str) -> str:
    """Return an uploaded file's name as a safe, plain file name (å, ä, ö become a, a, o)."""
    name = Path(name.replace("\\", "/")).name
    table = str.maketrans({"å": "a", "ä": "a", "ö": "o", "Å": "A", "Ä": "A", "Ö": "O", "é": "e", " ": "-"})
    name = re.sub(r"[^A-Za-z0-9._-]", "", name.translate(table)).lstrip(".-")
    return name[:100] or "bilaga"
