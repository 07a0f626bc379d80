"""``generator/outfolder.py`` owns the layout of out/ and the manifest: the names once, the format typed.

The folder and file names of out/ are written in ``outfolder.py`` only (a test reads every
module of ``generator/`` with ``ast``); the manifest a run writes reads back as it was
written, a manifest this version did not write is read leniently (or refused, for
``send``), and every manifest is written the same way.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from generator import outfolder
from generator.outfolder import (
    Manifest,
    ManifestDocument,
    ManifestError,
    ManifestFailure,
    read_manifest,
    write_manifest,
    write_manifest_json,
)

REPO = Path(__file__).resolve().parent.parent

FOLDER_NAMES = {outfolder.ARENDEN_DIR, outfolder.UTSKICK_DIR, outfolder.SAMMANTRADEN_DIR, outfolder.UTKAST_DIR}
"""Names that are also ordinary words in code (a form field, a page's nav key): only a path made of them counts."""
FILE_NAMES = {outfolder.CACHE_DIR, outfolder.STAGING_DIR, outfolder.MANIFEST_NAME, outfolder.PROTOKOLL_MANIFEST_NAME,
              outfolder.SEND_LOG_NAME, outfolder.EXPEDIERING_LOG_NAME, outfolder.BUNDLE_NAME, outfolder.REPORT_STEM}
"""Names that mean out/'s layout wherever they make a path or a constant."""

def layout_literals(path: Path) -> set[str]:
    """Return the layout names ``path`` writes as a path part or a constant instead of importing them."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()

    def check(node: ast.AST, *, anywhere: bool) -> None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value in FILE_NAMES or (anywhere and node.value in FOLDER_NAMES):
                found.add(node.value)

    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):  # out / "arenden"
            check(node.left, anywhere=True)
            check(node.right, anywhere=True)
        elif isinstance(node, ast.Call):  # Path(".cache"), folder.with_name("manifest.json")
            for arg in node.args:
                check(arg, anywhere=isinstance(node.func, ast.Name) and node.func.id == "Path")
        elif isinstance(node, ast.Assign):  # MANIFEST_NAME = "manifest.json"
            check(node.value, anywhere=True)
    return found


def found_in_generator() -> set[tuple[str, str]]:
    package = REPO / "generator"
    return {(path.relative_to(package).as_posix(), literal)
            for path in sorted(package.rglob("*.py")) if path.name != "outfolder.py"
            for literal in layout_literals(path)}


def test_out_layout_names_are_written_in_outfolder_only():
    assert found_in_generator() == set(), (
        "import the name from generator/outfolder.py (the one place that decides out/'s layout)")


def test_the_literal_check_can_fail(tmp_path: Path):
    module = tmp_path / "m.py"
    module.write_text('from pathlib import Path\nA = out / "arenden" / name\nB = Path(".cache") / "x"\n'
                      'C = folder / "manifest.json"\nD = {"utkast": 1}\nE = f(name="sammantraden")\n'
                      'STAGING = ".beslut-arbete"\n', encoding="utf-8")
    assert layout_literals(module) == {"arenden", ".cache", "manifest.json", ".beslut-arbete"}


def test_the_folders_of_out():
    out = Path("out")
    assert outfolder.arende_folder(out, "a") == out / "arenden" / "a"
    assert outfolder.arende_folder(out, "a", utkast=True) == out / "arenden" / "a" / "utkast"
    assert outfolder.utskick_folder(out, "u") == out / "utskick" / "u"
    assert outfolder.sammantrade_folder(out, "m") == out / "sammantraden" / "m"
    assert outfolder.manifest_path(out / "x") == out / "x" / "manifest.json"


def example() -> Manifest:
    return Manifest(
        title="Ärende", org_count=2, succeeded=1, failed=1,
        documents=(ManifestDocument(file="a.docx", org_id="liseberg", org_name="Liseberg AB", pages=None,
                                    sha256="1" * 64, fingerprint="2" * 64),
                   ManifestDocument(file="a.pdf", org_id="liseberg", org_name="Liseberg AB", pages=3, sha256="3" * 64)),
        failures=(ManifestFailure("higab", "Higab AB", "Bilaga 1 saknas."),),
        warnings=({"mottagare": "liseberg", "varning": "en tabell"},),
        cleaned=({"mottagare": "liseberg", "del": "Bilaga 1", "borttaget": {"javascript": 1}},),
    )


def test_a_manifest_reads_back_as_written(tmp_path: Path):
    path = write_manifest(tmp_path, example())
    assert path == tmp_path / "manifest.json"
    assert read_manifest(tmp_path) == example() == read_manifest(tmp_path, strict=True)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert list(data) == ["titel", "antal_mottagare", "lyckade", "misslyckade", "dokument", "fel", "varningar",
                          "rensat"]
    assert data["dokument"][0] == {"mottagare": "liseberg", "namn": "Liseberg AB", "fil": "a.docx", "sidor": None,
                                   "sha256": "1" * 64, "fingeravtryck": "2" * 64}
    assert "fingeravtryck" not in data["dokument"][1]  # only a letter has one
    assert data["fel"] == [{"mottagare": "higab", "namn": "Higab AB", "orsak": "Bilaga 1 saknas."}]
    assert (data["antal_mottagare"], data["lyckade"], data["misslyckade"]) == (2, 1, 1)
    assert example().documents_for("liseberg") == list(example().documents)


def test_every_manifest_is_written_alike(tmp_path: Path):
    path = write_manifest_json(tmp_path / "protokoll-manifest.json", {"titel": "Sammanträde å ä ö", "dokument": []})
    assert path.read_bytes() == '{\n  "titel": "Sammanträde å ä ö",\n  "dokument": []\n}\n'.encode()


def test_a_manifest_not_written_by_this_version_is_read_leniently(tmp_path: Path):
    (tmp_path / "manifest.json").write_text(json.dumps({"dokument": [
        {"fil": "a.pdf", "mottagare": "x", "sha256": "s"}, {"mottagare": "y"}, "trasig", {"fil": 3}],
        "fel": [{"mottagare": "z"}, 7], "lyckade": "många"}), encoding="utf-8")
    manifest = read_manifest(tmp_path)
    assert manifest.documents == (ManifestDocument(file="a.pdf", org_id="x", sha256="s"),)
    assert manifest.failures == (ManifestFailure("z"),) and manifest.succeeded == 0
    with pytest.raises(ManifestError):
        read_manifest(tmp_path, strict=True)


@pytest.mark.parametrize("text, error", [("[]", ManifestError), ("{", ValueError), ('{"titel": "x"}', None)])
def test_a_broken_manifest(tmp_path: Path, text: str, error):
    (tmp_path / "manifest.json").write_text(text, encoding="utf-8")
    if error is None:
        assert read_manifest(tmp_path).documents == ()
        with pytest.raises(ManifestError, match="'dokument' saknas"):
            read_manifest(tmp_path, strict=True)
    else:
        with pytest.raises(error):
            read_manifest(tmp_path)


def test_no_manifest(tmp_path: Path):
    with pytest.raises(FileNotFoundError):
        read_manifest(tmp_path)


def test_output_folders_are_named_in_nfc(tmp_path: Path):
    import unicodedata

    nfd = unicodedata.normalize("NFD", "Kommunstyrelsen är här")
    for folder in (outfolder.arende_folder(tmp_path, nfd), outfolder.arende_folder(tmp_path, nfd, utkast=True).parent,
                   outfolder.utskick_folder(tmp_path, nfd), outfolder.sammantrade_folder(tmp_path, nfd)):
        assert folder.name == "Kommunstyrelsen är här" == unicodedata.normalize("NFC", folder.name)


# --- the sammanträde's manifest and the protokoll's, as the agenda and expediering read them -------


def test_sammantrade_manifest_gives_each_arendes_last_entry_and_nothing_when_unreadable(tmp_path: Path):
    from generator.outfolder import read_sammantrade_manifest

    entry = {"fingeravtryck": "abc", "handlingar": "arenden/a/handlingar.pdf", "sha256": "00"}
    write_manifest_json(tmp_path / "manifest.json", {"titel": "KS", "ärenden": {"a": entry, "b": "trasig"}})
    assert read_sammantrade_manifest(tmp_path).arenden == {"a": entry}
    for text in ("{", "[1, 2]", '{"ärenden": [1]}'):
        (tmp_path / "manifest.json").write_text(text, encoding="utf-8")
        assert read_sammantrade_manifest(tmp_path).arenden == {}
    assert read_sammantrade_manifest(tmp_path / "saknas").arenden == {}


def test_protokoll_manifest_reads_what_minutes_writes_and_refuses_what_it_cannot_trust(tmp_path: Path):
    from generator.outfolder import ProtokollManifest, protokoll_manifest_path, read_protokoll_manifest

    path = protokoll_manifest_path(tmp_path)
    assert path.name == "protokoll-manifest.json"
    with pytest.raises(FileNotFoundError):
        read_protokoll_manifest(tmp_path)
    write_manifest_json(path, {"fingeravtryck": "f1", "dokument": [{"fil": "protokoll.pdf", "sha256": "ab"}]})
    assert read_protokoll_manifest(tmp_path) == ProtokollManifest(documents={"protokoll.pdf": "ab"}, fingerprint="f1")
    for text, said in (('{"dokument": [{"fil": "p.pdf"}]}', "'sha256'"), ("[]", "list indices"),
                       ('{"fingeravtryck": "f1"}', "'dokument'")):
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ManifestError, match=said):
            read_protokoll_manifest(tmp_path)
    path.write_text("inte json", encoding="utf-8")
    with pytest.raises(ValueError):
        read_protokoll_manifest(tmp_path)
