"""Expediering: each recipient of a protokoll gets the protokollsutdrag of its §§ by e-mail.

``beslut send SAMMANTRÄDE`` works as for an utskick (``send``): a dry run unless
``--skarpt``, the same SMTP settings, connection and lock, and a send log
(``out/sammantraden/<namn>/expediering-logg.json``) that makes a rerun send only what has not
gone. One message per recipient lists its §§ and carries their utdrag as PDF attachments.

``plan_expediering`` checks first that the protokoll was built from the files as they are
now (``protokoll-manifest.json``: the inputs' fingerprint and each utdrag's sha256) and
collects the recipients from each §'s ``expedieras``: an organisation with an e-post in the
registry is mailed; one without, and a recipient written by name ("Akten"), is listed for
the sekreterare to send by hand.

Before the protokoll's justering day only the §§ declared omedelbart justerade
(``omedelbart_justerad: ja``) may go; the others are listed as waiting. An omedelbart
justerad § always goes in a message of its own to each recipient (logged under
``<id>:omedelbart``), so sending it early never makes the later message send it again.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from .errors import ContentError, SendError
from .files import sha256_file
from .mail import POLICY
from .minutes import inputs_fingerprint, minutes_outputs
from .model import Organisation
from .outfolder import EXPEDIERING_LOG_NAME, read_protokoll_manifest
from .protokollcheck import load_protokoll
from .protokollet import LoadedProtokoll, Paragraf
from .send import (
    MISSLYCKAT,
    OSAKERT,
    REDAN,
    SKICKA,
    SKICKAS,
    SKICKAT,
    UTAN_ADRESS,
    Letter,
    SendLog,
    SmtpSettings,
    _decide,
    _kilobytes,
    send_paced,
)
from .smtpsession import SmtpSession


@dataclass
class Utdrag:
    """One recipient's message: its §§ and their utdrag (PDF), and what will be done."""

    org: Organisation
    paragrafer: list[Paragraf]
    pdfs: list[Path]
    fingerprint: str
    """sha256 over the utdrag's .docx (reproducible): the same text, the same fingerprint."""
    action: str = SKICKA
    why: str = ""
    attempt: dict = field(default_factory=dict)
    omedelbart: bool = False
    """The omedelbart justerade §§ of this recipient, sent on their own."""

    @property
    def log_key(self) -> str:
        """Return the recipient's entry in the send log."""
        return f"{self.org.id}{OMEDELBART_KEY}" if self.omedelbart else self.org.id


OMEDELBART_KEY = ":omedelbart"


@dataclass
class ExpedieringPlan:
    """What ``beslut send SAMMANTRÄDE`` will do (or would do), recipient by recipient."""

    loaded: LoadedProtokoll
    deliveries: list[Utdrag]
    by_hand: list[tuple[str, list[int], str]]
    """Recipients that get no e-mail: (name, §§, why)."""
    log: SendLog
    sender: str | None
    waiting: list[int] = field(default_factory=list)
    """§§ not sent yet because the protokoll is not justerat (before its justering day)."""

    def having(self, action: str) -> list[Utdrag]:
        return [d for d in self.deliveries if d.action == action]


