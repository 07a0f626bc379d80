"""Signing in to ``beslut web`` with the user file: one scrypt per sign-in, off the event loop, limited.

``Gate.attempt`` is the one way a password is checked (the sign-in page and HTTP Basic):
the throttle is asked first (a locked user name or address is answered at once, with
no scrypt), then scrypt runs in a worker thread, one at a time (``hash_threads``), so
a crowd of wrong passwords costs one core at most and never the event loop. An unknown
name is checked against a dummy hash. A script's HTTP Basic credentials, once checked,
are remembered for a few minutes (by an HMAC of them), so a script costs one scrypt
per five minutes rather than one per request.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import threading
import time
from dataclasses import dataclass

import anyio
import anyio.to_thread

from .security import Throttle, check_password, dummy_hash


@dataclass
class Attempt:
    user: str | None = None
    """The signed-in user; None if the attempt failed or was not made."""
    wait: float = 0.0
    """Seconds to wait before trying again (the attempt was not made: 429)."""
    checked: bool = False
    """scrypt ran (False: throttled, busy, or remembered Basic credentials)."""


def address_key(client: str | None) -> str:
    """Return the throttle key of a client address (an IPv6 address counts by its /64)."""
    try:
        address = ipaddress.ip_address((client or "").split("%")[0])
    except ValueError:
        return "adress:?"
    if isinstance(address, ipaddress.IPv6Address) and not address.ipv4_mapped:
        return "adress:" + str(ipaddress.ip_network(f"{address}/64", strict=False))
    return f"adress:{address.ipv4_mapped or address if isinstance(address, ipaddress.IPv6Address) else address}"


def name_key(name: str) -> str:
    return "namn:" + name.strip().lower()[:200]


class Gate:
    """Checks passwords for the sign-in page and HTTP Basic (see the module's text)."""

    def __init__(self, users: dict[str, str], secret: bytes, *, limit: int = 5, window: float = 60,
                 hash_threads: int = 1, max_waiting: int = 32, remember: float = 300):
        self.users = users
        self.dummy = dummy_hash(users)
        self.throttle = Throttle(limit=limit, window=window)
        self._secret = secret
        self._limiter = anyio.CapacityLimiter(hash_threads)
        self._max_waiting = max_waiting
        self._waiting = 0
        self._remember = remember
        self._remembered: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()
        self._denials: dict[str, float] = {}
        self.dummy_checks = 0
        """How many checks went to the dummy hash (unknown names): tests read it."""

    def log_denial(self, name: str, client: str | None, every: float = 10.0) -> bool:
        """Return True if a refused (waiting) attempt of ``name`` from ``client`` should go to the audit log.

        One line per name and address every ``every`` seconds: a flood of attempts during a
        wait is one line, not thousands.
        """
        key = f"{name_key(name)}\0{address_key(client)}"
        now = time.monotonic()
        with self._lock:
            if now - self._denials.get(key, -every) < every:
                return False
            if len(self._denials) > 10000:
                self._denials = {k: t for k, t in self._denials.items() if now - t < every}
            self._denials[key] = now
            return True

    def _check(self, name: str, password: str) -> bool:
        if name not in self.users:
            self.dummy_checks += 1
        return check_password(self.users, self.dummy, name, password)

    async def attempt(self, name: str, password: str, client: str | None, *, basic: bool = False) -> Attempt:
        """Check ``name``/``password`` from ``client``; see ``Attempt``."""
        keys = (name_key(name), address_key(client))
        token = None
        if basic:
            token = hmac.new(self._secret, f"basic\0{name}\0{password}".encode(), hashlib.sha256).hexdigest()
            with self._lock:
                known = self._remembered.get(token)
            if known and known[1] > time.monotonic() and self.throttle.wait(keys[0]) <= 0:
                return Attempt(user=known[0])
        wait = self.throttle.wait(*keys)
        if wait > 0:
            return Attempt(wait=wait)
        if self._waiting >= self._max_waiting:
            return Attempt(wait=5.0)
        self._waiting += 1
        try:
            ok = await anyio.to_thread.run_sync(self._check, name, password, limiter=self._limiter)
        finally:
            self._waiting -= 1
        if not ok:
            self.throttle.failed(*keys)
            return Attempt(checked=True)
        self.throttle.succeeded(keys[0])
        if token:
            with self._lock:
                now = time.monotonic()
                if len(self._remembered) > 1000:
                    self._remembered = {k: v for k, v in self._remembered.items() if v[1] > now}
                self._remembered[token] = (name, now + self._remember)
        return Attempt(user=name, checked=True)
