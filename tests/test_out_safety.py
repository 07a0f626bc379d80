"""Nothing of the user's is overwritten, and a full disk is exit 7 with nothing half-written.

The --out cases build the sample (a copy of it) with --out at the folder that holds the
ärende, at the ärende itself, and through symbolic links into it: each is refused and
every file of the ärende stays byte-identical. The full-disk cases use a real small file
system: a 2 MB tmpfs mounted for the test (as root, or with sudo) and unmounted after it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ORGANISATIONER, REPO, SAMPLE
from test_convert import needs_libreoffice

from generator.cli import main


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def fingerprint(folder: Path) -> dict[str, str]:
    """Return every file under ``folder`` (relative path) with the sha256 of its bytes."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """Return a copy of the sample ärende, with a file of the user's named like our output."""
    folder = Path(shutil.copytree(SAMPLE, tmp_path / "arenden" / SAMPLE.name))
    (folder / "beslutsunderlag.docx").write_bytes(b"handlaggarens egen fil")  # the name build writes
    for org in ("gota-lejon", "familjebostader"):
        (folder / org).mkdir()
        (folder / org / "beslutsunderlag.docx").write_bytes(b"handlaggarens egen fil, " + org.encode())
    return folder


def build(arende: Path, out: Path, *extra):
    return run("build", arende, "--organisationer", ORGANISATIONER, "--out", out, *extra)


def assert_refused_untouched(result, arende: Path, before: dict[str, str], *expected: str) -> None:
    assert result.exit_code == 2, result.output
    for text in expected:
        assert text in result.stderr, (text, result.stderr)
    assert "Traceback" not in result.output
    assert fingerprint(arende) == before  # every file byte-identical, nothing added


# --- --out never leads into what the user wrote ------------------------------------------------


def test_out_at_the_folder_holding_the_arende_is_refused(sample: Path):
    before = fingerprint(sample)
    result = build(sample, sample.parent)
    assert_refused_untouched(result, sample, before, "innehåller innehållsmappen", "Välj en egen mapp")


def test_out_at_the_arende_itself_is_refused(sample: Path):
    before = fingerprint(sample)
    assert_refused_untouched(build(sample, sample), sample, before, "ligger i innehållsmappen")


def test_out_arende_as_a_symlink_to_the_arende_is_refused(sample: Path, tmp_path: Path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "arenden").mkdir()
    (out / "arenden" / sample.name).symlink_to(sample, target_is_directory=True)
    before = fingerprint(sample)
    assert_refused_untouched(build(sample, out), sample, before, "är en symbolisk länk", "ta bort länken")


def test_out_itself_a_symlink_into_the_arende_is_refused(sample: Path, tmp_path: Path):
    link = tmp_path / "ut"
    link.symlink_to(sample / "bilagor", target_is_directory=True)
    before = fingerprint(sample)
    assert_refused_untouched(build(sample, link), sample, before, "ligger i innehållsmappen")


def test_a_symlink_deeper_in_out_is_refused(sample: Path, tmp_path: Path):
    """A link at out/<ärende>/<organisation>/ (or the cache) is refused like one at out/<ärende>/."""
    out = tmp_path / "out"
    (out / "arenden" / sample.name).mkdir(parents=True)
    (out / "arenden" / sample.name / "gota-lejon").symlink_to(sample / "gota-lejon", target_is_directory=True)
    before = fingerprint(sample)
    assert_refused_untouched(build(sample, out), sample, before, "gota-lejon i utmappen är en symbolisk länk")
    (out / "arenden" / sample.name / "gota-lejon").unlink()
    (out / ".cache").symlink_to(sample, target_is_directory=True)
    assert_refused_untouched(build(sample, out), sample, before, "ligger i innehållsmappen")  # the cache's link


def test_a_file_in_out_that_is_a_link_is_refused_not_followed(sample: Path, tmp_path: Path):
    out = tmp_path / "out"
    (out / "arenden" / sample.name / "gota-lejon").mkdir(parents=True)
    (out / "arenden" / sample.name / "gota-lejon" / "beslutsunderlag.docx").symlink_to(sample / "beslutsunderlag.docx")
    before = fingerprint(sample)
    result = run("render", sample, "--organisationer", ORGANISATIONER, "--out", out)
    assert_refused_untouched(result, sample, before, "beslutsunderlag.docx i utmappen är en symbolisk länk")


# --- a full disk: exit 7, no run folder, earlier output intact ---------------------------------


