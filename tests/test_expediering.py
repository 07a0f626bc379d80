"""Expediering: `beslut send SAMMANTRÄDE` mails each recipient the utdrag of its §§.

The sample protokoll is built once (real LibreOffice) in a copy of the content whose
registry gives a few recipients an e-post, and where Göta Lejon gets two §§; each test
sends from its own copy of the out folder to a real aiosmtpd server on 127.0.0.1.
"""

from __future__ import annotations

import email
import json
import shutil
import socket
from email import policy
from pathlib import Path

import pytest
import yaml
from aiosmtpd.controller import Controller
from click.testing import CliRunner
from conftest import REPO

from generator.cli import main

SAMPLE = "2023-10-forskolenamnden"
ADDRESSES = {
    "gota-lejon": "registrator@gotalejon.example.com",
    "liseberg": "info@liseberg.example.com",
    "kommunstyrelsen": "ks@example.org",
    "namnden-for-inkop-och-upphandling": "inkop@example.org",
}
SMTP_ENV = ("HOST", "PORT", "SAKERHET", "ANVANDARE", "LOSENORD", "PER_MINUT", "TIDSGRANS")


def build_with_addresses(root: Path, change) -> str:
    """Copy content/ into ``root`` (the registry giving ``ADDRESSES``), let ``change`` edit the sample
    protokoll's data, build it with ``beslut minutes`` into ``root/out``; return the command's output."""
    content = root / "content"
    shutil.copytree(REPO / "content", content)
    registry = content / "organisationer.yaml"
    text = registry.read_text(encoding="utf-8")
    for org_id, address in ADDRESSES.items():
        text = text.replace(f"{{id: {org_id}, ", f"{{id: {org_id}, e-post: {address}, ", 1)
    registry.write_text(text, encoding="utf-8")
    protokoll = content / "sammantraden" / SAMPLE / "protokoll.yaml"
    data = yaml.safe_load(protokoll.read_text(encoding="utf-8"))
    change(data)
    protokoll.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    result = CliRunner().invoke(main, ["minutes", str(content / "sammantraden" / SAMPLE), "--organisationer",
                                       str(registry), "--out", str(root / "out")])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """Return a root with content/ (registry with addresses) and out/ (the protokoll built)."""
    root = tmp_path_factory.mktemp("expediering")
    build_with_addresses(root, lambda data: data["punkter"][4]["expedieras"].append("gota-lejon"))
    return root


@pytest.fixture
def root(built: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(built, tmp_path / "root"))


class Handler:
    """Keeps what the server received."""

    def __init__(self):
        self.received: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return f"250 2.0.0 Ok: queued as Q{len(self.received)}"

    def messages(self) -> dict[str, email.message.EmailMessage]:
        return {rcpt[0]: email.message_from_bytes(data, policy=policy.default) for _, rcpt, data in self.received}


