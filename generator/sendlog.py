"""The send log of an utskick (``utskick-logg.json``) and the lock that lets one run send at a time.

Every attempt is recorded as soon as it is made (``skickas`` just before a message goes),
so a run that stops is completed by running ``beslut send`` again, and nothing is sent
twice unless asked for.
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import SendError
from .files import write_bytes

if TYPE_CHECKING:
    from .content import LoadedUtskick
    from .model import Organisation

SKICKAT, MISSLYCKAT, SKICKAS = "skickat", "misslyckat", "skickas"
"""Statuses of an attempt in the log. ``skickas`` is written just before a message goes;
found later, it means the run was stopped while sending and the outcome is unknown."""


class SendLog:
    """``out/utskick/<utskick>/utskick-logg.json``: per recipient the latest attempt and those before it."""

    def __init__(self, path: Path, data: dict, raw: bytes | None = None):
        self.path = path
        self.data = data
        self.raw = raw
        """The file's bytes when it was read (None: there was none), to notice another run."""

    @classmethod
    def load(cls, path: Path, loaded: LoadedUtskick) -> SendLog:
        """Read the log at ``path``, or start an empty one."""
        if not path.is_file():
            return cls(path, {"utskick": loaded.name, "mottagare": {}})
        raw = path.read_bytes()
        try:
            data = json.loads(raw.decode("utf-8"))
            assert isinstance(data.get("mottagare"), dict)
        except (ValueError, AssertionError, AttributeError) as e:
            raise SendError(
                "loggen över vad som skickats går inte att läsa, så det går inte att veta vem som "
                "redan fått brevet. Återställ filen (den skrivs bara av beslut send).",
                file=path,
            ) from e
        return cls(path, data, raw)

    def unchanged_on_disk(self) -> bool:
        """Return True if the file is as it was read (no other run wrote it since)."""
        return (self.path.read_bytes() if self.path.is_file() else None) == self.raw

    def attempts(self, org_id: str) -> list[dict]:
        """Return every recorded attempt to send to ``org_id``, the latest last."""
        entry = self.data["mottagare"].get(org_id)
        if not entry:
            return []
        latest = {k: v for k, v in entry.items() if k not in ("namn", "tidigare")}
        return [*entry.get("tidigare", []), latest]

    def record(self, org: Organisation, attempt: dict, *, key: str | None = None) -> None:
        """Make ``attempt`` the latest for ``org`` (a ``skickas`` one is replaced) and save.

        ``key`` files it under another entry than ``org.id`` (a second kind of message to the same org).
        """
        key = key or org.id
        earlier = self.attempts(key)
        if earlier and earlier[-1]["status"] == SKICKAS and attempt["message_id"] == earlier[-1]["message_id"]:
            earlier.pop()
        self.data["mottagare"][key] = {"namn": org.namn, **attempt, "tidigare": earlier}
        self.data["uppdaterad"] = attempt["tid"]
        self.raw = (json.dumps(self.data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
        write_bytes(self.path, self.raw)


@contextmanager
def locked(log_path: Path) -> Iterator[None]:
    """Hold the utskick's send lock; raise SendError if another run holds it."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path.with_name(".utskick-logg.lock"), "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SendError("en annan körning skickar redan det här utskicket. Vänta tills den är klar.",
                            file=log_path.parent) from None
        yield
