"""The layout of ``out/`` and its manifests: the one place that names every folder and file beslut owns there.

::

    out/
      arenden/<ärende>/             papers, handlingar.pdf, tillgänglighetsrapport, manifest.json
      arenden/<ärende>/<org-id>/    a shared ärende: each organisation's papers
      arenden/<ärende>/utkast/      the last draft (never over the last final build)
      utskick/<utskick>/            <org-id>.docx/.pdf/.eml, manifest.json, utskick-logg.json
      sammantraden/<namn>/          kallelse, sammanträdeshandlingar, manifest.json;
                                    protokoll, utdrag, protokoll-manifest.json, expediering-logg.json
      .cache/bilagor/               converted bilagor (``cache``); .cache/personnummer/ (the agenda's scan)
      .beslut-arbete/               a run's staging folder, removed when it ends

The content folder uses the same folder names (``content/arenden/<ärende>/``,
``content/utskick/<utskick>/``, ``content/sammantraden/<namn>/``), so they are named here once.

The manifest of an ärende's or utskick's run (``manifest.json``) is written by ``runner``
and read by ``runner`` (the earlier run's files), ``send`` (the letters to send), the web
page (when each recipient was last built) and the move of an earlier version's output:
its format is ``Manifest`` (read with ``read_manifest``, written with ``write_manifest``).
A sammanträde's manifest is read back by the agenda (``read_sammantrade_manifest``) and the
protokoll's by ``expediering`` (``read_protokoll_manifest``).
Output of an earlier version, ``out/<name>/``, is moved into this layout by
``move_legacy_output``. This module imports nothing but ``errors`` and ``files``.
"""

from __future__ import annotations

import json
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import UsageProblem, describe_os_error
from .files import write_bytes

# --- names -----------------------------------------------------------------------------------

ARENDEN_DIR = "arenden"
"""``out/arenden/<ärende>/``: every ärende's papers and handlingar.pdf (``content/arenden/``: its YAML)."""
UTSKICK_DIR = "utskick"
"""``out/utskick/<utskick>/``: every utskick's letters (never in an ärende's folder)."""
SAMMANTRADEN_DIR = "sammantraden"
"""``out/sammantraden/<namn>/``: a meeting's kallelse, handlingar and protokoll (``content/sammantraden/``)."""
UTKAST_DIR = "utkast"
"""``out/arenden/<ärende>/utkast/``: the last draft, beside (never over) the last final build."""
LAYOUT_DIRS = (ARENDEN_DIR, UTSKICK_DIR, SAMMANTRADEN_DIR)
"""The folders directly in ``out/`` of this layout."""
CACHE_DIR = ".cache"
"""``out/.cache/``: what may be deleted at any time (converted bilagor, the agenda's scans)."""
BILAGA_CACHE = Path(CACHE_DIR) / "bilagor"
"""Converted bilagor, relative to ``out/`` (``cache.BilagaCache``)."""
PERSONNUMMER_CACHE = Path(CACHE_DIR) / "personnummer"
"""The agenda's personnummer scans of the public package's parts, relative to ``out/``."""
STAGING_DIR = ".beslut-arbete"
"""The folder in ``out/`` where a run writes before it commits (removed when it ends)."""

MANIFEST_NAME = "manifest.json"
"""An ärende's, utskick's or sammanträde's list of what its last run wrote."""
PROTOKOLL_MANIFEST_NAME = "protokoll-manifest.json"
"""The protokoll's list of what it wrote, beside the meeting's own manifest."""
SEND_LOG_NAME = "utskick-logg.json"
"""An utskick's send log (``sendlog``), beside its letters."""
EXPEDIERING_LOG_NAME = "expediering-logg.json"
"""The protokollsutdrag's send log (``expediering``), beside the protokoll."""
BUNDLE_NAME = "handlingar.pdf"
REPORT_STEM = "tillganglighetsrapport"
"""The tillgänglighetsrapport's name beside handlingar.pdf (``.txt`` and ``.json``)."""


# --- where each thing's output goes ------------------------------------------------------------


def arende_folder(out: Path, name: str, *, utkast: bool = False) -> Path:
    """Return the ärende ``name``'s folder in ``out``: ``out/arenden/<ärende>/`` (a draft's: ``…/utkast/``).

    The folder's name is ``name`` in NFC (``output_name``), as are the utskick's and the sammanträde's.
    """
    folder = out / ARENDEN_DIR / output_name(name)
    return folder / UTKAST_DIR if utkast else folder


def utskick_folder(out: Path, name: str) -> Path:
    """Return the utskick ``name``'s folder in ``out``: ``out/utskick/<utskick>/``."""
    return out / UTSKICK_DIR / output_name(name)