@contextmanager
def small_disk(folder: Path, size: str):
    """Mount a tmpfs of ``size`` on ``folder`` for the block; unmount it after, whatever happens.

    Root mounts it directly; anyone else needs passwordless sudo. Never skipped: a machine
    that can do neither fails the test with what to do.
    """
    folder.mkdir(parents=True, exist_ok=True)
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    mounted = subprocess.run([*sudo, "mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.fail(f"kan inte montera en liten tmpfs ({mounted.stderr.strip()}): kör testerna som root "
                    "eller med lösenordsfri sudo")
    try:
        yield folder
    finally:
        subprocess.run([*sudo, "umount", "-l", str(folder)], check=False)


@needs_libreoffice
def test_build_on_a_full_disk_is_exit_7_with_no_run_folder_and_earlier_output_intact(tmp_path: Path):
    with small_disk(tmp_path / "out", "2m") as out:
        first = run("render", SAMPLE, "--organisationer", ORGANISATIONER, "--out", out)
        assert first.exit_code == 0, first.output
        earlier = fingerprint(out)
        result = build(SAMPLE, out)
        assert result.exit_code == 7, result.output
        assert "disken är full" in result.stderr and "Traceback" not in result.output
        assert "programfel" not in result.output
        assert not (out / ".beslut-arbete").exists()
        leftovers = [p for p in out.rglob(".*") if p.name != ".cache"]
        assert leftovers == []  # no half-written temporary file beside the output
        now = fingerprint(out)
        # Each recipient's package is whole: its earlier .docx as it was, or the new one it committed.
        for name, digest in earlier.items():
            if name.endswith("manifest.json"):
                continue  # rewritten by every run, checked below against what it lists
            folder = str(Path(name).parent)
            replaced = any(n.startswith(folder) and n.endswith("handlingar.pdf") for n in now)
            assert replaced or now.get(name) == digest, name
        assert sum(n.endswith("handlingar.pdf") for n in now) < 3  # the disk did stop some
        manifest = json.loads((out / "arenden" / SAMPLE.name / "manifest.json").read_text(encoding="utf-8"))
        for entry in manifest["dokument"]:  # what the manifest lists is there, whole
            assert now[f"arenden/{SAMPLE.name}/{entry['fil']}"] == entry["sha256"], entry
        assert all("disken är full" in failure["orsak"] for failure in manifest["fel"])


@needs_libreoffice
def test_a_full_tmpdir_is_exit_7_and_leaves_no_run_folder(tmp_path: Path):
    with small_disk(tmp_path / "tmp", "600k") as tmpdir:
        env = {**os.environ, "TMPDIR": str(tmpdir), "PYTHONPATH": str(REPO)}
        result = subprocess.run(
            [sys.executable, "-m", "generator", "build", str(SAMPLE), "--organisationer", str(ORGANISATIONER),
             "--out", str(tmp_path / "out")], env=env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 7, result.stderr
        assert "det finns inte plats för LibreOffices tillfälliga filer" in result.stderr
        assert "TMPDIR" in result.stderr and "Traceback" not in result.stderr
        assert list(tmpdir.iterdir()) == []  # the run's folder is gone
    assert not (tmp_path / "out" / ".beslut-arbete").exists()


def test_new_on_a_read_only_or_full_file_system_is_exit_7_in_swedish(tmp_path: Path):
    with small_disk(tmp_path / "full", "64k") as full:
        _fill(full)
        result = run("new", full / "nytt", "--organisation", "gota-lejon", "--organisationer", ORGANISATIONER)
        assert result.exit_code == 7, result.output
        assert "disken är full" in result.stderr and "No space" not in result.output
        assert not (full / "nytt").exists() and not [p for p in full.iterdir() if p.name.startswith(".")]
    readonly = tmp_path / "skrivskyddad"
    readonly.mkdir()
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    with small_disk(readonly, "64k"):
        subprocess.run([*sudo, "mount", "-o", "remount,ro", str(readonly)], check=True)
        result = run("new", readonly / "nytt", "--organisation", "gota-lejon", "--organisationer", ORGANISATIONER)
        assert result.exit_code == 7, result.output
        assert "går bara att läsa" in result.stderr and "Read-only" not in result.output


def _fill(folder: Path) -> None:
    """Fill the file system of ``folder`` to the last byte."""
    with open(folder / "fyllnad", "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError:
            pass


# --- LibreOffice leaves nothing outside the run's folder -------------------------------------


@needs_libreoffice
def test_libreoffices_pipe_in_tmp_is_removed_when_it_stops(tmp_path: Path):
    """LibreOffice makes its OSL_PIPE in /tmp whatever TMPDIR says; the converter removes it."""
    from generator.convert import Converter
    from generator.officeserver import office_pipes

    converter = Converter(workdir=tmp_path / "arbete")
    converter.start()
    try:
        profile = converter.profile_dir
        assert profile is not None
        pipes = office_pipes(profile)
        assert any(p.is_socket() for p in pipes), pipes  # the name is computed right: it is there
    finally:
        converter.close()
    assert not any(p.exists() for p in pipes)


@needs_libreoffice
def test_a_build_leaves_no_new_osl_pipe_in_tmp(tmp_path: Path):
    """Run in a process of its own; its pipes are those named after its profiles (in its TMPDIR)."""
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from generator import officeserver\n"
        "made = []\n"
        "original = officeserver.office_pipes\n"
        "def spy(profile):\n"
        "    made.extend(original(profile))\n"
        "    return original(profile)\n"
        "officeserver.office_pipes = spy\n"
        "from generator.beslut import main\n"
        "try:\n"
        "    main(sys.argv[1:])\n"
        "finally:\n"
        "    Path(sys.argv[-1]).parent.joinpath('pipes.txt').write_text('\\n'.join(map(str, made)))\n"
    )
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-c", script, "build", str(SAMPLE), "--organisationer", str(ORGANISATIONER),
         "--out", str(out)], env={**os.environ, "TMPDIR": str(tmpdir), "PYTHONPATH": str(REPO)},
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    pipes = [Path(line) for line in (tmp_path / "pipes.txt").read_text().splitlines()]
    assert pipes and all(p.name.startswith("OSL_PIPE_") for p in pipes)
    assert not any(p.exists() for p in pipes)
    assert list(tmpdir.iterdir()) == []


def test_a_full_tmpdir_is_said_as_such_not_as_out(tmp_path: Path, monkeypatch):
    import errno
    import tempfile

    from generator.runtemp import describe_temp_error

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    inside = OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "beslut-run-1-2-x" / "a.pdf"))
    assert "låt miljövariabeln TMPDIR peka på en mapp med mer plats" in describe_temp_error(inside)
    assert describe_temp_error(OSError(errno.ENOSPC, "No space", "/annan/plats/a.pdf")) is None
    assert describe_temp_error(OSError(errno.EACCES, "Permission denied", str(tmp_path / "a"))) is None
