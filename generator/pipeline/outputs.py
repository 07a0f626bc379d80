"""The front door's view of ``out/``: where a content folder's documents go, what its last run made.

The faces never spell out ``out/``'s layout (``arenden/``, ``utskick/``, ``utkast/``, the
manifest, the bilaga cache): they ask here, and here asks ``outfolder``, the one module that
names them (it imports only ``errors`` and ``files``, so importing the front door stays cheap).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..content import ARENDE_FILE, OVERRIDES_DIR, UTSKICK_FILE
from ..outfolder import (
    CACHE_DIR,
    UTKAST_DIR,
    arende_folder,
    manifest_path,
    move_all_legacy_output,
    read_manifest,
    sammantrade_folder,
    utskick_folder,
)
from ..sammantrade import is_sammantrade

if TYPE_CHECKING:
    from ..cache import ByModification


def is_arende_folder(folder: Path) -> bool:
    """Return True if ``folder`` holds an ärende (its arende.yaml)."""
    return (folder / ARENDE_FILE).is_file()


def is_utskick_folder(folder: Path) -> bool:
    """Return True if ``folder`` holds an utskick (its utskick.yaml)."""
    return (folder / UTSKICK_FILE).is_file()


def output_folder(folder: Path, out: Path, *, utkast: bool = False) -> Path:
    """Return where the ärende, utskick or sammanträde in ``folder`` writes its documents (as the CLI does).

    ``out/arenden/<ärende>/`` (with ``utkast``, its drafts' ``utkast/``),
    ``out/utskick/<utskick>/`` or ``out/sammantraden/<sammanträde>/`` (``outfolder``).
    """
    if is_sammantrade(folder):
        return sammantrade_folder(out, folder.name)
    if is_arende_folder(folder):
        return arende_folder(out, folder.name, utkast=utkast)
    return utskick_folder(out, folder.name)


def is_draft(relative: str) -> bool:
    """Return True if ``relative`` (a file's path in an output folder, with ``/``) is a draft's (in ``utkast/``)."""
    return UTKAST_DIR in relative.split("/")[:-1]


def move_legacy_output(out: Path) -> list[str]:
    """Move every ``out/<name>/`` of an earlier version to ``out/arenden/`` or ``out/utskick/``; say so."""
    return move_all_legacy_output(out)


def share_bilaga_cache(out: Path, other: Path) -> None:
    """Let a run into the folder ``other`` (a preview's) use and fill the bilaga cache of ``out``."""
    (out / CACHE_DIR).mkdir(parents=True, exist_ok=True)
    (other / CACHE_DIR).symlink_to((out / CACHE_DIR).resolve())


@dataclass(frozen=True)
class Built:
    """One recipient's last run in an output folder: when its files were written, and whether it failed."""

    when: float | None
    """The newest modification time of its files (seconds), None if it has none."""
    failed: bool = False
    """Its last run failed (its earlier files, if any, are kept)."""


def built_by_recipient(folder: Path) -> dict[str, Built]:
    """Return each recipient's last run in the output ``folder``, from its manifest."""
    try:
        manifest = read_manifest(folder)
    except (OSError, ValueError):
        return {}
    times: dict[str, list[float]] = {}
    for document in manifest.documents:
        try:
            times.setdefault(str(document.org_id), []).append((folder / document.file).stat().st_mtime)
        except OSError:
            continue
    failed = {str(f.org_id) for f in manifest.failures}
    return {who: Built(max(times[who]) if times.get(who) else None, who in failed)
            for who in dict.fromkeys([*times, *failed])}


def has_manifest(folder: Path) -> bool:
    """Return True if a run has written its manifest in the output ``folder``."""
    return manifest_path(folder).is_file()


def arende_builds(folder: Path, out: Path) -> tuple[dict[str, Built], dict[str, Built]]:
    """Return the ärende's last final build and last draft, each by organisation id."""
    return (built_by_recipient(output_folder(folder, out)),
            built_by_recipient(output_folder(folder, out, utkast=True)))


def arende_stamps(folder: Path, organisationer_path: Path, out: Path) -> tuple:
    """Return the stamps of what the ärende's check, review and builds come from (for ``kept_until_changed``).

    Its YAML files, bilagor and override files, the registry, and the manifests of its
    last final build and last draft.
    """
    from ..cache import folder_stamps, stamp
    from ..scaffold import BILAGOR_DIR

    return (folder_stamps(folder, OVERRIDES_DIR, BILAGOR_DIR), stamp(organisationer_path),
            stamp(manifest_path(output_folder(folder, out))),
            stamp(manifest_path(output_folder(folder, out, utkast=True))))


def utskick_stamps(folder: Path, organisationer_path: Path, out: Path) -> tuple:
    """Return the stamps of what the utskick's check and letters come from (for ``kept_until_changed``)."""
    from ..cache import folder_stamps, stamp

    return folder_stamps(folder), stamp(organisationer_path), stamp(manifest_path(output_folder(folder, out)))


def kept_until_changed() -> ByModification:
    """Return an empty store of values kept until their files change (``cache.ByModification``)."""
    from ..cache import ByModification

    return ByModification()
