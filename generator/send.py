"""Sending följebrev by e-mail (``beslut send``): plan, then send, with a log that makes a rerun safe.

``plan_send`` reads the letters ``beslut letters … --pdf`` produced (``manifest.json``),
checks that each is there and current, and decides per recipient from the send log
(``utskick-logg.json``) whether it is to be sent. ``run_send`` sends the plan over SMTP,
one message per recipient, and records every attempt in the log as soon as it is made,
so a run that stops (server down, Ctrl-C) is completed by running the command again.
Nothing is sent twice unless asked for (``igen``).
"""

from __future__ import annotations

import base64
import difflib
import fcntl
import ipaddress
import json
import os
import re
import smtplib
import socket
import ssl
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from pathlib import Path

from .content import LoadedUtskick
from .errors import SendError, UsageProblem
from .files import link_on_the_way, sha256_file, write_bytes
from .jobs import MANIFEST_NAME, move_legacy_output, utskick_folder
from .letters import render_letter
from .mail import POLICY, attachment_name, build_message, check_sender
from .model import Organisation
from .templates import FOLJEBREV, template_path

LOG_NAME = "utskick-logg.json"

SKICKAT, MISSLYCKAT, SKICKAS = "skickat", "misslyckat", "skickas"
"""Statuses of an attempt in the log. ``skickas`` is written just before a message goes;
found later, it means the run was stopped while sending and the outcome is unknown."""

# --- SMTP settings: a config file and environment variables, never the command line --------

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


# --- the letters to send: produced, listed in the manifest, and current --------------------


@dataclass(frozen=True)
class Letter:
    """A produced letter, checked: its PDF, the PDF's sha256 and the letter's content hash."""

    pdf: Path
    sha256: str
    fingerprint: str
    """sha256 of the letter's .docx (reproducible; see ``mail.letter_fingerprint``)."""


def check_letters(loaded: LoadedUtskick, recipients: list[Organisation], out: Path,
                  templates: Path | None = None) -> dict[str, Letter]:
    """Return each recipient's letter; raise SendError listing any missing or out of date.

    A letter is current when its .docx and PDF are as ``manifest.json`` lists them and the
    .docx is what the utskick, registry and template give now (rendered again to compare).
    """
    folder = utskick_folder(out, loaded)
    manifest_path = folder / MANIFEST_NAME
    again = f"Kör först: beslut letters {loaded.source.parent} --pdf"
    if not manifest_path.is_file():
        raise SendError(f"det finns inga brev att skicka i {folder} (manifest.json saknas). {again}")
    try:
        listed = {(d["mottagare"], Path(d["fil"]).suffix): d
                  for d in json.loads(manifest_path.read_text("utf-8"))["dokument"]}
    except (ValueError, KeyError, TypeError) as e:
        raise SendError(f"manifestet går inte att läsa ({e}). {again}", file=manifest_path) from e
    letters, problems = {}, []
    with tempfile.TemporaryDirectory(prefix="beslut-send-") as tmp:
        for org in recipients:
            docx, pdf = listed.get((org.id, ".docx")), listed.get((org.id, ".pdf"))
            if docx is None or pdf is None:
                problems.append(f"{org.id}: brevet{' som PDF' if docx else ''} saknas i manifestet.")
                continue
            files = {kind: folder / entry["fil"] for kind, entry in (("docx", docx), ("pdf", pdf))}
            missing = [str(f) for f in files.values() if not f.is_file()]
            if missing:
                problems.append(f"{org.id}: filen finns inte: {', '.join(missing)}.")
                continue
            changed = [str(f) for k, f in files.items() if sha256_file(f) != (docx if k == "docx" else pdf)["sha256"]]
            if changed:
                problems.append(f"{org.id}: {', '.join(changed)} har ändrats efter att breven skapades.")
                continue
            fresh = render_letter(loaded, org, Path(tmp) / f"{org.id}.docx", template_path(templates, FOLJEBREV))
            if sha256_file(fresh) != docx["sha256"]:
                problems.append(f"{org.id}: brevet stämmer inte längre med utskicket, registret eller mallen.")
                continue
            letters[org.id] = Letter(pdf=files["pdf"], sha256=pdf["sha256"], fingerprint=docx["sha256"])
    if problems:
        shown = problems[:10] + ([f"… och {len(problems) - 10} till."] if len(problems) > 10 else [])
        raise SendError(
            f"{len(problems)} brev kan inte skickas som de är:\n  " + "\n  ".join(shown)
            + f"\nInget skickades. {again} (och granska breven) innan du skickar."
        )
    return letters


