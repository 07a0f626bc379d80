"""Följebrev by e-mail: the .eml beside each letter, and `beslut send` against a real SMTP server.

The server is aiosmtpd on 127.0.0.1 (a free port per test); the letters are made once per
module with the real pipeline (LibreOffice), then copied into each test's own out folder.
"""

from __future__ import annotations

import asyncio
import email
import json
import shutil
import socket
from email import policy
from pathlib import Path

import pytest
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from click.testing import CliRunner

from generator import pipeline
from generator.cli import main
from generator.content import load_organisationer, load_utskick
from generator.mail import write_eml

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "send"
UTSKICK = FIXTURES / "handlingsplaner"
REGISTRY = FIXTURES / "organisationer.yaml"
NAME = UTSKICK.name
ADDRESSES = {
    "forskolenamnden": "forskola@example.org",
    "kulturnamnden": "kultur@example.org",
    "gota-lejon": "registrator@gotalejon.example.com",
    "liseberg": "info@liseberg.example.com",
    "goteborg-co": "post@goteborgco.example.com",
}
WITHOUT_ADDRESS = ["valnamnden", "higab"]
SMTP_ENV = ("HOST", "PORT", "SAKERHET", "ANVANDARE", "LOSENORD", "PER_MINUT", "TIDSGRANS")


@pytest.fixture(scope="module")
def letters_out(tmp_path_factory) -> Path:
    """Make the letters (docx, PDF/A, .eml) once for the module; return the out folder."""
    out = tmp_path_factory.mktemp("send-letters")
    report = pipeline.run(pipeline.plan_utskick(UTSKICK, REGISTRY, out, pdf=True, eml=True))
    assert not report.failed, [o.error for o in report.failed]
    return out


@pytest.fixture
def out(letters_out: Path, tmp_path: Path) -> Path:
    """Return this test's own copy of the letters' out folder."""
    return Path(shutil.copytree(letters_out, tmp_path / "out"))


class Handler:
    """An aiosmtpd handler that keeps what it received and can refuse, stall or stop."""

    def __init__(self):
        self.received: list[tuple[str, list[str], bytes]] = []
        self.refuse: set[str] = set()
        self.stall: dict[str, float] = {}
        self.stop_at: int | None = None
        self.controller: Controller | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.stop_at is not None and len(self.received) + 1 == self.stop_at:
            self.controller.server.close()  # nobody can connect any more
            server.transport.close()  # and this message is cut off before its answer
            return "421 4.3.2 shutting down"
        for address in envelope.rcpt_tos:
            if address in self.stall:
                await asyncio.sleep(self.stall[address])
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return f"250 2.0.0 Ok: queued as Q{len(self.received)}"

    def messages(self) -> dict[str, email.message.EmailMessage]:
        """Return the received messages by recipient address, parsed."""
        return {rcpt[0]: email.message_from_bytes(data, policy=policy.default) for _, rcpt, data in self.received}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(monkeypatch, **kwargs) -> tuple[Handler, Controller]:
    handler = Handler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
    handler.controller = controller
    controller.start()
    monkeypatch.setenv("BESLUT_SMTP_PORT", str(port))
    return handler, controller


