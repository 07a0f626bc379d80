"""CI: a skipped test fails `.ci/run` unless its reason is listed in tests/allowed-skips.txt."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import REPO

CHECK = REPO / ".ci" / "check_skips.py"


def run_pytest_with_a_skip(tmp_path: Path) -> Path:
    """Run pytest on a file with one passing and one skipped test; return its junit report."""
    (tmp_path / "test_x.py").write_text(
        "import pytest\n"
        "def test_ok():\n    assert True\n"
        "@pytest.mark.skipif(True, reason='verktyget saknas')\n"
        "def test_skipped():\n    assert True\n",
        encoding="utf-8",
    )
    junit = tmp_path / "junit.xml"
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_x.py",
                    f"--junitxml={junit}"], cwd=tmp_path, check=True, capture_output=True)
    return junit


def check(junit: Path, allowed: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(CHECK), str(junit), str(allowed)],
                          capture_output=True, text=True)


def test_unlisted_skip_fails_ci(tmp_path: Path):
    junit = run_pytest_with_a_skip(tmp_path)
    allowed = tmp_path / "allowed-skips.txt"
    allowed.write_text("# inga\n", encoding="utf-8")
    result = check(junit, allowed)
    assert result.returncode == 1
    assert "test_skipped: verktyget saknas" in result.stderr


def test_listed_skip_passes_ci(tmp_path: Path):
    junit = run_pytest_with_a_skip(tmp_path)
    allowed = tmp_path / "allowed-skips.txt"
    allowed.write_text("verktyget saknas\n", encoding="utf-8")
    assert check(junit, allowed).returncode == 0


def test_missing_report_fails_ci(tmp_path: Path):
    assert check(tmp_path / "finns-inte.xml", tmp_path / "allowed.txt").returncode == 1


def test_committed_allow_list_is_empty():
    lines = (REPO / "tests" / "allowed-skips.txt").read_text(encoding="utf-8").splitlines()
    assert [line for line in lines if line.strip() and not line.startswith("#")] == []


def test_tests_read_nothing_outside_the_repository():
    for path in (REPO / "tests").rglob("*.py"):
        if path.name == "test_ci.py":
            continue
        text = path.read_text(encoding="utf-8")
        assert "parents[2]" not in text and "REPO.parent" not in text, path
