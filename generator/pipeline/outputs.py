"""The front door's view of ``out/``: where a content folder's documents go, what its last run made.

The faces never spell out ``out/``'s layout (``arenden/``, ``utskick/``, ``utkast/``, the
manifest, the bilaga cache): they ask here. The layout itself is decided by the plan
(``jobs``) and the cache (``cache``), imported when a function is called so that importing
the front door stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..content import ARENDE_FILE, OVERRIDES_DIR, UTSKICK_FILE
from ..sammantrade import SAMMANTRADEN_DIR, is_sammantrade

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
    ``out/utskick/<utskick>/`` (``arende_folder`` and ``utskick_folder`` in jobs.py) or
    ``out/sammantraden/<sammanträde>/`` (agenda.py).
    """
    from ..jobs import ARENDEN_DIR, UTKAST_DIR, UTSKICK_DIR

    if is_sammantrade(folder):
        return out / SAMMANTRADEN_DIR / folder.name
    final = out / (ARENDEN_DIR if is_arende_folder(folder) else UTSKICK_DIR) / folder.name
    return final / UTKAST_DIR if utkast else final


def is_draft(relative: str) -> bool:
    """Return True if ``relative`` (a file's path in an output folder, with ``/``) is a draft's (in ``utkast/``)."""
    from ..jobs import UTKAST_DIR

    return UTKAST_DIR in relative.split("/")[:-1]


def move_legacy_output(out: Path) -> list[str]:
    """Move every ``out/<name>/`` of an earlier version to ``out/arenden/`` or ``out/utskick/``; say so."""
    from ..jobs import move_all_legacy_output

    return move_all_legacy_output(out)


def share_bilaga_cache(out: Path, other: Path) -> None:
    """Let a run into the folder ``other`` (a preview's) use and fill the bilaga cache of ``out``."""
    from ..cache import CACHE_DIR

    cache = CACHE_DIR.parts[0]
    (out / cache).mkdir(parents=True, exist_ok=True)
    (other / cache).symlink_to((out / cache).resolve())


@dataclass(frozen=True)
class Built:
    """One recipient's last run in an output folder: when its files were written, and whether it failed."""

    when: float | None
    """The newest modification time of its files (seconds), None if it has none."""
    failed: bool = False
    """Its last run failed (its earlier files, if any, are kept)."""


def built_by_recipient(folder: Path) -> dict[str, Built]:
    """Return each recipient's last run in the output ``folder``, from its manifest."""
    from ..jobs import MANIFEST_NAME

    manifest = _read_manifest(folder / MANIFEST_NAME)
    if manifest is None:
        return {}
    try:
        documents, failures = list(manifest.get("dokument", [])), list(manifest.get("fel", []))
    except (AttributeError, TypeError):
        return {}
    times: dict[str, list[float]] = {}
    for entry in documents:
        if not isinstance(entry, dict) or not isinstance(entry.get("fil"), str):
            continue
        try:
            times.setdefault(str(entry.get("mottagare")), []).append((folder / entry["fil"]).stat().st_mtime)
        except OSError:
            continue
    failed = {str(f.get("mottagare")) for f in failures if isinstance(f, dict)}
    return {who: Built(max(times[who]) if times.get(who) else None, who in failed)
            for who in dict.fromkeys([*times, *failed])}


def has_manifest(folder: Path) -> bool:
    """Return True if a run has written its manifest in the output ``folder``."""
    from ..jobs import MANIFEST_NAME

    return (folder / MANIFEST_NAME).is_file()


def _read_manifest(path: Path) -> Any:
    """Return the parsed manifest at ``path``, or None when it is missing or unreadable."""
    import json

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


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
    from ..jobs import MANIFEST_NAME
    from ..scaffold import BILAGOR_DIR

    return (folder_stamps(folder, OVERRIDES_DIR, BILAGOR_DIR), stamp(organisationer_path),
            stamp(output_folder(folder, out) / MANIFEST_NAME),
            stamp(output_folder(folder, out, utkast=True) / MANIFEST_NAME))


def utskick_stamps(folder: Path, organisationer_path: Path, out: Path) -> tuple:
    """Return the stamps of what the utskick's check and letters come from (for ``kept_until_changed``)."""
    from ..cache import folder_stamps, stamp
    from ..jobs import MANIFEST_NAME

    return folder_stamps(folder), stamp(organisationer_path), stamp(output_folder(folder, out) / MANIFEST_NAME)


def kept_until_changed() -> ByModification:
    """Return an empty store of values kept until their files change (``cache.ByModification``)."""
    from ..cache import ByModification

    return ByModification()