def sammantrade_folder(out: Path, name: str) -> Path:
    """Return the sammanträde ``name``'s folder in ``out``: ``out/sammantraden/<namn>/``."""
    return out / SAMMANTRADEN_DIR / output_name(name)


def output_name(name: str) -> str:
    """Return the name of the output folder of the content folder ``name``: ``name`` in NFC.

    macOS writes "ä" as "a" and a combining diaeresis (NFD), Windows and most editors as one
    character (NFC); both spellings of a content folder's name give the same output folder.
    """
    return unicodedata.normalize("NFC", name)


def manifest_path(folder: Path) -> Path:
    """Return the manifest of the output ``folder`` (an ärende's, utskick's or sammanträde's)."""
    return folder / MANIFEST_NAME


def check_out_folder(out: Path, *inputs: Path) -> None:
    """Refuse an ``out`` that is, lies inside or contains an input folder (ärende, utskick, content).

    Generated files must never land beside, or overwrite, what the user wrote: a paper
    named like a bilaga would replace it, and ``out/arenden/<ärende>`` is the ärende's own folder
    when ``out`` is the content folder. Symbolic links are followed (``resolve``).
    """
    if not inputs:
        return
    target = out.resolve()
    outside = min((f.resolve() for f in inputs), key=lambda f: len(f.parts)).parent / "out"
    for folder in inputs:
        if target.is_relative_to(folder.resolve()):
            raise UsageProblem(
                f"utmappen ({out}) ligger i innehållsmappen {folder}. Genererade filer får inte "
                f"hamna bland det du skrivit: välj en mapp utanför, t.ex. --out {os.path.relpath(outside)}.",
            )
    for folder in inputs:
        if folder.resolve().is_relative_to(target):
            raise UsageProblem(
                f"utmappen ({out}) innehåller innehållsmappen {folder}, så genererade filer kan skriva "
                f"över det du skrivit. Välj en egen mapp för dem, t.ex. --out {os.path.relpath(outside)}.",
            )


# --- the manifest of a run (manifest.json) -----------------------------------------------------


class ManifestError(ValueError):
    """Raised when a manifest is JSON but not one (``read_manifest(strict=True)``, ``read_protokoll_manifest``)."""


@dataclass(frozen=True)
class ManifestDocument:
    """One file a run wrote (``dokument``): its path from the manifest's folder, and for whom."""

    file: str
    """``fil``: the path relative to the manifest's folder: ``beslutsunderlag.pdf``, ``gota-lejon/handlingar.pdf``."""
    org_id: str | None = None
    """``mottagare``: the id of the organisation the file is for."""
    org_name: str | None = None
    """``namn``: that organisation's name."""
    pages: int | None = None
    """``sidor``: a PDF's page count; None for other files."""
    sha256: str | None = None
    fingerprint: str | None = None
    """``fingeravtryck``: a letter's input fingerprint (``letters.letter_inputs``), which ``send`` compares."""

    def as_json(self) -> dict[str, Any]:
        """Return the entry as written: every key, ``fingeravtryck`` only when there is one."""
        entry: dict[str, Any] = {"mottagare": self.org_id, "namn": self.org_name, "fil": self.file,
                                 "sidor": self.pages, "sha256": self.sha256}
        if self.fingerprint is not None:
            entry["fingeravtryck"] = self.fingerprint
        return entry


@dataclass(frozen=True)
class ManifestFailure:
    """One organisation whose run failed (``fel``); its earlier files, if any, are kept."""

    org_id: str | None
    """``mottagare``."""
    org_name: str | None = None
    """``namn``."""
    reason: str | None = None
    """``orsak``: the error message."""

    def as_json(self) -> dict[str, Any]:
        return {"mottagare": self.org_id, "namn": self.org_name, "orsak": self.reason}


@dataclass(frozen=True)
class Manifest:
    """What an ärende's or utskick's last run wrote and what failed (``manifest.json``).

    The file's keys are Swedish (``dokument``, ``fel``, ``mottagare`` …); each field's
    docstring names its key. ``warnings`` and ``cleaned`` are kept as written (one object
    per organisation and warning, per cleaned PDF part).
    """

    documents: tuple[ManifestDocument, ...] = ()
    """``dokument``."""
    failures: tuple[ManifestFailure, ...] = ()
    """``fel``."""
    title: str = ""
    """``titel``: the ärende's or utskick's rubrik."""
    org_count: int = 0
    """``antal_mottagare``: how many organisations the run was for."""
    succeeded: int = 0
    """``lyckade``."""
    failed: int = 0
    """``misslyckade``."""
    warnings: tuple[dict[str, Any], ...] = ()
    """``varningar``: ``{"mottagare": …, "varning": …}``."""
    cleaned: tuple[dict[str, Any], ...] = ()
    """``rensat``: what ``sanitize`` removed, per organisation and PDF part."""

    def documents_for(self, org_id: str) -> list[ManifestDocument]:
        """Return the files written for the organisation ``org_id``."""
        return [d for d in self.documents if d.org_id == org_id]

    def as_json(self) -> dict[str, Any]:
        """Return the manifest as written, keys in their order."""
        return {
            "titel": self.title,
            "antal_mottagare": self.org_count,
            "lyckade": self.succeeded,
            "misslyckade": self.failed,
            "dokument": [d.as_json() for d in self.documents],
            "fel": [f.as_json() for f in self.failures],
            "varningar": list(self.warnings),
            "rensat": list(self.cleaned),
        }


