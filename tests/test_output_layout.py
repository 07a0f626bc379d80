"""out/ as this version lays it out: ärenden and utskick apart, drafts beside final builds, old output moved.

An ärende and an utskick of one name once both wrote out/<name>/ (the ärende's build
deleted the letters), and a draft replaced the final papers. Now: out/arenden/<name>/,
out/utskick/<name>/, and a draft in out/arenden/<name>/utkast/. Output an earlier version
wrote is moved once, by what its manifest lists, never over a new folder.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import urllib.request
from pathlib import Path

import yaml
from click.testing import CliRunner
from conftest import ORGANISATIONER, REPO, SAMPLE, VALID_ARENDE, write_arende

from generator.arendefields import placeholders
from generator.cli import main
from generator.outfolder import legacy_kind, move_all_legacy_output
from generator.watermark import WATERMARK_TEXT
from generator.web.app import WebConfig
from generator.web.server import start_in_thread

UTSKICK = REPO / "content" / "utskick" / "2023-08-handlingsplaner"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def digests(folder: Path, skip: str | None = None) -> dict[str, str]:
    """Return every file under ``folder`` (relative path -> sha256), leaving out the subfolder ``skip``."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.relative_to(folder).parts[0] != skip}


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def same_name(tmp_path: Path) -> tuple[Path, Path]:
    """Return an ärende and an utskick that are both called 'samma'."""
    arende = tmp_path / "content" / "arenden" / "samma"
    utskick = tmp_path / "content" / "utskick" / "samma"
    shutil.copytree(SAMPLE, arende)
    shutil.copytree(UTSKICK, utskick)
    return arende, utskick


# --- an ärende and an utskick of one name ------------------------------------------------------


def test_building_an_arende_named_like_an_utskick_leaves_every_letter(tmp_path: Path):
    arende, utskick = same_name(tmp_path)
    out = tmp_path / "out"
    letters = run("letters", utskick, "--organisationer", ORGANISATIONER, "--out", out)
    assert letters.exit_code == 0, letters.output
    before = digests(out / "utskick" / "samma")
    letter_files = [name for name in before if name.endswith(".docx")]
    assert len(letter_files) >= 7 and "manifest.json" in before

    paper = run("render", arende, "--organisationer", ORGANISATIONER, "--out", out)
    assert paper.exit_code == 0, paper.output
    assert digests(out / "utskick" / "samma") == before, "every letter and the utskick's manifest untouched"
    manifest = json.loads((out / "arenden" / "samma" / "manifest.json").read_text(encoding="utf-8"))
    assert {Path(e["fil"]).name for e in manifest["dokument"]} <= {"beslutsunderlag.docx", "tjänsteutlåtande.docx"}
    assert (out / "arenden" / "samma" / "gota-lejon" / "beslutsunderlag.docx").is_file()
    assert "Tog bort" not in paper.output

    again = run("letters", utskick, "--organisationer", ORGANISATIONER, "--out", out)  # and the other way round
    assert again.exit_code == 0, again.output
    assert (out / "arenden" / "samma" / "gota-lejon" / "beslutsunderlag.docx").is_file()


# --- a draft never replaces a final build ------------------------------------------------------


