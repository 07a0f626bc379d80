"""What keeps ``beslut web`` safe on a shared server: users, CSRF tokens, paths, headers.

- The page answers only for its own names (``allowed_hosts``): a request with another
  ``Host`` (DNS rebinding) gets 400 before any page, cookie or file.
- Serving on anything but the local machine needs authentication: a user file with
  scrypt-hashed passwords (a sign-in page with a session cookie; HTTP Basic for scripts),
  or a header that the city's reverse proxy sets to the signed-in user, accepted only
  from the proxy's addresses (``check_trusted_header``, ``Auth.from_proxy``).
- Failed sign-ins are limited per user name and per client address (``Throttle``);
  scrypt runs in a worker thread, one at a time, and unknown names are checked against a
  dummy hash so that they take as long as known ones.
- New passwords: at least 12 characters, not common (``password_problem``).
- Every state-changing request carries a CSRF token tied to a browser cookie.
- Every path taken from a request is resolved and must lie under its root folder.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import ipaddress
import math
import re
import secrets
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import BeslutError

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
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


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Auth:
    """How users sign in: a user file (sign-in page, HTTP Basic) or a trusted header from a reverse proxy."""

    users: dict[str, str] | None = None
    """User name -> password hash, from the user file."""
    trusted_header: str | None = None
    proxies: tuple[Network, ...] = LOOPBACK
    """The addresses the trusted header is accepted from (the reverse proxy's)."""

    def from_proxy(self, client: str | None) -> bool:
        """Return True if a request from the address ``client`` may carry the trusted header."""
        try:
            address = ipaddress.ip_address((client or "").split("%")[0])
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        return any(address in network for network in self.proxies)

    def user(self, headers) -> str | None:
        """Return the user the trusted header names (None if absent or not a plain name)."""
        if not self.trusted_header:
            return None
        value = headers.get(self.trusted_header, "").strip()
        return value if value and len(value) <= 200 and value.isprintable() else None


def parse_proxies(cidrs: list[str] | tuple[str, ...]) -> tuple[Network, ...]:
    """Return the networks of ``--betrodd-proxy`` (addresses or CIDR); a bad one is a usage error."""
    networks = []
    for cidr in cidrs:
        try:
            networks.append(ipaddress.ip_network(cidr.strip(), strict=False))
        except ValueError:
            raise AuthError(f"--betrodd-proxy {cidr}: ingen IP-adress eller nät (t.ex. 10.0.4.17 eller "
                            "10.0.4.0/24).") from None
    return tuple(networks)


def is_loopback(host: str) -> bool:
    """Return True if listening on ``host`` is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_trusted_header(host: str, trusted_header: str | None, proxies: tuple[Network, ...]) -> None:
    """Refuse a trusted header that anyone on the network could send (no proxy named, not loopback)."""
    if trusted_header and not proxies and not is_loopback(host):
        raise AuthError(
            f"--betrott-huvud {trusted_header} med --host {host} skulle låta vem som helst i nätverket "
            "skicka huvudet och bli inloggad som vem som helst. Ange den omvända proxyns adresser med "
            "--betrodd-proxy ADRESS (t.ex. --betrodd-proxy 10.0.4.17), eller lyssna bara lokalt med "
            "--host 127.0.0.1 bakom en proxy på samma dator (se docs/web.md)."
        )


def allowed_hosts(listen: str, port: int, names: list[str] | tuple[str, ...] = ()) -> frozenset[str]:
    """Return the ``Host`` values the page answers: the local names with the port, the server's names.

    A name given without a port (``--vardnamn beslut.goteborg.se``) is allowed bare (a proxy
    in front on 443) and with the server's port; ``NAME:PORT`` is allowed as given. The
    address listened on is allowed too when it is one (an IP address cannot be rebound).
    """
    hosts = set()
    for name in ("127.0.0.1", "localhost", "[::1]"):
        hosts.add(f"{name}:{port}")
        if port == 80:
            hosts.add(name)
    try:
        address = ipaddress.ip_address(listen.strip("[]"))
        if not address.is_unspecified:
            shown = f"[{address}]" if address.version == 6 else str(address)
            hosts.update({f"{shown}:{port}"} | ({shown} if port == 80 else set()))
    except ValueError:
        pass
    for name in names:
        name = name.strip().lower().rstrip(".")
        if not name:
            continue
        if re.fullmatch(r".+:\d+", name) and not name.endswith("]"):
            hosts.add(name)
        else:
            hosts.update({name, f"{name}:{port}"})
    return frozenset(h.lower() for h in hosts)


def check_vardnamn(names: list[str] | tuple[str, ...]) -> None:
    """Refuse a ``--vardnamn`` that is no host name (a URL, a path, a wildcard)."""
    for name in names:
        if not re.fullmatch(r"(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)(:\d{1,5})?\.?", name):
            raise AuthError(f"--vardnamn {name}: ange bara serverns namn, t.ex. beslut.goteborg.se "
                            "(utan https:// och utan sökväg).")


def host_allowed(host_header: str, allowed: frozenset[str]) -> bool:
    """Return True if a request's ``Host`` header is one the page answers."""
    return host_header.strip().lower().rstrip(".") in allowed or host_header.strip().lower() in allowed


def basic_credentials(authorization: str) -> tuple[str, str] | None:
    """Return (name, password) of an ``Authorization: Basic`` header, or None."""
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        name, sep, password = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return (name, password) if sep and name else None


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


def dummy_hash(users: dict[str, str] | None) -> str:
    """Return a hash with the cost of the user file's, for checking names that are not in it.

    An unknown name is checked against it, so that it takes as long as a known one (no
    guessing which names exist from the answer time).
    """
    sample = next(iter((users or {}).values()), "")
    try:
        _, n, r, p, _, _ = sample.split(":")
        cost = (int(n), int(r), int(p))
    except ValueError:
        cost = (2**14, 8, 1)
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secrets.token_bytes(16), salt=salt, n=cost[0], r=cost[1], p=cost[2])
    return f"scrypt:{cost[0]}:{cost[1]}:{cost[2]}:{salt.hex()}:{digest.hex()}"


