"""What ``beslut web`` keeps between requests and restarts: its secret, sign-in sessions, the audit log.

All of it lives in the state folder (``--tillstand``, standard ``OUT/.beslut-web``),
never under content/: ``hemlighet`` (the key of the CSRF tokens, 0600), ``sessioner.json``
(signed-in sessions by the hash of their cookie, 0600), ``handelselogg.jsonl`` (one JSON
line per sign-in, save, upload, removal, build and letter run).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..errors import BeslutError

log = logging.getLogger("beslut.web")

SECRET_FILE = "hemlighet"
SESSIONS_FILE = "sessioner.json"
AUDIT_FILE = "handelselogg.jsonl"


class StateError(BeslutError):
    """The state folder cannot be used (machine or disk)."""

    exit_code = 7


class StateFolderRefused(StateError):
    """The state folder named is one ``beslut web`` refuses (under the content folder): a bad option."""

    exit_code = 2


def prepare_state(folder: Path, content: Path) -> Path:
    """Create the state folder (0700) and return it resolved; refuse one under the content folder."""
    folder = folder.resolve()
    content = content.resolve()
    if folder == content or content in folder.parents:
        raise StateFolderRefused("tillståndsmappen får inte ligga i innehållsmappen (den kan hamna i git och "
                         "innehåller inloggningar). Ange en annan med --tillstand MAPP.", file=folder)
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        folder.chmod(0o700)
    except OSError as e:
        raise StateError(f"tillståndsmappen går inte att skapa: {e.strerror}.", file=folder) from e
    return folder


def _write_private(path: Path, data: bytes, sync: bool = True) -> None:
    """Write ``data`` to ``path`` atomically, readable by the server's user only (0600)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            if sync:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def load_secret(folder: Path | None) -> bytes:
    """Return the server's secret: from ``folder/hemlighet`` (made on first start, 0600), or a new one."""
    if folder is None:
        return secrets.token_bytes(32)
    path = folder / SECRET_FILE
    try:
        data = path.read_bytes()
        if len(data) >= 32:
            if path.stat().st_mode & 0o077:
                path.chmod(0o600)
            return data
    except FileNotFoundError:
        pass
    except OSError as e:
        raise StateError(f"den hemliga nyckeln går inte att läsa: {e.strerror}.", file=path) from e
    data = secrets.token_bytes(32)
    _write_private(path, data)
    return data


@dataclass
class Session:
    user: str
    created: float
    seen: float
    stamp: str = ""
    """A fingerprint of the user's password hash at sign-in: a new password ends the session."""


def password_stamp(stored_hash: str) -> str:
    """Return the fingerprint of a stored password hash that sessions keep (not the hash itself)."""
    return hashlib.sha256(stored_hash.encode("utf-8")).hexdigest()[:16]