def test_a_draft_is_written_beside_the_final_papers_which_stay_byte_identical(tmp_path: Path):
    folder = write_arende(tmp_path / "arende", dict(VALID_ARENDE))
    out = tmp_path / "out"
    final = run("build", folder, "--organisationer", ORGANISATIONER, "--out", out)
    assert final.exit_code == 0, final.output
    built = out / "arenden" / "arende"
    before = digests(built)
    assert {"beslutsunderlag.pdf", "handlingar.pdf", "manifest.json"} <= set(before)

    draft = run("build", folder, "--organisationer", ORGANISATIONER, "--out", out, "--utkast")
    assert draft.exit_code == 0, draft.output
    assert digests(built, skip="utkast") == before, "the final build is untouched by the draft"
    assert WATERMARK_TEXT not in pdf_text(built / "beslutsunderlag.pdf")
    assert WATERMARK_TEXT in pdf_text(built / "utkast" / "beslutsunderlag.pdf")
    draft_manifest = json.loads((built / "utkast" / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(e["fil"] for e in draft_manifest["dokument"]) == sorted(
        ["beslutsunderlag.docx", "beslutsunderlag.pdf", "handlingar.pdf", "tillganglighetsrapport.txt",
         "tillganglighetsrapport.json"])
    for entry in draft_manifest["dokument"]:
        assert hashlib.sha256((built / "utkast" / entry["fil"]).read_bytes()).hexdigest() == entry["sha256"]
    final_manifest = json.loads((built / "manifest.json").read_text(encoding="utf-8"))
    assert not any(e["fil"].startswith("utkast") for e in final_manifest["dokument"])


# --- output of an earlier version --------------------------------------------------------------


def legacy_out(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Return (out, arende, utskick) with out/samma-a/ and out/samma-u/ laid out as an earlier version did."""
    arende, utskick = same_name(tmp_path)
    arende = arende.rename(arende.with_name("samma-a"))
    utskick = utskick.rename(utskick.with_name("samma-u"))
    out = tmp_path / "out"
    assert run("render", arende, "--organisationer", ORGANISATIONER, "--out", out,
               "--organisation", "gota-lejon").exit_code == 0
    assert run("letters", utskick, "--organisationer", ORGANISATIONER, "--out", out, "--till", "bolag").exit_code == 0
    (out / "arenden" / "samma-a").rename(out / "samma-a")
    (out / "utskick" / "samma-u").rename(out / "samma-u")
    (out / "arenden").rmdir()
    (out / "utskick").rmdir()
    return out, arende, utskick


def test_legacy_kind_is_read_from_the_manifest(tmp_path: Path):
    out, _, _ = legacy_out(tmp_path)
    assert legacy_kind(out / "samma-a") == "arenden"
    assert legacy_kind(out / "samma-u") == "utskick"
    (out / "tom").mkdir()
    assert legacy_kind(out / "tom") is None  # no manifest: not this program's output, never moved


def test_earlier_output_is_moved_when_next_planned_and_the_user_told_once(tmp_path: Path):
    out, arende, utskick = legacy_out(tmp_path)
    letters_before = digests(out / "samma-u")
    paper = out / "samma-a" / "gota-lejon" / "beslutsunderlag.docx"
    paper_before = paper.read_bytes()

    result = run("review", arende, "--organisationer", ORGANISATIONER, "--out", out)  # not a plan: nothing moves
    assert (out / "samma-a").is_dir()
    result = run("render", arende, "--organisationer", ORGANISATIONER, "--out", out, "--organisation", "forskolenamnden")
    assert result.exit_code == 0, result.output
    assert "Flyttade ärendets handlingar" in result.stderr and "samma-a" in result.stderr
    assert not (out / "samma-a").exists()
    assert (out / "arenden" / "samma-a" / "gota-lejon" / "beslutsunderlag.docx").read_bytes() == paper_before
    manifest = json.loads((out / "arenden" / "samma-a" / "manifest.json").read_text(encoding="utf-8"))
    assert {e["mottagare"] for e in manifest["dokument"]} == {"gota-lejon", "forskolenamnden"}  # the old entries kept
    assert "Flyttade" not in run("render", arende, "--organisationer", ORGANISATIONER, "--out", out,
                                 "--organisation", "forskolenamnden").stderr  # said once

    sent = run("send", utskick, "--organisationer", ORGANISATIONER, "--out", out)  # the dry run plans too
    assert "Flyttade utskickets brev" in sent.stderr
    assert digests(out / "utskick" / "samma-u") == letters_before


def test_earlier_output_never_overwrites_a_new_folder(tmp_path: Path):
    out, arende, _ = legacy_out(tmp_path)
    newer = out / "arenden" / "samma-a"
    newer.mkdir(parents=True)
    (newer / "manifest.json").write_text('{"dokument": []}', encoding="utf-8")
    notices = move_all_legacy_output(out)
    assert any("finns redan" in n and "samma-a" in n for n in notices)
    assert (newer / "manifest.json").read_text(encoding="utf-8") == '{"dokument": []}'
    assert (out / "samma-a" / "gota-lejon" / "beslutsunderlag.docx").is_file()  # left where it was
    assert (out / "utskick" / "samma-u" / "manifest.json").is_file()  # the other one moved


def test_an_earlier_arende_called_arenden_is_moved_into_the_new_arenden(tmp_path: Path):
    out = tmp_path / "out"
    folder = write_arende(tmp_path / "arenden", dict(VALID_ARENDE))
    assert run("render", folder, "--organisationer", ORGANISATIONER, "--out", out).exit_code == 0
    (out / "arenden" / "arenden").rename(tmp_path / "gammal")
    (out / "arenden").rmdir()
    (tmp_path / "gammal").rename(out / "arenden")  # out/arenden/ is an earlier version's ärende "arenden"
    notices = move_all_legacy_output(out)
    assert len(notices) == 1 and "Flyttade" in notices[0]
    assert (out / "arenden" / "arenden" / "beslutsunderlag.docx").is_file()
    assert not (out / "arenden" / "manifest.json").exists()


# --- the scaffold's words never reach a final paper --------------------------------------------


def scaffolded_but_telefon(tmp_path: Path) -> Path:
    """Return an ärende made by 'beslut new' with every placeholder replaced except the telephone's."""
    folder = tmp_path / "content" / "arenden" / "nytt"
    assert run("new", folder, "--organisationer", ORGANISATIONER, "--organisation", "gota-lejon").exit_code == 0
    text = (folder / "arende.yaml").read_text(encoding="utf-8")
    filled = {
        "rubrik": "Information om handlingsplaner", "diarienummer": "2024/123", "namn": "Petra Willquist",
        "epost": "petra.willquist@goteborg.se", "forslag_till_beslut": "Styrelsen antecknar informationen.",
        "sammanfattning": "Bolaget har tagit fram en handlingsplan för året.",
        **{key: f"Ärendet har inga särskilda konsekvenser ur en {key} dimension."
           for key in ("ekonomisk", "ekologisk", "social")},
        "samverkan": "Ingen samverkan har skett.", "arendet": "Styrelsen informeras om handlingsplanen.",
        "beskrivning": "Handlingsplanen beskriver arbetet under året.",
        "bedomning_bolag": "Bolaget bedömer att planen är rimlig.",
    }
    for key, value in filled.items():
        assert placeholders()[key] in text, key
        text = text.replace(placeholders()[key], value)
    (folder / "arende.yaml").write_text(text, encoding="utf-8")
    assert yaml.safe_load(text)["handläggare"]["telefon"] == placeholders()["telefon"]
    return folder


def test_the_scaffolds_telephone_left_as_written_stops_the_final_build(tmp_path: Path):
    folder = scaffolded_but_telefon(tmp_path)
    out = tmp_path / "out"
    result = run("build", folder, "--organisationer", ORGANISATIONER, "--out", out)
    assert result.exit_code == 8, result.output
    assert "handläggare.telefon" in result.stderr and "031-000 00 00" in result.stderr
    assert "beslut new" in result.stderr
    assert not out.exists() or not any(out.rglob("*.pdf"))
    review = run("review", folder, "--organisationer", ORGANISATIONER, "--json")
    stopp = [f for f in json.loads(review.stdout)["ärenden"][0]["fynd"] if f["nivå"] == "stopp"]
    assert [(f["fält"], f["kod"]) for f in stopp] == [("handläggare.telefon", "platshallare")]


def test_the_start_page_shows_the_stopp_and_follows_a_saved_file(tmp_path: Path):
    folder = scaffolded_but_telefon(tmp_path)
    content = tmp_path / "content"
    shutil.copy(ORGANISATIONER, content / "organisationer.yaml")
    legacy = tmp_path / "out" / "gammalt"  # an earlier version's ärende output, moved when the server starts
    legacy.mkdir(parents=True)
    (legacy / "beslutsunderlag.docx").write_bytes(b"PK")
    (legacy / "manifest.json").write_text(json.dumps({"dokument": [{"mottagare": "gota-lejon",
                                                                    "fil": "beslutsunderlag.docx"}]}))
    config = WebConfig(content=content, organisationer=content / "organisationer.yaml", out=tmp_path / "out")
    server, thread, url = start_in_thread(config)
    try:
        assert not legacy.exists() and (tmp_path / "out" / "arenden" / "gammalt" / "beslutsunderlag.docx").is_file()
        with urllib.request.urlopen(url + "/", timeout=60) as response:
            html = response.read().decode("utf-8")
        assert "Flyttade ärendets handlingar från out/gammalt till out/arenden/gammalt" in html
        assert str(tmp_path) not in html

        def row() -> str:
            with urllib.request.urlopen(url + "/", timeout=60) as response:
                html = response.read().decode("utf-8")
            return html.split('href="/arende/nytt"', 1)[1].split("</tr>", 1)[0]

        first = row()
        assert "1 stopp" in first and "Inga fel" not in first
        assert "inga handlingar" in first
        text = (folder / "arende.yaml").read_text(encoding="utf-8")
        (folder / "arende.yaml").write_text(text.replace(placeholders()["telefon"], "031-368 55 14"), encoding="utf-8")
        second = row()
        assert "stopp" not in second and "Inga fel" in second, "the list follows the file, not a stale copy"
        with urllib.request.urlopen(url + "/arende/nytt", timeout=60) as response:
            page = response.read().decode("utf-8")
        assert "färdiga handlingar aldrig" in page and "granskning: inga stopp" in page
    finally:
        server.should_exit = True
        thread.join(timeout=60)


# --- one output folder whatever the Unicode form of the content folder's name ---------------------


def test_an_arende_folder_named_in_nfd_writes_the_nfc_output_folder(tmp_path: Path):
    """macOS writes "ä" as a + combining diaeresis (NFD); the output folder is the same as for NFC."""
    import unicodedata

    from generator.pipeline import output_folder

    nfc = "Förskolenämnd 2024"
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfd != nfc
    out = tmp_path / "out"
    macos = write_arende(tmp_path / "mac" / nfd, VALID_ARENDE)
    windows = write_arende(tmp_path / "win" / nfc, VALID_ARENDE)
    first = run("render", macos, "--organisationer", ORGANISATIONER, "--out", out)
    assert first.exit_code == 0, first.output
    assert [p.name for p in (out / "arenden").iterdir()] == [nfc]
    second = run("render", windows, "--organisationer", ORGANISATIONER, "--out", out)
    assert second.exit_code == 0, second.output
    assert [p.name for p in (out / "arenden").iterdir()] == [nfc]  # no second folder
    assert (out / "arenden" / nfc / "beslutsunderlag.docx").is_file()
    assert output_folder(macos, out) == output_folder(windows, out) == out / "arenden" / nfc  # the web finds it