def check_password(users: dict[str, str], dummy: str, name: str, password: str) -> bool:
    """Return True if ``password`` is ``name``'s; an unknown name costs one scrypt like a known one.

    Slow (one scrypt): call it in a worker thread, never on the event loop.
    """
    stored = users.get(name)
    ok = verify_password(password, stored if stored is not None else dummy)
    return ok and stored is not None


MIN_PASSWORD = 12
CONTEXT_WORDS = {"beslut", "goteborg", "göteborg", "goteborgsstad", "göteborgsstad", "stad", "kommun",
                 "losenord", "lösenord", "password", "passord", "admin", "handlaggare", "handläggare",
                 "tjansteutlatande", "tjänsteutlåtande", "sommar", "vinter", "hosten", "hösten", "varen",
                 "våren", "valkommen", "välkommen", "hejhej", "sverige", "qwertyuiopå", "asdfghjklöä"}
LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"})


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """Return the 20,000 most common passwords, lowercased (see data/README.md)."""
    data = gzip.decompress((Path(__file__).parent / "data" / "vanliga-losenord.txt.gz").read_bytes())
    return frozenset(data.decode("utf-8").split())


def password_problem(password: str, name: str = "") -> str | None:
    """Return why ``password`` is too weak for a new password (Swedish), or None (NIST SP 800-63B).

    At least 12 characters; not a common password, nor a common word or one of the
    service's own words with digits or signs around it; not the user name; not one
    character or a few repeated.
    """
    if len(password) < MIN_PASSWORD:
        return (f"lösenordet har {len(password)} tecken men måste ha minst {MIN_PASSWORD}. En mening av "
                "några ord är lätt att minnas och svår att gissa.")
    if len(password) > 1024:
        return "lösenordet är längre än 1024 tecken."
    lower = password.lower()
    common = common_passwords()
    core = re.sub(r"^[\W\d_]+|[\W\d_]+$", "", lower)
    candidates = {lower, lower.translate(LEET), core, core.translate(LEET), re.sub(r"[\W_]", "", lower)}
    if any(c in common or c in CONTEXT_WORDS for c in candidates if c):
        return ("lösenordet är ett av de vanligaste lösenorden (eller ett vanligt ord med siffror eller tecken "
                "runt). Välj något som inte går att gissa, t.ex. en mening av några ord.")
    if name and len(name) >= 3 and name.lower() in lower:
        return "lösenordet får inte innehålla användarnamnet."
    if len(set(lower)) < 5 or not core.strip():
        return "lösenordet har för få olika tecken. Välj en mening av några ord."
    return None


class Throttle:
    """Failed sign-ins per key (a user name, a client address): a few a minute, then a growing wait.

    ``limit`` failures within ``window`` seconds lock the key for ``window`` seconds; each
    further lock doubles the wait, up to ``longest``. A key's record goes after a quiet
    ``forget`` seconds. A success clears the user name's record (not the address's).
    """

    def __init__(self, limit: int = 5, window: float = 60, longest: float = 900, forget: float = 3600,
                 max_keys: int = 20000):
        self.limit, self.window, self.longest, self.forget, self.max_keys = limit, window, longest, forget, max_keys
        self._lock = threading.Lock()
        self._failures: dict[str, list[float]] = {}
        self._locks: dict[str, tuple[float, int, float]] = {}
        """key -> (locked until, locks so far, last failure)."""

    def wait(self, *keys: str, now: float | None = None) -> float:
        """Return how many seconds the keys are still locked (0: a sign-in may be tried)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            return max([0.0] + [self._locks[k][0] - now for k in keys if k in self._locks])

    def failed(self, *keys: str, now: float | None = None) -> None:
        """Record a failed sign-in for each key."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if len(self._failures) + len(self._locks) > self.max_keys:
                self._prune(now)
            for key in keys:
                until, locks, last = self._locks.get(key, (0.0, 0, 0.0))
                if locks and now - last > self.forget:
                    locks = 0
                recent = [t for t in self._failures.get(key, []) if now - t < self.window] + [now]
                if len(recent) >= self.limit:
                    wait = min(self.window * 2**locks, self.longest)
                    self._locks[key] = (now + wait, locks + 1, now)
                    recent = []
                elif locks:
                    self._locks[key] = (until, locks, now)
                self._failures[key] = recent

    def succeeded(self, key: str) -> None:
        """Forget the failures of ``key`` (the user name of a successful sign-in)."""
        with self._lock:
            self._failures.pop(key, None)
            self._locks.pop(key, None)

    def _prune(self, now: float) -> None:
        self._failures = {k: v for k, v in self._failures.items() if v and now - v[-1] < self.window}
        self._locks = {k: v for k, v in self._locks.items() if now - v[2] < self.forget or v[0] > now}


def wait_text(seconds: float) -> str:
    """Return a wait as the sign-in page says it ("1 minut", "45 sekunder")."""
    seconds = max(1, math.ceil(seconds))
    if seconds < 90:
        return f"{seconds} sekunder"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minuter"


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
    from ..pipeline import write_bytes

    if not re.fullmatch(r"[A-Za-z0-9._@-]+", name):
        raise AuthError("användarnamnet får bara innehålla bokstäver a–z, siffror och . _ @ -.")
    problem = password_problem(password, name)
    if problem:
        raise AuthError(f"{name} sparades inte: {problem}")
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
