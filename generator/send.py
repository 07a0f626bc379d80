"""Sending följebrev by e-mail (``beslut send``): plan, then send, with a log that makes a rerun safe.

``plan_send`` reads the letters ``beslut letters … --pdf`` produced (``manifest.json``),
checks that each is there and current, and decides per recipient from the send log
(``utskick-logg.json``) whether it is to be sent. ``run_send`` sends the plan over SMTP,
one message per recipient, and records every attempt in the log as soon as it is made,
so a run that stops (server down, Ctrl-C) is completed by running the command again.
Nothing is sent twice unless asked for (``igen``).

The rooms of sending: ``smtpsettings`` (the server and its limits), ``sendlog`` (the log
and the lock), ``smtpsession`` (one SMTP session) and this module (the letters to send,
the plan, the run and the lines shown to the user).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from pathlib import Path
from typing import TypeVar

from .content import LoadedUtskick
from .errors import SendError, UsageProblem
from .files import link_on_the_way, sha256_file
from .letters import letter_inputs
from .mail import POLICY, attachment_name, build_message, check_sender
from .model import Organisation
from .outfolder import (
    MANIFEST_NAME,
    SEND_LOG_NAME,
    manifest_path,
    move_legacy_output,
    read_manifest,
    utskick_folder,
)
from .sendlog import MISSLYCKAT, SKICKAS, SKICKAT, SendLog, locked
from .smtpsession import SmtpSession, _describe, _login, _text
from .smtpsettings import (
    ENV_PREFIX,
    SECURITY,
    SETTING_KEYS,
    SmtpSettings,
    _is_loopback,
    _number,
    _read_config,
    default_config_path,
    load_smtp_settings,
)
from .templates import FOLJEBREV, template_path

T = TypeVar("T")


_Connection = SmtpSession  # the names this module had before the SMTP session moved out
_locked = locked

__all__ = [
    "ENV_PREFIX", "MISSLYCKAT", "OSAKERT", "REDAN", "SECURITY", "SEND_LOG_NAME", "SETTING_KEYS", "SKICKA",
    "SKICKAS", "SKICKAT", "UTAN_ADRESS", "Delivery", "send_paced", "Letter", "SendLog", "SendPlan", "SendReport",
    "SmtpSession", "SmtpSettings", "check_letters", "count_messages", "default_config_path", "format_attempt",
    "format_plan", "format_report", "load_smtp_settings", "locked", "plan_send", "run_send",
    "_Connection", "_decide", "_describe", "_is_loopback", "_kilobytes", "_locked", "_login", "_number",
    "_read_config", "_text",
]
"""What ``generator.send`` offers (settings, session, log and lock live in ``smtpsettings``,
``smtpsession`` and ``sendlog``; their names stay importable from here)."""


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
    input fingerprint recorded with it when it was written (``letters.letter_inputs``: the
    utskick's file, the recipient's registry entry, the template, beslut's version) is what
    they give now: nothing is rendered again.
    """
    folder = utskick_folder(out, loaded.name)
    again = f"Kör först: beslut letters {loaded.source.parent} --pdf"
    if not manifest_path(folder).is_file():
        raise SendError(f"det finns inga brev att skicka i {folder} ({MANIFEST_NAME} saknas). {again}")
    try:
        listed = {(d.org_id, Path(d.file).suffix): d for d in read_manifest(folder, strict=True).documents}
    except ValueError as e:
        raise SendError(f"manifestet går inte att läsa ({e}). {again}", file=manifest_path(folder)) from e
    letters, problems = {}, []
    template = template_path(templates, FOLJEBREV)
    for org in recipients:
        docx, pdf = listed.get((org.id, ".docx")), listed.get((org.id, ".pdf"))
        if docx is None or pdf is None:
            problems.append(f"{org.id}: brevet{' som PDF' if docx else ''} saknas i manifestet.")
            continue
        files = {kind: folder / entry.file for kind, entry in (("docx", docx), ("pdf", pdf))}
        missing = [str(f) for f in files.values() if not f.is_file()]
        if missing:
            problems.append(f"{org.id}: filen finns inte: {', '.join(missing)}.")
            continue
        changed = [str(f) for k, f in files.items() if sha256_file(f) != (docx if k == "docx" else pdf).sha256]
        if changed:
            problems.append(f"{org.id}: {', '.join(changed)} har ändrats efter att breven skapades.")
            continue
        try:
            current = letter_inputs(loaded, org, template)
        except OSError as e:
            problems.append(f"{org.id}: {e.filename or template} går inte att läsa ({e.strerror or e}).")
            continue
        if docx.fingerprint != current:
            problems.append(f"{org.id}: brevet stämmer inte längre med utskicket, registret eller mallen.")
            continue
        assert pdf.sha256 is not None and docx.sha256 is not None, "read_manifest(strict=True) checked"
        letters[org.id] = Letter(pdf=files["pdf"], sha256=pdf.sha256, fingerprint=docx.sha256)
    if problems:
        shown = problems[:10] + ([f"… och {len(problems) - 10} till."] if len(problems) > 10 else [])
        raise SendError(
            f"{len(problems)} brev kan inte skickas som de är:\n  " + "\n  ".join(shown)
            + f"\nInget skickades. {again} (och granska breven) innan du skickar."
        )
    return letters


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
    """Output of an earlier version moved into ``out/utskick/`` (``outfolder.move_legacy_output``)."""

    def having(self, action: str) -> list[Delivery]:
        """Return the deliveries with ``action``, in recipient order."""
        return [d for d in self.deliveries if d.action == action]


