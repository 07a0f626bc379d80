"""Paths stay inside, output never lands on input, and every failure has a Swedish message and code."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import ORGANISATIONER, REPO, VALID_ARENDE, write_arende

from generator.cli import main


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def with_bilaga(tmp_path: Path, fil: str) -> Path:
    return write_arende(tmp_path / "arende", dict(VALID_ARENDE, bilagor=[{"titel": "Bilagan", "fil": fil}]))


def assert_refused(result, code: int, *expected: str) -> None:
    assert result.exit_code == code, result.output
    for text in expected:
        assert text in result.stderr, (text, result.stderr)
    assert "Traceback" not in result.output


# --- bilagor stay inside the ärende ----------------------------------------------------------


def test_bilaga_outside_the_arende_is_refused(tmp_path: Path):
    (tmp_path / "hemlig.pdf").write_bytes(b"%PDF-1.4 hemlig")
    folder = with_bilaga(tmp_path, "../hemlig.pdf")
    result = run("validate", folder)
    assert_refused(result, 3, "utanför ärendets mapp", "rad ", "bilagor[1].fil")


def test_absolute_bilaga_path_is_refused(tmp_path: Path):
    (tmp_path / "hemlig.pdf").write_bytes(b"%PDF-1.4 hemlig")
    folder = with_bilaga(tmp_path, str(tmp_path / "hemlig.pdf"))
    assert_refused(run("validate", folder), 3, "absolut sökväg")


def test_symlink_pointing_out_is_refused(tmp_path: Path):
    (tmp_path / "hemlig.pdf").write_bytes(b"%PDF-1.4 hemlig")
    folder = with_bilaga(tmp_path, "lank.pdf")
    (folder / "lank.pdf").symlink_to(tmp_path / "hemlig.pdf")
    assert_refused(run("build", folder, "--out", tmp_path / "out"), 3, "symbolisk länk")
    assert not (tmp_path / "out").exists()


def test_bilaga_that_is_a_folder_or_not_a_file(tmp_path: Path):
    folder = with_bilaga(tmp_path, "mapp")
    (folder / "mapp").mkdir()
    assert_refused(run("validate", folder), 3, "är en mapp")
    folder2 = write_arende(tmp_path / "andra", dict(VALID_ARENDE, bilagor=[{"titel": "B", "fil": "fifo"}]))
    os.mkfifo(folder2 / "fifo")
    assert_refused(run("validate", folder2), 3, "ingen vanlig fil")


def test_bilaga_name_in_another_case_gets_a_hint(tmp_path: Path):
    folder = with_bilaga(tmp_path, "budget-2025.xlsx")
    (folder / "Budget-2025.xlsx").write_bytes(b"PK")
    assert_refused(run("validate", folder), 3, "finns som 'Budget-2025.xlsx'")


def test_arende_yaml_with_diacritics_gets_a_hint(tmp_path: Path):
    folder = write_arende(tmp_path / "arende", dict(VALID_ARENDE))
    (folder / "arende.yaml").rename(folder / "ärende.yaml")
    assert_refused(run("validate", folder), 3, "'ärende.yaml'", "byt namn")


def shared(tmp_path: Path) -> Path:
    data = {k: v for k, v in VALID_ARENDE.items() if k != "organisation"}
    folder = write_arende(tmp_path / "gemensamt", data)
    (folder / "organisationer").mkdir()
    (folder / "organisationer" / "gota-lejon.yaml").write_text("diarienummer: '1'\n", encoding="utf-8")
    return folder


@pytest.mark.parametrize("name", ["liseberg.yml", "liseberg.YAML"])
def test_override_with_another_extension_is_an_error_not_ignored(tmp_path: Path, name: str):
    folder = shared(tmp_path)
    (folder / "organisationer" / name).write_text("diarienummer: '2'\n", encoding="utf-8")
    assert_refused(run("validate", folder), 3, name, "'liseberg.yaml'")


def test_stray_file_among_overrides_is_an_error(tmp_path: Path):
    folder = shared(tmp_path)
    (folder / "organisationer" / "anteckningar.txt").write_text("x", encoding="utf-8")
    assert_refused(run("validate", folder), 3, "anteckningar.txt", "<id>.yaml")


# --- output never lands on input -------------------------------------------------------------


def test_out_inside_the_arende_is_refused(tmp_path: Path):
    folder = write_arende(tmp_path / "arende", dict(VALID_ARENDE))
    before = sorted(p.name for p in folder.iterdir())
    assert_refused(run("build", folder, "--out", folder), 2, "utmappen")
    assert_refused(run("render", folder, "--out", folder / "ut"), 2, "utmappen")
    assert sorted(p.name for p in folder.iterdir()) == before


def test_out_inside_the_content_folder_is_refused(tmp_path: Path):
    content = tmp_path / "content"
    content.mkdir()
    registry = content / "organisationer.yaml"
    registry.write_bytes(ORGANISATIONER.read_bytes())
    folder = write_arende(content / "arenden" / "x", dict(VALID_ARENDE))
    assert_refused(run("render", folder, "--organisationer", registry, "--out", content / "out"), 2, "utmappen")


def test_dot_dot_as_arende_uses_the_folders_real_name(tmp_path: Path, monkeypatch):
    folder = write_arende(tmp_path / "mitt-arende", dict(VALID_ARENDE))
    (folder / "bilagor").mkdir()
    monkeypatch.chdir(folder / "bilagor")
    result = run("render", "..", "--organisationer", ORGANISATIONER, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "arenden" / "mitt-arende" / "beslutsunderlag.docx").is_file()
    assert [p.name for p in tmp_path.iterdir() if p.name != "mitt-arende"] == ["out"]


# --- one error contract ------------------------------------------------------------------------


def test_out_under_a_file_is_a_swedish_environment_error(tmp_path: Path):
    folder = write_arende(tmp_path / "arende", dict(VALID_ARENDE))
    blocker = tmp_path / "fil"
    blocker.write_text("en fil, inte en mapp")
    result = run("render", folder, "--out", blocker / "out")
    assert_refused(result, 7, "inte en mapp")


def test_unknown_recipient_in_till_is_a_command_line_error(tmp_path: Path):
    utskick = REPO / "content" / "utskick" / "2023-08-handlingsplaner"
    assert_refused(run("letters", utskick, "--out", tmp_path, "--till", "lisberg"), 2, "--till", "liseberg")


def test_a_bug_says_so_and_exits_70(tmp_path: Path, monkeypatch):
    from generator import pipeline

    def broken(*args, **kwargs):
        raise RuntimeError("internt")

    monkeypatch.setattr(pipeline, "plan_arende", broken)
    result = run("render", write_arende(tmp_path / "a", dict(VALID_ARENDE)), "--out", tmp_path / "out")
    assert_refused(result, 70, "programfel", "--debug")


def test_ctrl_c_prints_avbrutet_and_exits_130_without_tracebacks(tmp_path: Path):
    (tmp_path / "content").mkdir()
    registry = tmp_path / "content" / "organisationer.yaml"
    orgs = [{"id": f"bolag-{n}", "namn": f"Bolag {n} AB", "typ": "bolag"} for n in range(200)]
    registry.write_text(yaml.safe_dump({"organisationer": orgs}, allow_unicode=True), encoding="utf-8")
    sample = REPO / "content" / "utskick" / "2023-08-handlingsplaner" / "utskick.yaml"
    data = {k: v for k, v in yaml.safe_load(sample.read_text(encoding="utf-8")).items() if k != "utom"}
    utskick = tmp_path / "content" / "brev"
    utskick.mkdir()
    (utskick / "utskick.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "generator", "letters", str(utskick), "--organisationer", str(registry),
         "--out", str(tmp_path / "out"), "--till", "alla", "--pdf", "--workers", "2"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)}, start_new_session=True)
    staging = tmp_path / "out" / ".beslut-arbete"
    deadline = time.monotonic() + 60
    while not staging.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)  # the run has begun writing (200 letters with PDF take far longer than what follows)
    time.sleep(1.0)
    assert process.poll() is None, "the run ended before it could be interrupted"
    os.killpg(process.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole process group
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, (stdout, stderr)
    assert "Avbrutet." in stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    assert not (tmp_path / "out" / ".beslut-arbete").exists()


def test_misspelt_group_in_till_suggests_the_group(tmp_path: Path):
    utskick = REPO / "content" / "utskick" / "2023-08-handlingsplaner"
    result = run("letters", utskick, "--out", tmp_path, "--till", "namnder")
    assert_refused(result, 2, "Menade du gruppen 'nämnder'?")