class Sessions:
    """Signed-in sessions: the hash of the cookie -> user, kept in ``sessioner.json`` when there is a folder.

    A session ends when signed out, after ``idle`` seconds unused, or ``longest`` seconds
    after sign-in. Only hashes of the cookies are stored, so the file does not sign anyone in.
    """

    def __init__(self, folder: Path | None, idle: float = 2 * 3600, longest: float = 12 * 3600,
                 stamps: dict[str, str] | None = None):
        """``stamps``: user -> ``password_stamp`` of the user file; sessions of users no longer in it,
        or whose password has changed since they signed in, are not taken over from the file."""
        self.path = folder / SESSIONS_FILE if folder else None
        self.idle, self.longest = idle, longest
        self._stamps = stamps
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}
        self._dirty_seen = 0.0
        if self.path and self.path.is_file():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                now = time.time()
                for key, s in data.items():
                    session = Session(str(s["user"]), float(s["created"]), float(s["seen"]), str(s.get("stamp", "")))
                    current = None if stamps is None else stamps.get(session.user)
                    if self._alive(session, now) and (stamps is None or current == session.stamp):
                        self._sessions[key] = session
            except (ValueError, KeyError, TypeError, AttributeError):
                log.warning("sessioner.json gick inte att läsa; alla får logga in igen")

    @staticmethod
    def _key(sid: str) -> str:
        return hashlib.sha256(sid.encode("ascii", "replace")).hexdigest()

    def _alive(self, session: Session, now: float) -> bool:
        return now - session.seen < self.idle and now - session.created < self.longest

    def create(self, user: str) -> str:
        """Start a signed-in session for ``user``; return its cookie value (a new, random id)."""
        sid = secrets.token_urlsafe(32)
        now = time.time()
        with self._lock:
            self._sessions = {k: s for k, s in self._sessions.items() if self._alive(s, now)}
            self._sessions[self._key(sid)] = Session(user, now, now, (self._stamps or {}).get(user, ""))
            self._save()
        return sid

    def user(self, sid: str | None) -> str | None:
        """Return the user of the session ``sid`` (and note it was used), or None."""
        if not sid:
            return None
        key = self._key(sid)
        now = time.time()
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                return None
            if not self._alive(session, now):
                del self._sessions[key]
                self._save()
                return None
            session.seen = now
            if now - self._dirty_seen > 300:  # keep "last used" on disk now and then, not per request
                self._dirty_seen = now
                self._save(sync=False)
            return session.user

    def end(self, sid: str | None) -> None:
        """Sign the session ``sid`` out."""
        if not sid:
            return
        with self._lock:
            if self._sessions.pop(self._key(sid), None) is not None:
                self._save()

    def _save(self, sync: bool = True) -> None:
        if self.path is None:
            return
        data = {k: {"user": s.user, "created": s.created, "seen": s.seen, "stamp": s.stamp}
                for k, s in self._sessions.items()}
        try:
            _write_private(self.path, json.dumps(data).encode("utf-8"), sync)
        except OSError:
            log.exception("sessioner.json gick inte att skriva")


class AuditLog:
    """The audit log: one JSON line per event, appended; and who changed each ärende last.

    Fields: ``tid`` (local time with offset), ``anvandare`` (None: the page on the
    user's own computer, without sign-in), ``adress``, ``handelse``, ``arende`` or
    ``utskick``, ``resultat`` (``ok``, ``fel``, ``nekad``) and ``detalj``.
    """

    CHANGES = {"spara", "uppladdning", "borttagning", "nytt-arende"}

    def __init__(self, folder: Path | None):
        self.path = folder / AUDIT_FILE if folder else None
        self._lock = threading.Lock()
        self._last_change: dict[str, tuple[str | None, str]] = {}
        if self.path and self.path.is_file():
            with self.path.open(encoding="utf-8", errors="replace") as f:
                for line in f:
                    try:
                        self._note(json.loads(line))
                    except (ValueError, TypeError, AttributeError):
                        continue

    def _note(self, entry: dict) -> None:
        if entry.get("handelse") in self.CHANGES and entry.get("resultat") == "ok" and entry.get("arende"):
            self._last_change[str(entry["arende"])] = (entry.get("anvandare"), str(entry.get("tid", "")))

    def write(self, handelse: str, *, anvandare: str | None, adress: str | None = None, resultat: str = "ok",
              arende: str | None = None, utskick: str | None = None, detalj: str | None = None) -> dict:
        """Append one event; return it."""
        entry = {"tid": datetime.now().astimezone().isoformat(timespec="seconds"), "anvandare": anvandare,
                 "adress": adress, "handelse": handelse, "resultat": resultat}
        if arende:
            entry["arende"] = arende
        if utskick:
            entry["utskick"] = utskick
        if detalj:
            entry["detalj"] = detalj[:500]
        line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            self._note(entry)
            if self.path is not None:
                try:
                    fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                    try:
                        os.write(fd, line)
                    finally:
                        os.close(fd)
                except OSError:
                    log.exception("händelseloggen gick inte att skriva: %s", line.decode("utf-8").strip())
        log.info("händelse: %s", line.decode("utf-8").strip())
        return entry

    def last_change(self, arende: str) -> tuple[str | None, str] | None:
        """Return (user, time) of the last change of ``arende`` made on the page, or None."""
        with self._lock:
            return self._last_change.get(arende)
