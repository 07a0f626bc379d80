"""Följebrev as e-mail: one RFC 5322 message per recipient, with the letter's PDF attached.

``build_message`` is the one place a message is made; ``beslut letters --eml`` writes it
beside the letter (``write_eml``) and ``beslut send`` (``send.py``) sends it. The two are
the same message except for ``Date``: the .eml carries the utskick's datum, so writing it
again from the same PDF gives the same bytes; a sent message carries the time it went.

The Message-ID is derived from the utskick, the recipient and the letter's content, so
the same letter always has the same Message-ID (a resend can be recognised as one).
"""

from __future__ import annotations

import hashlib
import html
import re
from datetime import date, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from pypdf import PdfReader

from .content import LoadedUtskick
from .errors import ContentError
from .files import sha256_file, write_bytes
from .letters import letter_rubrik
from .model import Organisation

POLICY = policy.SMTP
"""CRLF line ends, headers RFC 2047 / RFC 2231 encoded: what any SMTP server accepts."""

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def check_sender(loaded: LoadedUtskick) -> str:
    """Return the utskick's From address; raise ContentError if it has none."""
    sender = loaded.utskick.avsandare_epost
    if not sender:
        raise ContentError(
            "utskicket har ingen 'avsändare_e-post', som breven ska skickas från. Lägg till "
            "t.ex. 'avsändare_e-post: stadsledningskontoret@stadshuset.goteborg.se' (och gärna "
            "'svara_till: …' om svaren ska till en annan brevlåda).",
            file=loaded.source,
        )
    return sender


def attachment_name(org: Organisation) -> str:
    """Return the attachment's file name as the recipient sees it: "Följebrev – <namn>.pdf"."""
    name = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', " ", org.namn).strip()
    return f"Följebrev – {name}.pdf"


def letter_fingerprint(pdf_path: Path) -> str:
    """Return the sha256 that identifies a letter's content: that of the .docx beside its PDF.

    The .docx is byte-for-byte reproducible (the same utskick, registry and template give
    the same bytes) while LibreOffice stamps every PDF with new dates and ids. So making
    the letters again does not make them "changed" (and resent) unless their text changed.
    Without a .docx beside it, the PDF's own sha256 is used.
    """
    docx = pdf_path.with_suffix(".docx")
    return sha256_file(docx if docx.is_file() else pdf_path)


def message_id(loaded: LoadedUtskick, org: Organisation, fingerprint: str) -> str:
    """Return the stable Message-ID of the letter to ``org``: same letter, same id."""
    digest = hashlib.sha256(f"{loaded.name}\n{org.id}\n{fingerprint}".encode()).hexdigest()
    domain = check_sender(loaded).rsplit("@", 1)[1].encode("idna").decode("ascii")
    return f"<{digest[:32]}.{org.id}@{domain}>"


def build_message(loaded: LoadedUtskick, org: Organisation, pdf_path: Path, *, when: datetime) -> EmailMessage:
    """Return the e-mail carrying the letter to ``org`` (its PDF attached), dated ``when``."""
    utskick = loaded.utskick
    if not org.epost:
        raise ContentError(f"{org.namn} ({org.id}) har ingen e-postadress i registret ('e-post').")
    pdf = pdf_path.read_bytes()
    rubrik = letter_rubrik(loaded, org)
    filename = attachment_name(org)
    mid = message_id(loaded, org, letter_fingerprint(pdf_path))

    msg = EmailMessage(policy=POLICY)
    msg["From"] = Address(utskick.avsandare, addr_spec=check_sender(loaded))
    if utskick.svara_till:
        msg["Reply-To"] = utskick.svara_till
    msg["To"] = Address(org.avsandare, addr_spec=org.epost)
    msg["Subject"] = rubrik
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = mid
    msg["Content-Language"] = "sv-SE"

    pages = len(PdfReader(pdf_path).pages)
    text, html_text = _body(loaded, org, rubrik, filename, pages)
    msg.set_content(text, charset="utf-8", cte="quoted-printable")
    msg.add_alternative(html_text, subtype="html", charset="utf-8", cte="quoted-printable")
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename=filename)
    for n, part in enumerate(msg.walk()):
        if part is not msg:
            del part["MIME-Version"]  # only the message itself has one
        if part.is_multipart():  # fixed boundaries (random by default): same input, same bytes
            part.set_boundary(f"=_beslut_{mid[1:17]}_{n}")
    return msg


def _body(loaded: LoadedUtskick, org: Organisation, rubrik: str, filename: str, pages: int) -> tuple[str, str]:
    """Return the message's plain text and its HTML alternative (the same words)."""
    utskick = loaded.utskick
    sidor = "1 sida" if pages == 1 else f"{pages} sidor"
    svar = utskick.svara_till or check_sender(loaded)
    paragraphs = [
        f"Till {org.avsandare}",
        f"Bifogat finns följebrevet ”{rubrik}” från {utskick.avsandare}, daterat "
        f"{utskick.datum.isoformat()}, som PDF ({filename}, {sidor}).",
        f"Frågor om brevet besvaras av {utskick.avsandare}: svara på det här meddelandet "
        f"eller skriv till {svar}.",
        f"Med vänlig hälsning\n{utskick.underskrift.namn}\n{utskick.underskrift.titel}\n{utskick.avsandare}",
    ]
    text = "\n\n".join(paragraphs) + "\n"
    html_paragraphs = "\n".join(
        "<p>" + "<br>\n".join(html.escape(line) for line in p.split("\n")) + "</p>" for p in paragraphs
    )
    page = (
        '<!DOCTYPE html>\n<html lang="sv">\n<head><meta charset="utf-8">'
        f"<title>{html.escape(rubrik)}</title></head>\n<body>\n{html_paragraphs}\n</body>\n</html>\n"
    )
    return text, page


def eml_date(day: date) -> datetime:
    """Return the Date of a written .eml: midnight of the utskick's datum, Swedish time."""
    return datetime(day.year, day.month, day.day, tzinfo=STOCKHOLM)


def write_eml(loaded: LoadedUtskick, org: Organisation, pdf_path: Path, target: Path) -> Path:
    """Write the e-mail to ``org`` as an .eml file at ``target`` (reproducibly); return it."""
    msg = build_message(loaded, org, pdf_path, when=eml_date(loaded.utskick.datum))
    write_bytes(target, msg.as_bytes(policy=POLICY))
    return target