def plan_send(utskick_path: Path, organisationer_path: Path, out: Path, *, org_ids: list[str] | None = None,
              igen: bool = False, templates: Path | None = None) -> SendPlan:
    """Return what sending the utskick's letters means now: who gets one, who already has it.

    Raises SendError (nothing is sent) if a letter to be sent is missing or out of date.
    """
    from .letters import validate_utskick

    loaded, recipients = validate_utskick(utskick_path, organisationer_path, org_ids)
    notices = move_legacy_output(out, loaded.name)
    with_address = [org for org in recipients if org.epost]
    letters = check_letters(loaded, with_address, out, templates)
    log_path = utskick_folder(out, loaded.name) / SEND_LOG_NAME
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
        went; 1 when some recipients failed and others got their letter (as ``runreport.Report``)."""
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

    def send(delivery: Delivery, connection: SmtpSession) -> None:
        delivery.attempt = _send_one(plan, sender, delivery, connection)

    report.stopped = send_paced(todo, plan.log, settings, send, on_attempt,
                                "en annan körning har skickat det här utskicket sedan planen gjordes")
    return report


def send_paced(todo: Sequence[T], log: SendLog, settings: SmtpSettings,
               send_one: Callable[[T, SmtpSession], None], on_attempt: Callable[[T], None], changed: str) -> str | None:
    """Send each of ``todo`` with ``send_one`` at ``settings.per_minut``; return why it stopped early.

    Holds the log's lock for the whole run and refuses to start when the log changed since
    the plan was made (``changed`` says what happened, in Swedish). None when every one was
    tried; the server's message when it could not be reached and the rest were left.
    """
    interval = 60.0 / settings.per_minut
    with locked(log.path), SmtpSession(settings) as connection:
        if not log.unchanged_on_disk():
            raise SendError(f"{changed}. Kör kommandot igen för att se vad som återstår.", file=log.path)
        last_start = None
        for item in todo:
            if last_start is not None:
                time.sleep(max(0.0, last_start + interval - time.monotonic()))
            try:
                connection.open()
            except SendError as e:
                return e.message
            last_start = time.monotonic()
            send_one(item, connection)  # records its attempt in the item
            on_attempt(item)
    return None


def _send_one(plan: SendPlan, sender: str, delivery: Delivery, connection: SmtpSession) -> dict:
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