@pytest.fixture
def smtp(monkeypatch, tmp_path):
    for key in SMTP_ENV:
        monkeypatch.delenv(f"BESLUT_SMTP_{key}", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    handler = Handler()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    for key, value in (("HOST", "127.0.0.1"), ("PORT", str(port)), ("SAKERHET", "ingen"), ("PER_MINUT", "6000")):
        monkeypatch.setenv(f"BESLUT_SMTP_{key}", value)
    yield handler
    controller.stop(no_assert=True)


def send(root: Path, *args: str):
    content = root / "content"
    return CliRunner().invoke(main, ["send", str(content / "sammantraden" / SAMPLE), "--organisationer",
                                     str(content / "organisationer.yaml"), "--out", str(root / "out"), *args],
                              catch_exceptions=False)


def test_the_dry_run_lists_who_gets_which_paragraphs_and_sends_nothing(root, smtp):
    result = send(root)
    assert result.exit_code == 0, result.output
    assert "Skickas (4):" in result.output
    assert "registrator@gotalejon.example.com  §§ 115, 116 (2 PDF" in result.output
    assert "inkop@example.org  § 116 (1 PDF" in result.output
    assert "Utan e-post, skickas inte" in result.output
    assert "Göteborg Energi AB  § 115  (ingen 'e-post' i registret)" in result.output
    assert "Förskoleförvaltningen, enheten för upphandling  § 116  (ingen organisation i registret)" in result.output
    assert "Provkörning: inget skickades" in result.output and "4 meddelanden" in result.output
    assert smtp.received == []
    assert not (root / "out" / "sammantraden" / SAMPLE / "expediering-logg.json").exists()


def test_one_message_per_recipient_with_its_utdrag_and_a_rerun_sends_nothing(root, smtp):
    result = send(root, "--skarpt")
    assert result.exit_code == 0, result.output
    messages = smtp.messages()
    assert sorted(messages) == sorted(ADDRESSES.values())
    assert len(smtp.received) == len(ADDRESSES)
    folder = root / "out" / "sammantraden" / SAMPLE
    expected = {"registrator@gotalejon.example.com": [115, 116], "info@liseberg.example.com": [115],
                "ks@example.org": [115], "inkop@example.org": [116]}
    for address, numbers in expected.items():
        msg = messages[address]
        assert msg["From"].addresses[0].addr_spec == "forskoleforvaltningen@example.goteborg.se"
        attachments = list(msg.iter_attachments())
        assert [a.get_filename() for a in attachments] == [
            f"Protokollsutdrag Förskolenämnden 2023-10-24 § {n}.pdf" for n in numbers]
        for attachment, n in zip(attachments, numbers, strict=True):
            assert attachment.get_content() == (folder / f"protokollsutdrag-§{n}.pdf").read_bytes()
        body = msg.get_body(preferencelist=("plain",)).get_content()
        for n in numbers:
            assert f"§ {n} " in body
    assert "§§ 115, 116" in messages["registrator@gotalejon.example.com"]["Subject"]
    assert "Tilldelningsbeslut i upphandling" in messages["inkop@example.org"].get_body(
        preferencelist=("plain",)).get_content()
    log = json.loads((folder / "expediering-logg.json").read_text(encoding="utf-8"))["mottagare"]
    assert log["gota-lejon"]["status"] == "skickat" and log["gota-lejon"]["paragrafer"] == [115, 116]

    again = send(root, "--skarpt")
    assert again.exit_code == 0, again.output
    assert len(smtp.received) == len(ADDRESSES)
    assert "Redan skickade" in again.output and "Klart: 0 av 0 skickade" in again.output


def test_a_protokoll_changed_after_the_build_is_not_sent(root, smtp):
    protokoll = root / "content" / "sammantraden" / SAMPLE / "protokoll.yaml"
    protokoll.write_text(protokoll.read_text(encoding="utf-8").replace(
        "Bifall till förvaltningens förslag.", "Bifall till förslaget."), encoding="utf-8")
    result = send(root, "--skarpt")
    assert result.exit_code == 9
    assert "har ändrats sedan protokollsutdragen skapades" in result.output
    assert "beslut minutes" in result.output
    assert smtp.received == []


def test_an_arende_changed_after_the_build_is_not_sent(root, smtp):
    arende = root / "content" / "arenden" / "2023-10-lokalvard" / "arende.yaml"
    arende.write_text(arende.read_text(encoding="utf-8").replace("område Nordost", "område Hisingen"),
                      encoding="utf-8")
    result = send(root, "--skarpt")
    assert result.exit_code == 9 and "har ändrats sedan protokollsutdragen skapades" in result.output
    assert smtp.received == []


def test_till_sends_only_to_the_named_recipients(root, smtp):
    result = send(root, "--skarpt", "--till", "gota-lejon")
    assert result.exit_code == 0, result.output
    assert list(smtp.messages()) == ["registrator@gotalejon.example.com"]
    rest = send(root, "--skarpt")
    assert rest.exit_code == 0 and len(smtp.received) == len(ADDRESSES)
    assert "Redan skickade, skickas inte igen (--igen skickar ändå) (1):" in rest.output


def test_nothing_is_sent_before_the_protokoll_is_built(root, smtp):
    shutil.rmtree(root / "out")
    result = send(root, "--skarpt")
    assert result.exit_code == 9
    assert "protokollet är inte byggt" in result.output and "beslut minutes" in result.output
    assert smtp.received == []