def plan_expediering(path: Path, organisationer_path: Path, out: Path, *, org_ids: list[str] | None = None,
                     igen: bool = False, today: date | None = None) -> ExpedieringPlan:
    """Return who gets which utdrag now; raise SendError (exit 9) if the protokoll is not built as it is.

    Before the justering's day (``today``, default the real one) only omedelbart justerade §§ go.
    """
    loaded = load_protokoll(path, organisationer_path)
    justerat = (today or date.today()) >= loaded.protokoll.justering.datum
    outputs = minutes_outputs(out, loaded)
    again = f"Kör först: beslut minutes {loaded.meeting.source.parent}"
    try:
        manifest = read_protokoll_manifest(outputs.folder)
        listed = manifest.documents
    except FileNotFoundError:
        raise SendError(f"protokollet är inte byggt ({outputs.protokoll_manifest} saknas). {again}") from None
    except ValueError as e:
        raise SendError(f"manifestet går inte att läsa ({e}). {again}", file=outputs.protokoll_manifest) from e
    if manifest.fingerprint != inputs_fingerprint(loaded, organisationer_path):
        raise SendError("protokollet eller sammanträdet har ändrats sedan protokollsutdragen skapades, så "
                        f"inget skickas. {again}", file=loaded.source)
    wanted = _wanted(org_ids, loaded)
    recipients: dict[str, tuple[Organisation, list[Paragraf]]] = {}
    by_hand: dict[str, tuple[list[int], str]] = {}
    waiting = []
    for p in loaded.paragrafer:
        if not justerat and not p.omedelbart_justerad:
            if p.expedieras:
                waiting.append(p.nummer)
            continue
        for m in p.expedieras:
            if m.organisation is None:
                by_hand.setdefault(m.namn, ([], "ingen organisation i registret"))[0].append(p.nummer)
            elif wanted is not None and m.organisation.id not in wanted:
                continue
            elif not m.organisation.epost:
                by_hand.setdefault(m.organisation.namn, ([], "ingen 'e-post' i registret"))[0].append(p.nummer)
            else:
                key = m.organisation.id + (OMEDELBART_KEY if p.omedelbart_justerad else "")
                recipients.setdefault(key, (m.organisation, []))[1].append(p)
    problems = []
    deliveries = []
    for org, paragrafer in recipients.values():
        pdfs, digest = [], hashlib.sha256()
        for p in paragrafer:
            pdf, docx = outputs.utdrag(p.nummer, ".pdf"), outputs.utdrag(p.nummer, ".docx")
            for file in (pdf, docx):
                if not file.is_file():
                    problems.append(f"{file} finns inte.")
                elif sha256_file(file) != listed.get(file.name):
                    problems.append(f"{file} har ändrats efter att protokollet byggdes.")
            pdfs.append(pdf)
            digest.update(f"{p.nummer}\n{listed.get(docx.name)}\n".encode())
        deliveries.append(Utdrag(org, paragrafer, pdfs, digest.hexdigest(),
                                 omedelbart=paragrafer[0].omedelbart_justerad))
    if problems:
        raise SendError("protokollsutdragen kan inte skickas som de är:\n  " + "\n  ".join(sorted(set(problems)))
                        + f"\nInget skickades. {again}")
    log = _load_log(outputs.folder / EXPEDIERING_LOG_NAME, loaded)
    for d in deliveries:
        letter = Letter(pdf=d.pdfs[0], sha256="", fingerprint=d.fingerprint)
        d.action, d.why = _decide(log.attempts(d.log_key), d.org, letter, igen)
    sender = loaded.protokoll.avsandare_epost or loaded.meeting.organisation.epost
    return ExpedieringPlan(loaded=loaded, deliveries=deliveries, log=log, sender=sender,
                           by_hand=[(name, nummer, why) for name, (nummer, why) in by_hand.items()],
                           waiting=waiting)


def _wanted(org_ids: list[str] | None, loaded: LoadedProtokoll) -> set[str] | None:
    if not org_ids:
        return None
    orgs = [m.organisation for p in loaded.paragrafer for m in p.expedieras if m.organisation is not None]
    groups = {"bolag": {o.id for o in orgs if o.is_bolag}, "nämnder": {o.id for o in orgs if not o.is_bolag},
              "alla": {o.id for o in orgs}}
    wanted: set[str] = set()
    for item in org_ids:
        wanted |= groups.get(item, {item})
    unknown = wanted - {o.id for o in orgs}
    if unknown:
        raise ContentError(f"--till {', '.join(sorted(unknown))}: ingen paragraf i protokollet expedieras dit.",
                           file=loaded.source)
    return wanted


def _load_log(path: Path, loaded: LoadedProtokoll) -> SendLog:
    if not path.is_file():
        return SendLog(path, {"sammantrade": loaded.meeting.name, "mottagare": {}})
    raw = path.read_bytes()
    try:
        data = json.loads(raw.decode("utf-8"))
        assert isinstance(data.get("mottagare"), dict)
    except (ValueError, AssertionError, AttributeError) as e:
        raise SendError("loggen över vad som skickats går inte att läsa, så det går inte att veta vem som "
                        "redan fått utdragen. Återställ filen (den skrivs bara av beslut send).", file=path) from e
    return SendLog(path, data, raw)


# --- the message ---------------------------------------------------------------------------


def paragraf_list(paragrafer: list[Paragraf]) -> str:
    """Return "§ 115" or "§§ 115, 116"."""
    numbers = ", ".join(str(p.nummer) for p in paragrafer)
    return f"§ {numbers}" if len(paragrafer) == 1 else f"§§ {numbers}"


def attachment_name(loaded: LoadedProtokoll, p: Paragraf) -> str:
    """Return the attachment's name: "Protokollsutdrag Förskolenämnden 2023-10-24 § 115.pdf"."""
    name = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', " ", loaded.meeting.organisation.namn).strip()
    return f"Protokollsutdrag {name} {loaded.meeting.sammantrade.datum.isoformat()} § {p.nummer}.pdf"