@pytest.fixture
def smtp_env(monkeypatch, tmp_path):
    """Point the SMTP settings at 127.0.0.1 through the environment only (no config file)."""
    for key in SMTP_ENV:
        monkeypatch.delenv(f"BESLUT_SMTP_{key}", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("BESLUT_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("BESLUT_SMTP_SAKERHET", "ingen")
    monkeypatch.setenv("BESLUT_SMTP_PER_MINUT", "6000")
    return monkeypatch


@pytest.fixture
def smtp(smtp_env):
    """Start an SMTP server for the test; return its handler."""
    handler, controller = start_server(smtp_env)
    yield handler
    controller.stop(no_assert=True)


def send(out: Path, *args: str):
    return CliRunner().invoke(main, ["send", str(UTSKICK), "--organisationer", str(REGISTRY), "--out", str(out),
                                     *args], catch_exceptions=False)


def log_of(out: Path) -> dict:
    return json.loads((out / "utskick" / NAME / "utskick-logg.json").read_text(encoding="utf-8"))["mottagare"]


# --- the .eml beside each letter -------------------------------------------------------------


def test_eml_beside_each_letter_with_address(letters_out: Path):
    folder = letters_out / "utskick" / NAME
    assert sorted(p.stem for p in folder.glob("*.eml")) == sorted(ADDRESSES)
    assert not any((folder / f"{i}.eml").exists() for i in WITHOUT_ADDRESS)

    raw = (folder / "goteborg-co.eml").read_bytes()
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert msg["Subject"] == "Nya handlingsplaner – information till Göteborg & Co Träffpunkt AB"
    assert b"=?utf-8?" in raw.split(b"\r\n\r\n")[0]  # the header itself is 7-bit, RFC 2047
    assert msg["From"].addresses[0].addr_spec == "utskick@stadshuset.example.org"
    assert msg["From"].addresses[0].display_name == "Stadsledningskontoret"
    assert msg["Reply-To"] == "trygghet@stadshuset.example.org"
    assert msg["To"].addresses[0].addr_spec == "post@goteborgco.example.com"
    assert msg["Date"].datetime.date().isoformat() == "2023-08-21"
    assert msg["Message-ID"].endswith(".goteborg-co@stadshuset.example.org>")
    text = msg.get_body(("plain",)).get_content()
    assert "Bifogat finns följebrevet ”Nya handlingsplaner – information till Göteborg & Co Träffpunkt AB”" in text
    assert "trygghet@stadshuset.example.org" in text
    html = msg.get_body(("html",)).get_content()
    assert "Göteborg &amp; Co Träffpunkt AB" in html
    [attachment] = list(msg.iter_attachments())
    assert attachment.get_filename() == "Följebrev – Göteborg & Co Träffpunkt AB.pdf"
    assert b"filename*0*=utf-8''F%C3%B6ljebrev" in raw  # RFC 2231
    assert attachment.get_content() == (folder / "goteborg-co.pdf").read_bytes()

    # Written again from the same PDF: the same bytes (fixed Date, Message-ID, boundaries).
    loaded = load_utskick(UTSKICK)
    org = load_organisationer(REGISTRY).find("goteborg-co")
    again = write_eml(loaded, org, folder / "goteborg-co.pdf", letters_out / "again.eml")
    assert again.read_bytes() == raw


def test_eml_needs_pdf_and_a_sender(tmp_path: Path):
    runner = CliRunner()
    result = runner.invoke(main, ["letters", str(UTSKICK), "--organisationer", str(REGISTRY),
                                  "--out", str(tmp_path / "out"), "--eml"])
    assert result.exit_code == 2
    assert "--eml kräver --pdf" in result.output

    data = yaml.safe_load((UTSKICK / "utskick.yaml").read_text(encoding="utf-8"))
    del data["avsändare_e-post"]
    (tmp_path / "brev").mkdir()
    (tmp_path / "brev" / "utskick.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = runner.invoke(main, ["letters", str(tmp_path / "brev"), "--organisationer", str(REGISTRY),
                                  "--out", str(tmp_path / "out"), "--pdf", "--eml"])
    assert result.exit_code == 3
    assert "utskicket har ingen 'avsändare_e-post'" in result.output
    assert not (tmp_path / "out").exists()  # checked before any letter is written


def test_bad_sender_address_is_a_content_error(tmp_path: Path):
    data = yaml.safe_load((UTSKICK / "utskick.yaml").read_text(encoding="utf-8"))
    data["svara_till"] = "Trygghet <trygghet at stadshuset>"
    (tmp_path / "brev").mkdir()
    (tmp_path / "brev" / "utskick.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(tmp_path / "brev"), "--organisationer", str(REGISTRY)])
    assert result.exit_code == 3
    assert "fält 'svara_till': är ingen e-postadress" in result.output


# --- sending -------------------------------------------------------------------------------


def test_dry_run_sends_nothing_and_shows_what_would_go(out: Path, smtp: Handler):
    result = send(out)
    assert result.exit_code == 0, result.output
    assert smtp.received == []
    assert not (out / "utskick" / NAME / "utskick-logg.json").exists()
    assert "Skickas (5):" in result.output
    for org_id, address in ADDRESSES.items():
        line = next(x for x in result.output.splitlines() if x.strip().startswith(org_id + " "))
        assert address in line and " kB)" in line
    assert "Utan e-postadress i registret, hoppas över (2):" in result.output
    assert "  valnamnden  Valnämnden" in result.output and "  higab" in result.output
    assert "Från: Stadsledningskontoret <utskick@stadshuset.example.org>" in result.output
    assert "Provkörning: inget skickades. Lägg till --skarpt för att skicka 5 meddelanden." in result.output


def test_send_delivers_one_message_each_and_a_rerun_sends_nothing(out: Path, smtp: Handler):
    result = send(out, "--skarpt")
    assert result.exit_code == 0, result.output
    assert "Klart: 5 av 5 skickade." in result.output
    assert sorted(rcpt[0] for _, rcpt, _ in smtp.received) == sorted(ADDRESSES.values())
    assert {sender for sender, _, _ in smtp.received} == {"utskick@stadshuset.example.org"}

    messages = smtp.messages()
    msg = messages["forskola@example.org"]
    assert msg["Subject"] == "Nya handlingsplaner – information till Förskolenämnden"
    assert msg["To"].addresses[0].display_name == "Förskoleförvaltningen"
    assert "Bifogat finns följebrevet" in msg.get_body(("plain",)).get_content()
    for org_id, address in ADDRESSES.items():
        [attachment] = list(messages[address].iter_attachments())
        assert attachment.get_content() == (out / "utskick" / NAME / f"{org_id}.pdf").read_bytes()
        eml = email.message_from_bytes((out / "utskick" / NAME / f"{org_id}.eml").read_bytes(), policy=policy.default)
        assert messages[address]["Message-ID"] == eml["Message-ID"]

    log = log_of(out)
    assert sorted(log) == sorted(ADDRESSES)
    entry = log["liseberg"]
    assert entry["status"] == "skickat" and entry["adress"] == "info@liseberg.example.com"
    assert entry["svar"]["kod"] == 250 and entry["svar"]["text"].startswith("2.0.0 Ok: queued as Q")
    assert entry["message_id"] == messages["info@liseberg.example.com"]["Message-ID"]
    assert len(entry["sha256"]) == 64 and entry["tid"] and entry["tidigare"] == []

    again = send(out, "--skarpt")
    assert again.exit_code == 0, again.output
    assert len(smtp.received) == 5
    assert "Redan skickade, skickas inte igen (--igen skickar ändå) (5):" in again.output
    assert "Klart: 0 av 0 skickade." in again.output

    # Making the letters again (the same text): still nothing to send.
    pipeline.run(pipeline.plan_utskick(UTSKICK, REGISTRY, out, pdf=True))
    assert json.loads((out / "utskick" / NAME / "manifest.json").read_text())  # rewritten
    assert "Redan skickade, skickas inte igen (--igen skickar ändå) (5):" in send(out).output

    # --igen with --till sends one again, with the same Message-ID.
    result = send(out, "--skarpt", "--igen", "--till", "liseberg")
    assert result.exit_code == 0, result.output
    assert len(smtp.received) == 6 and smtp.received[-1][1] == ["info@liseberg.example.com"]
    assert len(log_of(out)["liseberg"]["tidigare"]) == 1


def test_a_refused_address_is_logged_and_sent_by_the_rerun(out: Path, smtp: Handler):
    smtp.refuse.add("kultur@example.org")
    result = send(out, "--skarpt")
    assert result.exit_code == 1
    assert len(smtp.received) == 4
    assert "1 misslyckades:" in result.output
    assert "kulturnamnden (kultur@example.org): servern avböjde vid RCPT TO: 550" in result.output
    log = log_of(out)
    assert log["kulturnamnden"]["status"] == "misslyckat"
    assert log["kulturnamnden"]["svar"]["kod"] == 550
    assert "User unknown" in log["kulturnamnden"]["svar"]["text"]
    assert [log[i]["status"] for i in ADDRESSES if i != "kulturnamnden"] == ["skickat"] * 4

    smtp.refuse.clear()
    result = send(out, "--skarpt")
    assert result.exit_code == 0, result.output
    assert "Klart: 1 av 1 skickade." in result.output
    assert smtp.received[-1][1] == ["kultur@example.org"] and len(smtp.received) == 5
    entry = log_of(out)["kulturnamnden"]
    assert entry["status"] == "skickat" and [a["status"] for a in entry["tidigare"]] == ["misslyckat"]


def test_server_stopping_mid_run_is_reported_and_a_rerun_completes(out: Path, smtp_env):
    handler, controller = start_server(smtp_env)
    handler.stop_at = 3
    try:
        result = send(out, "--skarpt")
    finally:
        controller.stop(no_assert=True)
    assert result.exit_code == 9  # the server could not be reached: as --help says
    assert len(handler.received) == 2
    assert "Körningen stoppades: e-postservern 127.0.0.1:" in result.output
    assert "går inte att nå: anslutningen nekades (servern är nere eller porten fel)." in result.output
    assert "2 brev skickades inte." in result.output
    assert "Kör samma kommando igen" in result.output
    log = log_of(out)
    assert sorted(e["status"] for e in log.values()) == ["misslyckat", "skickat", "skickat"]
    cut = next(e for e in log.values() if e["status"] == "misslyckat")
    assert "anslutningen till 127.0.0.1" in cut["orsak"] and "bröts vid DATA" in cut["orsak"]

    handler2, controller2 = start_server(smtp_env)
    try:
        result = send(out, "--skarpt")
    finally:
        controller2.stop(no_assert=True)
    assert result.exit_code == 0, result.output
    assert len(handler2.received) == 3
    sent = [rcpt[0] for _, rcpt, _ in handler.received + handler2.received]
    assert sorted(sent) == sorted(ADDRESSES.values())  # everyone once, nobody twice
    assert all(e["status"] == "skickat" for e in log_of(out).values())


def test_an_unreachable_server_is_exit_9_as_help_says(out: Path, smtp_env):
    smtp_env.setenv("BESLUT_SMTP_PORT", str(free_port()))  # nobody listens there
    result = send(out, "--skarpt")
    assert result.exit_code == 9, result.output
    assert "går inte att nå: anslutningen nekades" in result.output
    assert "9  e-post" in CliRunner().invoke(main, ["--help"]).output


def test_a_server_that_does_not_answer_in_time_fails_that_one(out: Path, smtp: Handler):
    smtp.stall["registrator@gotalejon.example.com"] = 3
    result = send(out, "--skarpt", "--tidsgrans", "1")
    assert result.exit_code == 1
    assert "gota-lejon (registrator@gotalejon.example.com): anslutningen till 127.0.0.1" in result.output
    assert "servern svarade inte inom 1 sekunder (tidsgräns)" in result.output
    log = log_of(out)
    assert log["gota-lejon"]["status"] == "misslyckat"
    assert [log[i]["status"] for i in ADDRESSES if i != "gota-lejon"] == ["skickat"] * 4


def test_missing_or_changed_letters_are_refused(tmp_path: Path, out: Path, smtp: Handler):
    result = send(tmp_path / "tomt", "--skarpt")
    assert result.exit_code == 9
    assert "det finns inga brev att skicka" in result.output
    assert f"Kör först: beslut letters {UTSKICK} --pdf" in result.output

    pdf = out / "utskick" / NAME / "liseberg.pdf"
    pdf.write_bytes(pdf.read_bytes() + b"\n% changed\n")
    (out / "utskick" / NAME / "higab.pdf").unlink()  # no address: its letter is not needed
    (out / "utskick" / NAME / "kulturnamnden.pdf").unlink()
    result = send(out, "--skarpt")
    assert result.exit_code == 9
    assert "2 brev kan inte skickas som de är:" in result.output
    assert f"liseberg: {pdf} har ändrats efter att breven skapades." in result.output
    assert "kulturnamnden: filen finns inte:" in result.output
    assert "Inget skickades." in result.output
    assert smtp.received == []


def test_settings_come_from_a_file_and_the_password_is_never_shown(out: Path, smtp_env, tmp_path: Path):
    def reject(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=False, handled=False)

    handler, controller = start_server(smtp_env, authenticator=reject, auth_require_tls=False)
    smtp_env.delenv("BESLUT_SMTP_HOST")
    config = tmp_path / "smtp.toml"
    config.write_text('host = "127.0.0.1"\nanvandare = "slk-utskick"\nlosenord = "Hemligt-lösen-42"\n',
                      encoding="utf-8")
    config.chmod(0o644)
    try:
        dry = send(out, "--smtp-konfig", str(config))
        real = CliRunner().invoke(main, ["--debug", "send", str(UTSKICK), "--organisationer", str(REGISTRY),
                                         "--out", str(out), "--smtp-konfig", str(config), "--skarpt"])
    finally:
        controller.stop(no_assert=True)
    assert "användare slk-utskick, lösenord angivet" in dry.output
    assert "kan läsas av andra. Skydda den: chmod 600" in dry.output
    assert real.exit_code == 9
    assert "godtog inte inloggningen för 'slk-utskick' (535" in real.output
    assert handler.received == []
    for text in (dry.output, real.output, (out / "utskick" / NAME / "utskick-logg.json").read_text() if
                 (out / "utskick" / NAME / "utskick-logg.json").exists() else ""):
        assert "Hemligt" not in text

    config.write_text('host = "127.0.0.1"\n"säkerhet" = "tls"\n', encoding="utf-8")
    result = send(out, "--smtp-konfig", str(config), "--skarpt")
    assert result.exit_code == 9
    assert "okänd nyckel 'säkerhet'. Menade du 'sakerhet'?" in result.output
    config.write_text('host = "127.0.0.1"\nlosenord = Hemligt-lösen-42\n', encoding="utf-8")
    result = send(out, "--smtp-konfig", str(config), "--skarpt")
    assert result.exit_code == 9
    assert f"{config}, rad 2: inställningsfilen går inte att läsa." in result.output
    assert "Hemligt" not in result.output


def test_without_settings_the_dry_run_says_so_and_skarpt_refuses(out: Path, smtp_env):
    smtp_env.delenv("BESLUT_SMTP_HOST")
    dry = send(out)
    assert dry.exit_code == 0
    assert "Server: inte inställd: ingen e-postserver är inställd. Ange den i BESLUT_SMTP_HOST" in dry.output
    real = send(out, "--skarpt")
    assert real.exit_code == 9
    assert "ingen e-postserver är inställd" in real.output


def test_the_log_decides_who_gets_a_message(out: Path, smtp: Handler):
    assert send(out, "--skarpt").exit_code == 0
    path = out / "utskick" / NAME / "utskick-logg.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    # As if liseberg's letter had been sent in an earlier version of its text …
    data["mottagare"]["liseberg"]["brev_sha256"] = "0" * 64
    # … and a run had been stopped while sending to kulturnamnden, outcome unknown.
    data["mottagare"]["kulturnamnden"].update(status="skickas", svar=None)
    data["mottagare"]["kulturnamnden"]["tidigare"] = []
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    result = send(out, "--skarpt")
    assert result.exit_code == 0, result.output
    assert len(smtp.received) == 6 and smtp.received[-1][1] == ["info@liseberg.example.com"]
    assert "[brevet eller adressen har ändrats sedan det skickades]" in result.output
    assert "Osäkra, skickas inte igen (1):" in result.output
    assert "det kan ha kommit fram" in result.output and "--igen --till kulturnamnden" in result.output
    assert log_of(out)["kulturnamnden"]["status"] == "skickas"  # left for the user to decide


def test_a_plan_made_before_another_run_sent_is_not_sent(out: Path, smtp: Handler, smtp_env):
    from generator import send as mailing
    from generator.errors import SendError

    first = mailing.plan_send(UTSKICK, REGISTRY, out)
    second = mailing.plan_send(UTSKICK, REGISTRY, out)
    settings, _ = mailing.load_smtp_settings()
    assert len(mailing.run_send(first, settings).sent) == 5
    with pytest.raises(SendError, match="en annan körning har skickat det här utskicket"):
        mailing.run_send(second, settings)
    assert len(smtp.received) == 5


# --- current letters: the fingerprint written with them, nothing rendered again ------------------


def _copies(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Return copies of the utskick (same folder name), the registry and the följebrev template."""
    utskick = Path(shutil.copytree(UTSKICK, tmp_path / "kopia" / NAME))
    registry = Path(shutil.copy(REGISTRY, tmp_path / "organisationer.yaml"))
    mallar = tmp_path / "mallar"
    mallar.mkdir()
    shutil.copy(Path(__file__).resolve().parents[1] / "templates" / "docx" / "foljebrev.docx", mallar)
    return utskick, registry, mallar


def test_each_letter_in_the_manifest_carries_its_input_fingerprint(out: Path):
    manifest = json.loads((out / "utskick" / NAME / "manifest.json").read_text(encoding="utf-8"))
    by_file = {d["fil"]: d for d in manifest["dokument"]}
    assert by_file["liseberg.docx"]["fingeravtryck"] == by_file["liseberg.pdf"]["fingeravtryck"]
    assert by_file["liseberg.docx"]["fingeravtryck"] != by_file["higab.docx"]["fingeravtryck"]
    assert all(len(d["fingeravtryck"]) == 64 for d in manifest["dokument"])


def test_a_changed_utskick_registry_entry_or_template_is_refused(tmp_path: Path, out: Path):
    from generator import send as mailing
    from generator.errors import SendError

    utskick, registry, mallar = _copies(tmp_path)
    stale = "brevet stämmer inte längre med utskicket, registret eller mallen"
    # Copies with the same bytes give the same letters: the paths are not part of the fingerprint.
    assert len(mailing.plan_send(utskick, registry, out, templates=mallar).having(mailing.SKICKA)) == 5

    text = (utskick / "utskick.yaml").read_text(encoding="utf-8")
    (utskick / "utskick.yaml").write_text(text.replace("två handlingsplaner", "tre handlingsplaner"), encoding="utf-8")
    with pytest.raises(SendError, match=f"5 brev kan inte skickas som de är:(.|\n)*liseberg: {stale}"):
        mailing.plan_send(utskick, registry, out, templates=mallar)
    (utskick / "utskick.yaml").write_text(text, encoding="utf-8")

    names = registry.read_text(encoding="utf-8")
    registry.write_text(names.replace("namn: Liseberg AB", "namn: Liseberg Aktiebolag"), encoding="utf-8")
    with pytest.raises(SendError, match=f"1 brev kan inte skickas som de är:\n  liseberg: {stale}"):
        mailing.plan_send(utskick, registry, out, templates=mallar)
    registry.write_text(names, encoding="utf-8")

    template = mallar / "foljebrev.docx"
    template.write_bytes(template.read_bytes() + b"\0")  # any byte of the template may change the letter
    with pytest.raises(SendError, match=f"5 brev kan inte skickas som de är:(.|\n)*liseberg: {stale}"):
        mailing.plan_send(utskick, registry, out, templates=mallar)


def test_a_manifest_without_fingerprints_is_refused(out: Path):
    from generator import send as mailing
    from generator.errors import SendError

    path = out / "utskick" / NAME / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    for entry in manifest["dokument"]:  # as an earlier version of beslut wrote it
        entry.pop("fingeravtryck")
    path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(SendError, match="5 brev kan inte skickas som de är"):
        mailing.plan_send(UTSKICK, REGISTRY, out)


def test_the_dry_run_renders_no_letter(out: Path, monkeypatch):
    from generator import letters
    from generator import send as mailing

    calls: list[str] = []
    for name in ("render_letter", "letter_skeleton", "render_docx"):
        real = getattr(letters, name)
        monkeypatch.setattr(letters, name, lambda *a, _real=real, _name=name, **k: (calls.append(_name), _real(*a, **k))[1])
    loaded = load_utskick(UTSKICK)
    org = load_organisationer(REGISTRY).organisationer[0]
    template = Path(__file__).resolve().parents[1] / "templates" / "docx" / "foljebrev.docx"
    letters.render_letter(loaded, org, out / "probe.docx", template)
    assert calls[0] == "render_letter" and "letter_skeleton" in calls  # the counters count
    calls.clear()

    plan = mailing.plan_send(UTSKICK, REGISTRY, out)
    assert len(plan.having(mailing.SKICKA)) == 5
    assert calls == []
