"""One SMTP session of ``beslut send``: connect (TLS, login), send a message, reconnect after a drop.

Every failure becomes a Swedish reason (``_describe``) that never carries the
password; a refusal fails one message, a server that cannot be used raises ``SendError``.
"""

from __future__ import annotations

import base64
import smtplib
import socket
import ssl

from .errors import SendError
from .smtpsettings import SmtpSettings


class SmtpSession:
    """One SMTP session, opened when needed and reopened after the server drops it."""

    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpSession:
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