def read_manifest(folder: Path, *, strict: bool = False) -> Manifest:
    """Return the manifest of the output ``folder``.

    Raise ``OSError`` when it cannot be read (``FileNotFoundError`` when there is none) and
    ``ValueError`` when it is not JSON or not an object. An entry of ``dokument`` or ``fel``
    that is not what this version writes is left out; with ``strict`` (for ``send``, which
    trusts the list) it raises ``ManifestError`` instead, and every document must name its
    organisation (``mottagare``) and its sha256.
    """
    data = json.loads(manifest_path(folder).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ManifestError("manifestet är inget JSON-objekt")
    if strict and not isinstance(data.get("dokument"), list):
        raise ManifestError("'dokument' saknas")
    documents = []
    for entry in _list(data.get("dokument")):
        document = _document(entry)
        if document is None or (strict and (document.org_id is None or document.sha256 is None)):
            if strict:
                raise ManifestError(f"en post i 'dokument' saknar 'fil', 'mottagare' eller 'sha256': {entry}")
            continue
        documents.append(document)
    failures = [ManifestFailure(_text(f.get("mottagare")), _text(f.get("namn")), _text(f.get("orsak")))
                for f in _list(data.get("fel")) if isinstance(f, dict)]
    return Manifest(
        documents=tuple(documents), failures=tuple(failures), title=str(data.get("titel", "")),
        org_count=_count(data.get("antal_mottagare")), succeeded=_count(data.get("lyckade")),
        failed=_count(data.get("misslyckade")),
        warnings=tuple(v for v in _list(data.get("varningar")) if isinstance(v, dict)),
        cleaned=tuple(r for r in _list(data.get("rensat")) if isinstance(r, dict)),
    )


def write_manifest(folder: Path, manifest: Manifest) -> Path:
    """Write ``manifest`` as the output ``folder``'s manifest.json; return its path."""
    return write_manifest_json(manifest_path(folder), manifest.as_json())


def write_manifest_json(path: Path, data: dict[str, Any]) -> Path:
    """Write a manifest's JSON (UTF-8, indented, one trailing newline) at ``path``; return ``path``.

    Every manifest beslut writes (a run's, a sammanträde's, the protokoll's) is written so.
    """
    write_bytes(path, (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
    return path


# --- the sammanträde's manifest (manifest.json) and the protokoll's (protokoll-manifest.json) -----


@dataclass(frozen=True)
class SammantradeManifest:
    """What the agenda reads back of a sammanträde's manifest.json (written by ``agenda``)."""

    arenden: dict[str, dict]
    """Each ärende's entry of the last build (``fingeravtryck``, ``handlingar``, ``sha256``), by ärende."""


def read_sammantrade_manifest(folder: Path) -> SammantradeManifest:
    """Return the manifest of the sammanträde's output ``folder``; empty when there is none or it is unreadable.

    The agenda only uses it to reuse each ärende's handlingar.pdf, so a manifest that is
    missing, not JSON or not what this version writes means: build every ärende again.
    """
    try:
        data = json.loads(manifest_path(folder).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return SammantradeManifest(arenden={})
    arenden = data.get("ärenden") if isinstance(data, dict) else None
    return SammantradeManifest(arenden={str(key): entry for key, entry in arenden.items() if isinstance(entry, dict)}
                               if isinstance(arenden, dict) else {})


@dataclass(frozen=True)
class ProtokollManifest:
    """What ``expediering`` reads back of the protokoll's protokoll-manifest.json (written by ``minutes``)."""

    documents: dict[str, str]
    """Every file the protokoll's build wrote (name) and its sha256."""
    fingerprint: Any
    """The inputs' fingerprint (``fingeravtryck``) when the protokoll was built; None if not recorded."""


def protokoll_manifest_path(folder: Path) -> Path:
    """Return the protokoll's manifest in the sammanträde's output ``folder``."""
    return folder / PROTOKOLL_MANIFEST_NAME


def read_protokoll_manifest(folder: Path) -> ProtokollManifest:
    """Return the protokoll's manifest in the sammanträde's output ``folder``.

    Raise ``OSError`` when it cannot be read (``FileNotFoundError`` when there is none), and
    ``ValueError`` when it is not JSON, or ``ManifestError`` (a ``ValueError``) when its
    ``dokument`` is not a list of entries with ``fil`` and ``sha256``: ``expediering``
    sends nothing on a list it cannot trust.
    """
    data = json.loads(protokoll_manifest_path(folder).read_text(encoding="utf-8"))
    try:
        documents = {d["fil"]: d["sha256"] for d in data["dokument"]}
        return ProtokollManifest(documents=documents, fingerprint=data.get("fingeravtryck"))
    except (KeyError, TypeError) as e:
        raise ManifestError(str(e)) from e


def _document(entry: Any) -> ManifestDocument | None:
    if not isinstance(entry, dict) or not isinstance(entry.get("fil"), str):
        return None
    pages = entry.get("sidor")
    return ManifestDocument(file=entry["fil"], org_id=_text(entry.get("mottagare")), org_name=_text(entry.get("namn")),
                            pages=pages if isinstance(pages, int) else None, sha256=_text(entry.get("sha256")),
                            fingerprint=_text(entry.get("fingeravtryck")))


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _count(value: Any) -> int:
    return value if isinstance(value, int) else 0


# --- output of an earlier version: out/<name>/ -------------------------------------------------

PAPER_NAMES = ("beslutsunderlag", "tjänsteutlåtande", BUNDLE_NAME.removesuffix(".pdf"), REPORT_STEM)
"""File stems that only an ärende's output has."""


def legacy_kind(folder: Path) -> str | None:
    """Return ``ARENDEN_DIR`` or ``UTSKICK_DIR`` for an earlier version's ``out/<name>/``, by its manifest.

    Papers, handlingar.pdf or a tillgänglighetsrapport mean an ärende; letters named after
    organisations (``<id>.docx``, ``.pdf``, ``.eml``) or a send log mean an utskick. None
    when the folder has no manifest, or the manifest says neither.
    """
    try:
        names = [Path(d.file).name for d in read_manifest(folder).documents]
    except (OSError, ValueError):
        return None
    stems = {unicodedata.normalize("NFC", Path(n).stem).lower() for n in names}
    if stems & set(PAPER_NAMES):
        return ARENDEN_DIR
    if names and all(Path(n).suffix.lower() in (".docx", ".pdf", ".eml") for n in names):
        return UTSKICK_DIR
    if (folder / SEND_LOG_NAME).is_file():
        return UTSKICK_DIR
    return None


def move_legacy_output(out: Path, *names: str) -> list[str]:
    """Move an earlier version's ``out/<name>/`` into ``out/arenden/`` or ``out/utskick/``; say so.

    Before ärenden and utskick had folders of their own, both wrote ``out/<name>/``. Each
    such folder (one with a manifest.json) among ``names``, and ``out/arenden`` and
    ``out/utskick`` themselves if an earlier ärende or utskick had that name, is moved to
    where this version writes it (``legacy_kind``). An existing new folder is never
    overwritten: the old one then stays, and the user is told. Return the Swedish notices.
    """
    notices = []
    for name in dict.fromkeys([*LAYOUT_DIRS, *names]):
        legacy = out / name
        if name.startswith(".") or legacy.is_symlink() or not manifest_path(legacy).is_file():
            continue
        kind = legacy_kind(legacy)
        if kind is None:
            continue
        target = out / kind / name
        if target.exists() or target.is_symlink():
            notices.append(f"{legacy} är utdata från en tidigare version av beslut, men {target} finns redan, "
                           f"så den flyttades inte. Ta bort {legacy} när du inte längre behöver den.")
            continue
        moving = out / f".beslut-flytt-{name}"
        try:
            os.rename(legacy, moving)  # first aside, so out/arenden (a legacy ärende called so) can become a parent
            (out / kind).mkdir(exist_ok=True)
            os.rename(moving, target)
        except OSError as e:
            if moving.is_dir() and not legacy.exists():
                try:
                    os.rename(moving, legacy)
                except OSError:
                    pass
            notices.append(f"{legacy} kunde inte flyttas till {target}: {describe_os_error(e)} Flytta den själv.")
            continue
        what = "ärendets handlingar" if kind == ARENDEN_DIR else "utskickets brev"
        notices.append(f"Flyttade {what} från {legacy} till {target}: ärenden och utskick har nu var sin mapp "
                       f"({out / ARENDEN_DIR} och {out / UTSKICK_DIR}), så de kan aldrig skriva över varandra.")
    return notices


def move_all_legacy_output(out: Path) -> list[str]:
    """Move every earlier version's ``out/<name>/`` (``move_legacy_output``); for the web server's start."""
    try:
        names = sorted(p.name for p in out.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return []
    return move_legacy_output(out, *names)
