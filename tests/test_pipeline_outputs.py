"""The front door's view of ``out/`` (``pipeline.output_folder`` and the manifest it reads) agrees with the plan.

The web page never spells out ``out/``'s layout; it asks ``pipeline``. These check that the
answers are where the engine writes (``outfolder``'s folders, named as the loaded content
names itself), and that a run's manifest is read back per recipient.
"""

from __future__ import annotations

import json
from pathlib import Path

from generator import outfolder, pipeline

REPO = Path(__file__).resolve().parents[1]
CONTENT = REPO / "content"
ORGANISATIONER = CONTENT / "organisationer.yaml"
ARENDE = CONTENT / "arenden" / "2023-10-lokalvard"
UTSKICK = CONTENT / "utskick" / "2023-08-handlingsplaner"
SAMMANTRADE = CONTENT / "sammantraden" / "2023-10-forskolenamnden"


def test_output_folders_are_where_the_plan_writes(tmp_path: Path):
    out = tmp_path / "out"
    loaded = pipeline.validate_arende(ARENDE, ORGANISATIONER)[0]
    utskick, _ = pipeline.validate_utskick(UTSKICK, ORGANISATIONER)
    assert pipeline.output_folder(ARENDE, out) == outfolder.arende_folder(out, loaded.name)
    assert pipeline.output_folder(ARENDE, out, utkast=True) == outfolder.arende_folder(out, loaded.name, utkast=True)
    assert pipeline.output_folder(UTSKICK, out) == outfolder.utskick_folder(out, utskick.name)
    meeting = pipeline.validate_sammantrade(SAMMANTRADE, ORGANISATIONER)
    assert pipeline.output_folder(SAMMANTRADE, out) == outfolder.sammantrade_folder(out, meeting.name)
    assert len({pipeline.output_folder(f, out) for f in (ARENDE, UTSKICK, SAMMANTRADE)}) == 3


def test_a_draft_is_a_file_in_utkast():
    assert pipeline.is_draft("utkast/beslutsunderlag.pdf")
    assert pipeline.is_draft("gota-lejon/utkast/handlingar.pdf")
    assert not pipeline.is_draft("beslutsunderlag.pdf")
    assert not pipeline.is_draft("gota-lejon/utkast.pdf")


def test_the_manifest_is_read_per_recipient(tmp_path: Path):
    folder = tmp_path / "out" / "utskick" / "brev"
    assert pipeline.built_by_recipient(folder) == {} and not pipeline.has_manifest(folder)
    folder.mkdir(parents=True)
    (folder / "higab.pdf").write_bytes(b"%PDF-1.7\n")
    manifest = {"dokument": [{"fil": "higab.pdf", "mottagare": "higab"}, {"fil": "borta.pdf", "mottagare": "borta"}],
                "fel": [{"mottagare": "liseberg", "orsak": "trasig"}]}
    (folder / outfolder.MANIFEST_NAME).write_text(json.dumps(manifest), encoding="utf-8")
    built = pipeline.built_by_recipient(folder)
    assert pipeline.has_manifest(folder)
    assert built["higab"] == pipeline.Built((folder / "higab.pdf").stat().st_mtime, False)
    assert built["liseberg"] == pipeline.Built(None, True)
    assert built["borta"] == pipeline.Built(None, False)  # listed, but its file is gone
    (folder / outfolder.MANIFEST_NAME).write_text("[1, 2", encoding="utf-8")
    assert pipeline.built_by_recipient(folder) == {}