def build_message(plan: ExpedieringPlan, d: Utdrag, *, when: datetime) -> EmailMessage:
    """Return the e-mail to one recipient: its §§ listed, their utdrag attached."""
    loaded = plan.loaded
    meeting = loaded.meeting
    org_name = meeting.organisation.namn
    assert plan.sender and d.org.epost
    subject = f"Protokollsutdrag: {org_name} {meeting.sammantrade.datum.isoformat()}, {paragraf_list(d.paragrafer)}"
    if d.omedelbart:
        subject += " (omedelbart justerad)" if len(d.paragrafer) == 1 else " (omedelbart justerade)"
    digest = hashlib.sha256(f"{meeting.name}\n{d.log_key}\n{d.fingerprint}".encode()).hexdigest()
    domain = plan.sender.rsplit("@", 1)[1].encode("idna").decode("ascii")
    mid = f"<{digest[:32]}.{d.org.id}@{domain}>"
    msg = EmailMessage(policy=POLICY)
    msg["From"] = Address(meeting.organisation.avsandare, addr_spec=plan.sender)
    msg["To"] = Address(d.org.avsandare, addr_spec=d.org.epost)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = mid
    msg["Content-Language"] = "sv-SE"
    paragraphs = [
        f"Till {d.org.avsandare}",
        f"{org_name} har på sitt sammanträde {meeting.sammantrade.datum.isoformat()} fattat beslut som "
        f"expedieras till er. Bifogat finns protokollsutdrag för:",
        "\n".join(f"{p.label} {p.rubrik}" + (f" (dnr {p.planned.diarienummer})" if p.planned.diarienummer else "")
                  for p in d.paragrafer),
        (("Paragrafen" if len(d.paragrafer) == 1 else "Paragraferna") + " förklarades omedelbart justerad"
         + ("" if len(d.paragrafer) == 1 else "e") + f" vid sammanträdet {meeting.sammantrade.datum.isoformat()}."
         if d.omedelbart else f"Protokollet justerades {loaded.protokoll.justering.datum.isoformat()}.")
        + f" Frågor besvaras av {meeting.organisation.avsandare}: svara på det här meddelandet.",
        f"Med vänlig hälsning\n{meeting.sammantrade.sekreterare}\nSekreterare, {org_name}",
    ]
    text = "\n\n".join(paragraphs) + "\n"
    body = "\n".join("<p>" + "<br>\n".join(html.escape(line) for line in p.split("\n")) + "</p>"
                     for p in paragraphs)
    msg.set_content(text, charset="utf-8", cte="quoted-printable")
    msg.add_alternative(f'<!DOCTYPE html>\n<html lang="sv">\n<head><meta charset="utf-8"><title>'
                        f"{html.escape(subject)}</title></head>\n<body>\n{body}\n</body>\n</html>\n",
                        subtype="html", charset="utf-8", cte="quoted-printable")
    for p, pdf in zip(d.paragrafer, d.pdfs, strict=True):
        msg.add_attachment(pdf.read_bytes(), maintype="application", subtype="pdf",
                           filename=attachment_name(loaded, p))
    for n, part in enumerate(msg.walk()):
        if part is not msg:
            del part["MIME-Version"]
        if part.is_multipart():
            part.set_boundary(f"=_beslut_{mid[1:17]}_{n}")
    return msg


# --- plan shown, sending, report -----------------------------------------------------------


def format_plan(plan: ExpedieringPlan, settings: SmtpSettings | None, settings_problem: str | None) -> list[str]:
    """Return the plan as the lines shown to the user, before sending or as a dry run."""
    loaded = plan.loaded
    lines = [f"Expediering: {loaded.title}, {loaded.paragraf_range}"]
    lines.append(f"Från: {plan.sender}" if plan.sender else
                 f"Från: saknas. Lägg till 'avsändare_e-post' i {loaded.source} eller 'e-post' för "
                 f"{loaded.meeting.organisation.id} i registret.")
    lines.append(f"Server: {settings.describe()}" if settings else f"Server: inte inställd: {settings_problem}")
    for action, title in ((SKICKA, "Skickas"), (REDAN, "Redan skickade, skickas inte igen (--igen skickar ändå)"),
                          (OSAKERT, "Osäkra, skickas inte igen")):
        group = plan.having(action)
        if not group:
            continue
        lines.append(f"{title} ({len(group)}):")
        width = max(len(d.org.id) for d in group)
        for d in group:
            size = sum(p.stat().st_size for p in d.pdfs)
            extra = f"  [{d.why}]" if action != SKICKA or d.why != "ny" else ""
            extra = "  (omedelbart justerad)" + extra if d.omedelbart else extra
            lines.append(f"  {d.org.id:<{width}}  {d.org.epost}  {paragraf_list(d.paragrafer)} "
                         f"({len(d.pdfs)} PDF, {_kilobytes(size)}){extra}")
    if plan.by_hand:
        lines.append(f"Utan e-post, skickas inte ({len(plan.by_hand)}): expediera dem på annat sätt:")
        for name, numbers, why in plan.by_hand:
            lines.append(f"  {name}  {'§ ' if len(numbers) == 1 else '§§ '}{', '.join(map(str, numbers))}  ({why})")
    if plan.waiting:
        waiting = ", ".join(map(str, plan.waiting))
        lines.append(f"Väntar på justeringen {loaded.protokoll.justering.datum.isoformat()}, skickas inte före den: "
                     f"{'§' if len(plan.waiting) == 1 else '§§'} {waiting}")
    if not plan.deliveries and not plan.by_hand and not plan.waiting:
        lines.append("Ingen paragraf har något under 'expedieras'.")
    return lines


