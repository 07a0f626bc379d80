"""SMTP settings for ``beslut send``: a config file and environment variables, never the command line.

``load_smtp_settings`` reads ``~/.config/beslut/smtp.toml`` (or the file given with
``--smtp-konfig``), then ``BESLUT_SMTP_*`` over it, and checks every value with a Swedish
message naming where it came from. A password is never shown (``SmtpSettings.describe``).
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import SendError

ENV_PREFIX = "BESLUT_SMTP_"
SETTING_KEYS = ("host", "port", "sakerhet", "anvandare", "losenord", "per_minut", "tidsgrans")
SECURITY = {"starttls": 587, "ssl": 465, "ingen": 25}
"""The allowed values of ``sakerhet``, each with its default port."""


@dataclass(frozen=True)
class SmtpSettings:
    """How to reach the SMTP server, and how fast to send."""

    host: str
    port: int
    sakerhet: str = "starttls"
    anvandare: str | None = None
    losenord: str | None = field(default=None, repr=False)
    per_minut: float = 30.0
    tidsgrans: float = 60.0

    def describe(self) -> str:
        """Return the settings as shown to the user (never the password)."""
        security = {"starttls": "STARTTLS", "ssl": "SSL/TLS", "ingen": "okrypterad"}[self.sakerhet]
        login = f", användare {self.anvandare}, lösenord angivet" if self.anvandare else ", utan inloggning"
        return (f"{self.host}:{self.port} ({security}{login}), högst {self.per_minut:g} meddelanden "
                f"per minut, tidsgräns {self.tidsgrans:g} s")


def default_config_path(environ=os.environ) -> Path:
    """Return where the SMTP config file is looked for without --smtp-konfig."""
    base = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "beslut" / "smtp.toml"


def load_smtp_settings(config: Path | None = None, environ=os.environ, **overrides) -> tuple[SmtpSettings, list[str]]:
    """Return the SMTP settings and any warnings: the config file, then BESLUT_SMTP_* over it.

    ``config`` is the file given with --smtp-konfig (it must exist); without it the
    default file is read if it exists. ``overrides`` (per_minut, tidsgrans from the
    command line) win over both; None values are ignored.
    """
    warnings: list[str] = []
    values: dict[str, object] = {}
    where: dict[str, str] = {}
    path = config or default_config_path(environ)
    if config is not None or path.is_file():
        values = _read_config(path)
        where = {key: f"{path}, nyckel '{key}'" for key in values}
        if "losenord" in values and path.stat().st_mode & 0o077:
            warnings.append(f"{path} innehåller ett lösenord och kan läsas av andra. Skydda den: chmod 600 {path}")
    for key in SETTING_KEYS:
        env = ENV_PREFIX + key.upper()
        if environ.get(env):
            values[key], where[key] = environ[env], env
    for key, value in overrides.items():
        if value is not None:
            values[key], where[key] = value, f"--{key.replace('_', '-')}"
    if not values.get("host"):
        raise SendError(
            f"ingen e-postserver är inställd. Ange den i {ENV_PREFIX}HOST eller som 'host' i "
            f"{path} (se README, avsnittet om e-post)."
        )
    sakerhet = str(values.get("sakerhet", "starttls")).lower()
    if sakerhet not in SECURITY:
        raise SendError(f"{where['sakerhet']}: 'sakerhet' ska vara {', '.join(SECURITY)}, inte '{sakerhet}'.")
    settings = SmtpSettings(
        host=str(values["host"]),
        port=_number(values, where, "port", int, SECURITY[sakerhet], 1, 65535),
        sakerhet=sakerhet,
        anvandare=str(values["anvandare"]) if values.get("anvandare") else None,
        losenord=str(values["losenord"]) if values.get("losenord") else None,
        per_minut=_number(values, where, "per_minut", float, 30.0, 0.1, 10000),
        tidsgrans=_number(values, where, "tidsgrans", float, 60.0, 1, 600),
    )
    if settings.anvandare and not settings.losenord:
        raise SendError(f"användare är angiven men inget lösenord: ange {ENV_PREFIX}LOSENORD eller 'losenord' "
                        f"i {path}.")
    if settings.losenord and settings.sakerhet == "ingen" and not _is_loopback(settings.host):
        raise SendError(
            "lösenordet skulle skickas okrypterat. Sätt 'sakerhet' till starttls eller ssl "
            f"({ENV_PREFIX}SAKERHET)."
        )
    return settings, warnings


def _read_config(path: Path) -> dict[str, object]:
    """Return the keys of the TOML config file at ``path``, checked against SETTING_KEYS."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise SendError("inställningsfilen finns inte. Ange rätt fil med --smtp-konfig.", file=path) from e
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        # The message names the line, never the file's text (it may hold the password).
        line = re.search(r"line (\d+)", str(e))
        raise SendError(
            "inställningsfilen går inte att läsa. Skriv en inställning per rad, nyckeln utan å, ä "
            "och ö och text inom citattecken, t.ex. host = \"smtp.goteborg.se\".",
            file=path, line=int(line.group(1)) if line else None,
        ) from None
    for key in data:
        if key not in SETTING_KEYS:
            folded = key.lower().translate(str.maketrans("åäö", "aao"))
            meant = difflib.get_close_matches(folded, SETTING_KEYS, n=1, cutoff=0.6)
            hint = f"Menade du '{meant[0]}'?" if meant else f"Nycklar som finns: {', '.join(SETTING_KEYS)}."
            raise SendError(f"okänd nyckel '{key}'. {hint}", file=path)
    return data


def _number(values: dict, where: dict, key: str, kind: type, default, low, high):
    """Return setting ``key`` as ``kind`` within [low, high], or raise a SendError naming it."""
    if key not in values:
        return default
    try:
        number = kind(values[key])
    except (TypeError, ValueError):
        number = None
    if number is None or not low <= number <= high:
        raise SendError(f"{where[key]}: '{key}' ska vara ett tal från {low:g} till {high:g}.")
    return number


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
