"""The one engine: every command plans jobs and runs them; one report, one exit-code rule."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import docx
import yaml
from click.testing import CliRunner
from conftest import ORGANISATIONER, REPO, SAMPLE, VALID_ARENDE, docx_lines, write_arende

from generator import pipeline
from generator.cli import main
from generator.jobs import LetterJob, PaperJob


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def corrupt_pdf() -> bytes:
    return b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\ntrasig"


def shared_arende(folder: Path, org_ids: list[str]) -> Path:
    shared = {k: v for k, v in VALID_ARENDE.items() if k not in ("organisation", "handläggare")}
    write_arende(folder, shared)
    (folder / "organisationer").mkdir()
    for org_id in org_ids:
        override = {"handläggare": {"namn": f"Handläggare {org_id}", "telefon": "031-1",
                                    "e-post": f"{org_id}@example.org"}}
        (folder / "organisationer" / f"{org_id}.yaml").write_text(
            yaml.safe_dump(override, allow_unicode=True), encoding="utf-8")
    return folder


def test_single_and_shared_arende_fail_alike_on_a_corrupt_bilaga(tmp_path: Path):
    single = write_arende(tmp_path / "ett", dict(VALID_ARENDE))
    shared = shared_arende(tmp_path / "gemensamt", ["gota-lejon", "liseberg"])
    for folder in (single, shared):
        (folder / "bilaga.pdf").write_bytes(corrupt_pdf())
    one = run("build", single, "--out", tmp_path / "out")
    other = run("build", shared, "--organisation", "gota-lejon", "--out", tmp_path / "out")
    assert one.exit_code == other.exit_code == 6
    for result in (one, other):
        assert "Klart: 0 av 1 mottagare, 0 filer." in result.stdout
        assert "1 misslyckades:" in result.stderr
        assert "gota-lejon (Försäkrings AB Göta Lejon): " in result.stderr
        assert "Bilaga 1" in result.stderr
    # Nothing of either failed package is written (only the manifests that record the failure).
    written = sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert written == ["arenden/ett/manifest.json", "arenden/gemensamt/manifest.json"]


def test_some_failed_gives_1_all_failed_gives_the_stage_code(tmp_path: Path):
    shared = shared_arende(tmp_path / "gemensamt", ["gota-lejon", "liseberg"])
    (shared / "organisationer" / "liseberg.yaml").write_text(
        "handläggare: {namn: L, telefon: '1', e-post: l@example.org}\nbilagor:\n"
        "  - {titel: Trasig, fil: trasig.pdf}\n", encoding="utf-8")
    (shared / "trasig.pdf").write_bytes(corrupt_pdf())
    result = run("build", shared, "--out", tmp_path / "out")
    assert result.exit_code == 1
    assert "Klart: 1 av 2 mottagare" in result.stdout


def test_a_second_run_in_one_process_sees_an_edited_override(tmp_path: Path):
    folder = shared_arende(tmp_path / "gemensamt", ["gota-lejon", "liseberg", "higab", "boplats"])
    out = tmp_path / "out"
    first = pipeline.run(pipeline.plan_arende(folder, ORGANISATIONER, out), workers=2)
    assert not first.failed
    assert "Handläggare liseberg" in docx_lines(out / "arenden" / "gemensamt" / "liseberg" / "beslutsunderlag.docx")
    override = folder / "organisationer" / "liseberg.yaml"
    override.write_text(override.read_text(encoding="utf-8").replace("Handläggare liseberg", "Ny Person"),
                        encoding="utf-8")
    second = pipeline.run(pipeline.plan_arende(folder, ORGANISATIONER, out), workers=2)
    assert not second.failed
    lines = docx_lines(out / "arenden" / "gemensamt" / "liseberg" / "beslutsunderlag.docx")
    assert "Ny Person" in " ".join(lines) and "Handläggare liseberg" not in " ".join(lines)


def test_jobs_carry_their_content_and_paths(tmp_path: Path):
    plan = pipeline.plan_arende(SAMPLE, ORGANISATIONER, tmp_path, bundle=True)
    assert [type(j) for j in plan.jobs] == [PaperJob] * 3
    gota = next(j for j in plan.jobs if j.org_id == "gota-lejon")
    assert gota.outputs.bundle == tmp_path / "arenden" / SAMPLE.name / "gota-lejon" / "handlingar.pdf"
    assert [b.rubrik for b in gota.bilagor][0] == "Bilaga 1 – Presentationsmaterial om handlingsplaner"
    assert all(b.source.is_file() for b in gota.bilagor)
    letters = pipeline.plan_utskick(REPO / "content" / "utskick" / "2023-08-handlingsplaner",
                                    ORGANISATIONER, tmp_path, org_ids=["liseberg"], pdf=True)
    assert [type(j) for j in letters.jobs] == [LetterJob]
    assert letters.jobs[0].outputs.pdf == tmp_path / "utskick" / "2023-08-handlingsplaner" / "liseberg.pdf"


def test_failed_rebuild_leaves_the_previous_package_whole(tmp_path: Path):
    folder = write_arende(tmp_path / "arende", dict(VALID_ARENDE, rubrik="Version ETT"))
    out = tmp_path / "out"
    assert run("build", folder, "--out", out).exit_code == 0
    package = out / "arenden" / "arende"
    before = {p.name: p.read_bytes() for p in package.iterdir() if p.suffix in (".docx", ".pdf")}
    assert set(before) == {"beslutsunderlag.docx", "beslutsunderlag.pdf", "handlingar.pdf"}
    yaml_file = folder / "arende.yaml"
    yaml_file.write_text(yaml_file.read_text(encoding="utf-8").replace("Version ETT", "Version TVÅ"),
                         encoding="utf-8")
    (folder / "bilaga.pdf").write_bytes(corrupt_pdf())
    result = run("build", folder, "--out", out)
    assert result.exit_code == 6
    after = {p.name: p.read_bytes() for p in package.iterdir() if p.suffix in (".docx", ".pdf")}
    assert after == before, "ett misslyckat bygge får inte blanda ny och gammal version"
    assert "Version ETT" in docx_lines(package / "beslutsunderlag.docx")
    assert not [p for p in out.rglob(".*") if p.name != ".cache" and ".cache" not in p.parts]
    manifest = json.loads((package / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["misslyckade"] == 1 and "Bilaga 1" in manifest["fel"][0]["orsak"]


def test_a_letters_run_removes_letters_for_recipients_it_no_longer_has(tmp_path: Path):
    utskick = REPO / "content" / "utskick" / "2023-08-handlingsplaner"
    out = tmp_path / "out"
    assert run("letters", utskick, "--out", out, "--till", "liseberg", "--till", "forskolenamnden").exit_code == 0
    folder = out / "utskick" / utskick.name
    own = folder / "anteckningar.txt"
    own.write_text("egen fil", encoding="utf-8")
    result = run("letters", utskick, "--out", out, "--till", "bolag")
    assert result.exit_code == 0
    assert not (folder / "forskolenamnden.docx").exists()
    assert (folder / "liseberg.docx").exists()
    assert "Tog bort 1 filer från en tidigare körning" in result.stdout
    assert "forskolenamnden.docx" in result.stdout
    assert own.read_text(encoding="utf-8") == "egen fil"


def test_limited_shared_run_keeps_the_other_organisations(tmp_path: Path):
    folder = shared_arende(tmp_path / "gemensamt", ["gota-lejon", "liseberg"])
    out = tmp_path / "out"
    assert run("render", folder, "--out", out).exit_code == 0
    assert run("render", folder, "--out", out, "--organisation", "liseberg").exit_code == 0
    assert (out / "arenden" / "gemensamt" / "gota-lejon" / "beslutsunderlag.docx").exists()
    manifest = json.loads((out / "arenden" / "gemensamt" / "manifest.json").read_text(encoding="utf-8"))
    assert {d["mottagare"] for d in manifest["dokument"]} == {"gota-lejon", "liseberg"}


def test_stale_staging_of_a_killed_run_is_removed(tmp_path: Path):
    out = tmp_path / "out"
    dead = out / ".beslut-arbete" / "999999999-1-abc"  # <pid>-<start>-…: a process that is gone
    dead.mkdir(parents=True)
    (dead / ".halvfärdig.pdf").write_bytes(b"%PDF-trunk")
    folder = write_arende(tmp_path / "arende", dict(VALID_ARENDE))
    assert run("render", folder, "--out", out).exit_code == 0
    assert not (out / ".beslut-arbete").exists()


def test_rebuild_reuses_converted_bilagor(tmp_path: Path):
    folder = write_arende(tmp_path / "arende", dict(VALID_ARENDE, bilagor=[
        {"titel": "Word-bilaga", "fil": "bilaga.docx"}]))
    document = docx.Document()
    document.add_paragraph("Innehållet i bilagan.")
    document.save(str(folder / "bilaga.docx"))
    out = tmp_path / "out"
    assert run("build", folder, "--out", out).exit_code == 0
    cached = list((out / ".cache" / "bilagor").glob("*.pdf"))
    assert len(cached) == 1
    stamp = cached[0].stat().st_mtime_ns
    assert run("build", folder, "--out", out).exit_code == 0
    assert list((out / ".cache" / "bilagor").glob("*.pdf")) == cached
    assert cached[0].stat().st_mtime_ns == stamp, "en oförändrad bilaga ska inte göras om igen"
    document.add_paragraph("Ändrad.")
    document.save(str(folder / "bilaga.docx"))
    assert run("build", folder, "--out", out).exit_code == 0
    assert len(list((out / ".cache" / "bilagor").glob("*.pdf"))) == 2
    text = subprocess.run(["pdftotext", str(out / "arenden" / "arende" / "handlingar.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert "Ändrad." in text


# --- templates as the user's files ---------------------------------------------------------


def test_templates_command_passes_on_the_shipped_templates():
    result = run("templates")
    assert result.exit_code == 0
    assert "beslutsunderlag.docx" in result.stdout and "foljebrev.docx" in result.stdout


def edited_templates(tmp_path: Path, extra: str) -> Path:
    folder = tmp_path / "mallar"
    shutil.copytree(REPO / "templates" / "docx", folder)
    document = docx.Document(str(folder / "beslutsunderlag.docx"))
    document.add_paragraph(extra)
    document.save(str(folder / "beslutsunderlag.docx"))
    return folder


def test_templates_command_names_an_unknown_variable(tmp_path: Path):
    folder = edited_templates(tmp_path, "{{ okand_variabel }}")
    result = run("templates", folder)
    assert result.exit_code == 4
    assert "okand_variabel" in result.stderr and "beslutsunderlag.docx" in result.stderr
    assert "undefined" not in result.stderr


def test_templates_command_names_a_missing_style(tmp_path: Path):
    folder = tmp_path / "mallar"
    shutil.copytree(REPO / "templates" / "docx", folder)
    document = docx.Document(str(folder / "foljebrev.docx"))
    style = document.styles["List Bullet"]
    style.element.getparent().remove(style.element)
    document.save(str(folder / "foljebrev.docx"))
    result = run("templates", folder)
    assert result.exit_code == 4
    assert "'List Bullet'" in result.stderr and "foljebrev.docx" in result.stderr


def test_render_with_edited_templates(tmp_path: Path):
    folder = edited_templates(tmp_path, "Egen rad i mallen för {{ organisation }}.")
    assert run("templates", folder).exit_code == 0
    arende = write_arende(tmp_path / "arende", dict(VALID_ARENDE))
    result = run("render", arende, "--out", tmp_path / "out", "--mallar", folder)
    assert result.exit_code == 0, result.output
    lines = docx_lines(tmp_path / "out" / "arenden" / "arende" / "beslutsunderlag.docx")
    assert "Egen rad i mallen för Försäkrings AB Göta Lejon." in lines


def test_pyproject_lists_every_package():
    """setuptools ships only the packages pyproject names (a new subpackage is otherwise left out)."""
    import tomllib

    listed = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"]
    found = sorted(".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "generator").rglob("__init__.py"))
    assert [p for p in found if p not in listed] == []


def test_an_installed_wheel_renders_outside_the_repository(tmp_path: Path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(wheels), str(REPO)], check=True, capture_output=True)
    wheel = next(wheels.glob("beslut-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
    assert "generator/mallar/beslutsunderlag.docx" in names
    assert "generator/mallar/foljebrev.docx" in names
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site),
                    str(wheel)], check=True, capture_output=True)
    work = tmp_path / "work"
    shutil.copytree(REPO / "content", work / "content")
    script = (
        "import generator, sys\n"
        "assert generator.__file__.startswith(sys.argv[1]), generator.__file__\n"
        "from generator.beslut import main\n"
        "main(['render', 'content/arenden/2023-10-handlingsplaner', '--organisation', 'gota-lejon'])\n"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run([sys.executable, "-c", script, str(site)], cwd=work, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    paper = work / "out" / "arenden" / "2023-10-handlingsplaner" / "gota-lejon" / "beslutsunderlag.docx"
    assert "Information om handlingsplaner" in docx_lines(paper)


def hidden_litter(out: Path) -> list[Path]:
    """Return hidden or temporary files in ``out`` (the bilaga cache is not litter)."""
    return [p for p in out.rglob("*") if p.name.startswith(".") and p.name != ".cache"
            and ".cache" not in p.relative_to(out).parts]


def test_a_killed_run_leaves_nothing_half_written(tmp_path: Path):
    """SIGKILL mid-build and mid-letters, run again: a consistent folder, no litter."""
    work = tmp_path / "work"
    shutil.copytree(REPO / "content", work / "content")
    arende = work / "content" / "arenden" / SAMPLE.name
    utskick = work / "content" / "utskick" / "2023-08-handlingsplaner"
    out = work / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for args, delay in ((["build", str(arende)], 3.0), (["letters", str(utskick), "--pdf"], 3.0)):
        command = [sys.executable, "-m", "generator", *args, "--out", str(out)]
        process = subprocess.Popen(command, cwd=work, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        import time
        time.sleep(delay)
        process.kill()
        process.wait()
        done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert hidden_litter(out) == []
    manifest = json.loads((out / "arenden" / SAMPLE.name / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest["dokument"]:
        assert (out / "arenden" / SAMPLE.name / entry["fil"]).is_file()