# --- the send log --------------------------------------------------------------------------


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

    def attempts(self, recipient: str) -> list[dict]:
        """Return every recorded attempt to send to ``recipient``, the latest last."""
        entry = self.data["mottagare"].get(recipient)
        if not entry:
            return []
        latest = {k: v for k, v in entry.items() if k not in ("namn", "tidigare")}
        return [*entry.get("tidigare", []), latest]

    def record(self, org: Organisation, attempt: dict) -> None:
        """Make ``attempt`` the latest for ``org`` (a ``skickas`` one is replaced) and save."""
        earlier = self.attempts(org.id)
        if earlier and earlier[-1]["status"] == SKICKAS and attempt["message_id"] == earlier[-1]["message_id"]:
            earlier.pop()
        self.data["mottagare"][org.id] = {"namn": org.namn, **attempt, "tidigare": earlier}
        self.data["uppdaterad"] = attempt["tid"]
        self.raw = (json.dumps(self.data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
        write_bytes(self.path, self.raw)


# --- the plan ------------------------------------------------------------------------------

SKICKA, REDAN, OSAKERT, UTAN_ADRESS = "skicka", "redan skickat", "osäkert", "utan adress"


@dataclass
class Delivery:
    """One recipient in a plan: what will be done and why."""

    org: Organisation
    action: str
    why: str = ""
    letter: Letter | None = None
    attempt: dict = field(default_factory=dict)
    """After ``run_send``: the attempt made this run (empty if none)."""


@dataclass
class SendPlan:
    """What ``beslut send`` will do (or, in a dry run, would do), recipient by recipient."""

    loaded: LoadedUtskick
    deliveries: list[Delivery]
    log: SendLog
    notices: list[str] = field(default_factory=list)
    """Output of an earlier version moved into ``out/utskick/`` (``move_legacy_output`` in jobs.py)."""

    def having(self, action: str) -> list[Delivery]:
        """Return the deliveries with ``action``, in recipient order."""
        return [d for d in self.deliveries if d.action == action]


def plan_send(utskick_path: Path, organisationer_path: Path, out: Path, *, till: list[str] | None = None,
              igen: bool = False, templates: Path | None = None) -> SendPlan:
    """Return what sending the utskick's letters means now: who gets one, who already has it.

    Raises SendError (nothing is sent) if a letter to be sent is missing or out of date.
    """
    from .pipeline import validate_utskick

    loaded, recipients = validate_utskick(utskick_path, organisationer_path, till)
    notices = move_legacy_output(out, loaded.name)
    with_address = [org for org in recipients if org.epost]
    letters = check_letters(loaded, with_address, out, templates)
    log_path = utskick_folder(out, loaded) / LOG_NAME
    link = link_on_the_way(out, log_path)
    if link is not None:
        raise UsageProblem(f"{link} i utmappen är en symbolisk länk. beslut skriver aldrig genom en länk: ta "
                           "bort länken eller välj en annan mapp med --out.")
    log = SendLog.load(log_path, loaded)
    deliveries = []
    for org in recipients:
        if not org.epost:
            deliveries.append(Delivery(org, UTAN_ADRESS, "ingen 'e-post' i registret"))
            continue
        letter = letters[org.id]
        deliveries.append(Delivery(org, *_decide(log.attempts(org.id), org, letter, igen), letter=letter))
    return SendPlan(loaded=loaded, deliveries=deliveries, log=log, notices=notices)


def _decide(attempts: list[dict], org: Organisation, letter: Letter, igen: bool) -> tuple[str, str]:
    """Return (action, why) for one recipient with an address, from its earlier attempts."""
    if igen:
        return SKICKA, "--igen" if attempts else "ny"
    address = (org.epost or "").lower()
    same = [a for a in attempts if a.get("brev_sha256") == letter.fingerprint and a["adress"].lower() == address]
    if any(a["status"] == SKICKAT for a in same):
        sent = next(a for a in reversed(same) if a["status"] == SKICKAT)
        return REDAN, f"skickat {_shown_time(sent['tid'])}"
    if attempts and attempts[-1]["status"] == SKICKAS:
        return OSAKERT, (f"en körning stoppades medan brevet skickades {_shown_time(attempts[-1]['tid'])}; "
                         "det kan ha kommit fram. Kontrollera med "
                         f"mottagaren och skicka med --igen --till {org.id} om det behövs")
    if not attempts:
        return SKICKA, "ny"
    if any(a["status"] == SKICKAT for a in attempts):
        return SKICKA, "brevet eller adressen har ändrats sedan det skickades"
    return SKICKA, "förra försöket misslyckades"


def _shown_time(stamp: str) -> str:
    """Return a log time as shown to the user: 2023-08-21 14:05."""
    return stamp[:16].replace("T", " ")


def count_messages(n: int) -> str:
    """Return "1 meddelande" or "N meddelanden"."""
    return "1 meddelande" if n == 1 else f"{n} meddelanden"


def format_plan(plan: SendPlan, settings: SmtpSettings | None, settings_problem: str | None) -> list[str]:
    """Return the plan as the lines shown to the user, before sending or as a dry run."""
    utskick = plan.loaded.utskick
    lines = [f"Utskick: {plan.loaded.name} – {utskick.rubrik}"]
    if utskick.avsandare_epost:
        sender = str(Address(utskick.avsandare, addr_spec=utskick.avsandare_epost))
        lines.append(f"Från: {sender}" + (f", svar till {utskick.svara_till}" if utskick.svara_till else ""))
    else:
        lines.append(f"Från: saknas. Lägg till 'avsändare_e-post' i {plan.loaded.source}.")
    lines.append(f"Server: {settings.describe()}" if settings else f"Server: inte inställd: {settings_problem}")
    sections = [
        (SKICKA, "Skickas"),
        (REDAN, "Redan skickade, skickas inte igen (--igen skickar ändå)"),
        (OSAKERT, "Osäkra, skickas inte igen"),
        (UTAN_ADRESS, "Utan e-postadress i registret, hoppas över"),
    ]
    for action, title in sections:
        group = plan.having(action)
        if not group:
            continue
        lines.append(f"{title} ({len(group)}):")
        width = max(len(d.org.id) for d in group)
        address_width = max(len(d.org.epost or "") for d in group)
        for d in group:
            if action == UTAN_ADRESS:
                lines.append(f"  {d.org.id:<{width}}  {d.org.namn}")
            elif action == SKICKA:
                assert d.letter is not None, "plan_send gives every delivery to send its letter"
                size = d.letter.pdf.stat().st_size
                lines.append(f"  {d.org.id:<{width}}  {d.org.epost:<{address_width}}  {attachment_name(d.org)} "
                             f"({_kilobytes(size)}){'' if d.why == 'ny' else f'  [{d.why}]'}")
            else:
                lines.append(f"  {d.org.id:<{width}}  {d.org.epost:<{address_width}}  {d.why}")
    if all(d.action == UTAN_ADRESS for d in plan.deliveries):
        lines.append("Ingen mottagare har en e-postadress. Lägg till 'e-post' (kontrollerade "
                     "funktionsbrevlådor) i organisationsregistret och kör beslut letters igen.")
    return lines


def _kilobytes(size: int) -> str:
    return f"{max(1, round(size / 1024))} kB"


# --- sending ---------------------------------------------------------------------------------


@dataclass
class SendReport:
    """What a run did: the deliveries attempted, and why it stopped early if it did."""

    plan: SendPlan
    stopped: str | None = None

    @property
    def attempted(self) -> list[Delivery]:
        return [d for d in self.plan.deliveries if d.attempt]

    @property
    def sent(self) -> list[Delivery]:
        return [d for d in self.attempted if d.attempt["status"] == SKICKAT]

    @property
    def failed(self) -> list[Delivery]:
        return [d for d in self.attempted if d.attempt["status"] != SKICKAT]

    @property
    def exit_code(self) -> int:
        """Return 0 when all went; 9 (``SendError``) when the server could not be used or nothing
        went; 1 when some recipients failed and others got their letter (as ``runner.Report``)."""
        if self.stopped or (self.failed and not self.sent):
            return SendError.exit_code
        return 1 if self.failed else 0


def run_send(plan: SendPlan, settings: SmtpSettings, *,
             on_attempt: Callable[[Delivery], None] = lambda d: None) -> SendReport:
    """Send every delivery of ``plan`` marked SKICKA, recording each attempt in the log.

    A refused address or a broken connection fails that one recipient and the others go
    on; if the server cannot be reached at all the run stops (``SendReport.stopped``) and
    a rerun sends what is left. Holds a lock so two runs cannot send the same utskick.
    """
    report = SendReport(plan)
    todo = plan.having(SKICKA)
    sender = check_sender(plan.loaded) if todo else ""
    interval = 60.0 / settings.per_minut
    with _locked(plan.log.path), _Connection(settings) as connection:
        if not plan.log.unchanged_on_disk():
            raise SendError("en annan körning har skickat det här utskicket sedan planen gjordes. Kör "
                            "kommandot igen för att se vad som återstår.", file=plan.log.path)
        last_start = None
        for delivery in todo:
            if last_start is not None:
                time.sleep(max(0.0, last_start + interval - time.monotonic()))
            try:
                connection.open()
            except SendError as e:
                report.stopped = e.message
                break
            last_start = time.monotonic()
            delivery.attempt = _send_one(plan, sender, delivery, connection)
            on_attempt(delivery)
    return report


def _send_one(plan: SendPlan, sender: str, delivery: Delivery, connection: _Connection) -> dict:
    """Send one letter; return the attempt as recorded in the log."""
    org, letter, address = delivery.org, delivery.letter, delivery.org.epost
    assert letter is not None and address, "plan_send gives every delivery to send its letter and address"
    now = datetime.now().astimezone()
    msg = build_message(plan.loaded, org, letter.pdf, when=now)
    attempt = {
        "status": SKICKAS,
        "adress": address,
        "message_id": msg["Message-ID"],
        "tid": now.isoformat(timespec="seconds"),
        "svar": None,
        "sha256": letter.sha256,
        "brev_sha256": letter.fingerprint,
    }
    plan.log.record(org, attempt)
    ok, code, text, reason = connection.send(sender, address, msg.as_bytes(policy=POLICY))
    attempt = {**attempt, "status": SKICKAT if ok else MISSLYCKAT,
               "svar": {"kod": code, "text": text} if code else None,
               "tid": datetime.now().astimezone().isoformat(timespec="seconds")}
    if not ok:
        attempt["orsak"] = reason
    plan.log.record(org, attempt)
    return attempt


class _Connection:
    """One SMTP session, opened when needed and reopened after the server drops it."""

    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self) -> _Connection:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def where(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    def open(self) -> None:
        """Connect (TLS, login) unless connected; raise SendError if the server cannot be used."""
        if self.smtp is not None:
            return
        s = self.settings
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        try:
            if s.sakerhet == "ssl":
                smtp = smtplib.SMTP_SSL(s.host, s.port, local_hostname=socket.gethostname(),
                                        timeout=s.tidsgrans, context=context)
            else:
                smtp = smtplib.SMTP(s.host, s.port, local_hostname=socket.gethostname(), timeout=s.tidsgrans)
            try:
                smtp.ehlo()
                if s.sakerhet == "starttls":
                    if not smtp.has_extn("starttls"):
                        raise SendError(f"e-postservern {self.where} erbjuder inte STARTTLS. Kontrollera "
                                        "'sakerhet' och 'port' (ssl brukar vara port 465).")
                    smtp.starttls(context=context)
                    smtp.ehlo()
                if s.anvandare:
                    assert s.losenord is not None, "load_smtp_settings requires a password with a user"
                    _login(smtp, s.anvandare, s.losenord)
            except BaseException:
                smtp.close()
                raise
        except smtplib.SMTPAuthenticationError as e:
            raise SendError(f"e-postservern {self.where} godtog inte inloggningen för '{s.anvandare}' "
                            f"({e.smtp_code} {_text(e.smtp_error)}). Kontrollera användare och lösenord.") from None
        except smtplib.SMTPNotSupportedError:
            raise SendError(f"e-postservern {self.where} tar inte emot inloggning här. Kontrollera "
                            "'sakerhet' (starttls eller ssl).") from None
        except (OSError, smtplib.SMTPException) as e:
            raise SendError(f"e-postservern {self.where} går inte att nå: {_describe(e, s.tidsgrans)}.") from None
        self.smtp = smtp

    def send(self, sender: str, recipient: str, data: bytes) -> tuple[bool, int | None, str | None, str | None]:
        """Send one message; return (ok, SMTP code, SMTP text, Swedish reason if not ok)."""
        smtp = self.smtp
        assert smtp is not None, "run_send opens the connection before sending"
        step = "MAIL FROM"
        try:
            options = [f"SIZE={len(data)}"] if smtp.has_extn("size") else []
            code, reply = smtp.mail(sender, options)
            if code == 250:
                step = "RCPT TO"
                code, reply = smtp.rcpt(recipient)
                if code in (250, 251):
                    step = "DATA"
                    code, reply = smtp.data(data)
                    if code == 250:
                        return True, code, _text(reply), None
            if code == 421:
                self.close()
            else:
                smtp.rset()
            return False, code, _text(reply), f"servern avböjde vid {step}: {code} {_text(reply)}"
        except smtplib.SMTPResponseException as e:  # e.g. DATA not accepted (not 354)
            self._after_error(e.smtp_code)
            reason = f"servern avböjde vid {step}: {e.smtp_code} {_text(e.smtp_error)}"
            return False, e.smtp_code, _text(e.smtp_error), reason
        except (OSError, smtplib.SMTPException) as e:
            self.close()
            reason = f"anslutningen till {self.where} bröts vid {step}: {_describe(e, self.settings.tidsgrans)}"
            return False, None, None, reason

    def _after_error(self, code: int) -> None:
        if code == 421 or self.smtp is None:
            self.close()
            return
        try:
            self.smtp.rset()
        except (OSError, smtplib.SMTPException):
            self.close()

    def close(self) -> None:
        """Say QUIT if the server still listens, and forget the session."""
        if self.smtp is None:
            return
        try:
            self.smtp.quit()
        except (OSError, smtplib.SMTPException):
            self.smtp.close()
        self.smtp = None


def _login(smtp: smtplib.SMTP, user: str, password: str) -> None:
    """Log in; a password outside ASCII goes as UTF-8 with AUTH PLAIN (RFC 4616).

    smtplib encodes credentials as ASCII and would raise an error whose text holds the
    password; no exception raised here carries the password or its encoding.
    """
    try:
        if password.isascii() and user.isascii():
            smtp.login(user, password)
            return
        if not smtp.has_extn("auth") or "PLAIN" not in smtp.esmtp_features["auth"].upper().split():
            raise SendError("användare eller lösenord har tecken utanför ASCII, och servern erbjuder inte "
                            "AUTH PLAIN som klarar dem.")
        token = base64.b64encode(f"\0{user}\0{password}".encode()).decode("ascii")
        code, reply = smtp.docmd("AUTH", "PLAIN " + token)
        if code != 235:
            raise smtplib.SMTPAuthenticationError(code, reply)
    except (SendError, smtplib.SMTPException, OSError):
        raise
    except Exception as e:  # never let an unexpected error's text (the password?) through
        raise SendError(f"inloggningen misslyckades ({type(e).__name__}).") from None


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _describe(error: BaseException, timeout: float) -> str:
    """Return a Swedish description of a connection error."""
    text = str(error)
    if isinstance(error, TimeoutError) or "timed out" in text:
        return f"servern svarade inte inom {timeout:g} sekunder (tidsgräns)"
    if isinstance(error, ConnectionRefusedError) or "Connection refused" in text:
        return "anslutningen nekades (servern är nere eller porten fel)"
    if isinstance(error, socket.gaierror):
        return "servernamnet hittas inte"
    if isinstance(error, ssl.SSLError):
        return f"TLS misslyckades ({error.reason or text})"
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return "servern stängde anslutningen"
    return f"{type(error).__name__}: {text}"


@contextmanager
def _locked(log_path: Path) -> Iterator[None]:
    """Hold the utskick's send lock; raise SendError if another run holds it."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path.with_name(".utskick-logg.lock"), "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SendError("en annan körning skickar redan det här utskicket. Vänta tills den är klar.",
                            file=log_path.parent) from None
        yield


def format_attempt(delivery: Delivery) -> str:
    """Return the line shown as soon as one message has been sent (or has failed)."""
    attempt = delivery.attempt
    if attempt["status"] == SKICKAT:
        reply = attempt["svar"]
        return f"Skickat: {delivery.org.id} <{delivery.org.epost}> ({reply['kod']} {reply['text']})"
    return f"Misslyckades: {delivery.org.id} <{delivery.org.epost}>: {attempt['orsak']}"


def format_report(report: SendReport) -> tuple[list[str], list[str]]:
    """Return the run's summary lines and its error lines (empty if all went)."""
    plan = report.plan
    todo = len(plan.having(SKICKA))
    lines = [f"Klart: {len(report.sent)} av {todo} skickade. Logg: {plan.log.path}"]
    errors = []
    if report.failed:
        errors.append(f"{len(report.failed)} misslyckades:")
        errors += [f"  {d.org.id} ({d.org.epost}): {d.attempt['orsak']}" for d in report.failed]
    if report.stopped:
        left = todo - len(report.attempted)
        errors.append(f"Körningen stoppades: {report.stopped} {left} brev skickades inte.")
    if errors:
        errors.append("Kör samma kommando igen när felet är åtgärdat: då skickas bara det som inte gått "
                      "fram (de som redan skickats får inget nytt meddelande).")
    return lines, errors