@dataclass
class ExpedieringReport:
    plan: ExpedieringPlan
    stopped: str | None = None

    @property
    def sent(self) -> list[Utdrag]:
        return [d for d in self.plan.deliveries if d.attempt.get("status") == SKICKAT]

    @property
    def failed(self) -> list[Utdrag]:
        return [d for d in self.plan.deliveries if d.attempt and d.attempt["status"] != SKICKAT]

    @property
    def exit_code(self) -> int:
        """Return 0, 1 or 9 as ``send.SendReport.exit_code`` does (9: the server could not be used)."""
        if self.stopped or (self.failed and not self.sent):
            return SendError.exit_code
        return 1 if self.failed else 0


def run_expediering(plan: ExpedieringPlan, settings: SmtpSettings, *,
                    on_attempt: Callable[[Utdrag], None] = lambda d: None) -> ExpedieringReport:
    """Send every delivery marked SKICKA, recording each attempt in the log (see ``send.run_send``)."""
    report = ExpedieringReport(plan)
    todo = plan.having(SKICKA)
    if todo and not plan.sender:
        raise ContentError("protokollet har ingen 'avsändare_e-post' att skicka från, och organisationen "
                           "har ingen 'e-post' i registret. Lägg till t.ex. 'avsändare_e-post: "
                           "forskolenamnden@goteborg.se' i protokollet.", file=plan.loaded.source)

    def send(d: Utdrag, connection: SmtpSession) -> None:
        d.attempt = _send_one(plan, d, connection)

    report.stopped = send_paced(todo, plan.log, settings, send, on_attempt,
                                "en annan körning har skickat utdragen sedan planen gjordes")
    return report


def _send_one(plan: ExpedieringPlan, d: Utdrag, connection: SmtpSession) -> dict:
    assert plan.sender and d.org.epost
    now = datetime.now().astimezone()
    msg = build_message(plan, d, when=now)
    attempt = {"status": SKICKAS, "adress": d.org.epost, "message_id": msg["Message-ID"],
               "tid": now.isoformat(timespec="seconds"), "svar": None,
               "paragrafer": [p.nummer for p in d.paragrafer], "brev_sha256": d.fingerprint}
    plan.log.record(d.org, attempt, key=d.log_key)
    ok, code, text, reason = connection.send(plan.sender, d.org.epost, msg.as_bytes(policy=POLICY))
    attempt = {**attempt, "status": SKICKAT if ok else MISSLYCKAT,
               "svar": {"kod": code, "text": text} if code else None,
               "tid": datetime.now().astimezone().isoformat(timespec="seconds")}
    if not ok:
        attempt["orsak"] = reason
    plan.log.record(d.org, attempt, key=d.log_key)
    return attempt


def format_attempt(d: Utdrag) -> str:
    """Return the line shown as soon as one message has gone (or failed)."""
    if d.attempt["status"] == SKICKAT:
        reply = d.attempt["svar"]
        return f"Skickat: {d.org.id} <{d.org.epost}> {paragraf_list(d.paragrafer)} ({reply['kod']} {reply['text']})"
    return f"Misslyckades: {d.org.id} <{d.org.epost}>: {d.attempt['orsak']}"


def format_report(report: ExpedieringReport) -> tuple[list[str], list[str]]:
    """Return the run's summary lines and its error lines (empty if all went)."""
    todo = len(report.plan.having(SKICKA))
    lines = [f"Klart: {len(report.sent)} av {todo} skickade. Logg: {report.plan.log.path}"]
    errors = []
    if report.failed:
        errors.append(f"{len(report.failed)} misslyckades:")
        errors += [f"  {d.org.id} ({d.org.epost}): {d.attempt['orsak']}" for d in report.failed]
    if report.stopped:
        errors.append(f"Körningen stoppades: {report.stopped}")
    if errors:
        errors.append("Kör samma kommando igen när felet är åtgärdat: då skickas bara det som inte gått fram.")
    return lines, errors


__all__ = ["UTAN_ADRESS", "plan_expediering", "run_expediering", "format_plan", "format_report"]
