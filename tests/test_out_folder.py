"""The default --out lies beside the content folder in use, and --out inside it is refused helpfully."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from click.testing import CliRunner
from conftest import ORGANISATIONER, VALID_ARENDE, write_arende

from generator.cli import main


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def content_folder(root: Path, name: str) -> Path:
    """Make ``root/name`` a content folder: the registry and one ärende, arenden/nytt."""
    content = root / name
    content.mkdir(parents=True)
    shutil.copy(ORGANISATIONER, content / "organisationer.yaml")
    write_arende(content / "arenden" / "nytt", dict(VALID_ARENDE))
    return content


def test_default_out_from_the_root_and_from_the_arende(tmp_path, monkeypatch):
    content = content_folder(tmp_path, "content")
    monkeypatch.chdir(tmp_path)
    assert run("render", "content/arenden/nytt").exit_code == 0
    monkeypatch.chdir(content / "arenden" / "nytt")
    assert run("render", ".").exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["content", "out"]
    assert (tmp_path / "out" / "arenden" / "nytt" / "beslutsunderlag.docx").is_file()


def test_default_out_beside_a_registry_given_with_organisationer(tmp_path, monkeypatch):
    """A content folder of another name: out/ beside it, not in the current folder inside it."""
    content = content_folder(tmp_path, "mitt-innehall")
    monkeypatch.chdir(content / "arenden" / "nytt")
    result = run("render", ".", "--organisationer", "../../organisationer.yaml")
    assert result.exit_code == 0, result.output + result.stderr
    monkeypatch.chdir(content)
    result = run("render", "arenden/nytt", "--organisationer", "organisationer.yaml")
    assert result.exit_code == 0, result.output + result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mitt-innehall", "out"]
    assert (tmp_path / "out" / "arenden" / "nytt" / "beslutsunderlag.docx").is_file()
    assert not list(content.rglob("out"))


def test_out_inside_the_content_folder_is_refused_with_a_folder_that_works(tmp_path, monkeypatch):
    content = content_folder(tmp_path, "content")
    monkeypatch.chdir(content / "arenden")
    refused = run("render", "nytt", "--out", "ut")
    assert refused.exit_code == 2
    assert "ligger i innehållsmappen" in refused.stderr and not (content / "arenden" / "ut").exists()
    suggested = re.search(r"--out (\S+)\.$", refused.stderr.strip()).group(1)
    assert suggested == "../../out"
    assert run("render", "nytt", "--out", suggested).exit_code == 0
    assert (tmp_path / "out" / "arenden" / "nytt" / "beslutsunderlag.docx").is_file()
