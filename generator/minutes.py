"""``beslut minutes``: a sammanträde's protokoll and one protokollsutdrag per §.

The story, top to bottom (``build_minutes``):

1. load and check the meeting and its protokoll (``protokollcheck.load_protokoll``): names,
   votes, jäv, reservationer, justerare, the anslag and the § numbers through the year
   (``paragrafnummer``); nothing is written if anything is wrong (exit 3);
2. review the protokoll's own text for personnummer and placeholders (``review_protokoll``;
   a stopp is exit 8, nothing written); klarspråk findings are warnings for ``beslut review``;
3. render ``protokoll.docx`` and ``protokollsutdrag-§N.docx`` from
   ``templates/docx/protokoll.docx`` (``protokolldocx.render_protokoll``) and convert each to PDF/A-2a + PDF/UA-1
   (``Converter.to_pdf``, which finishes and claims only what ``page-validation`` passes);
   every PDF is validated again and the verdict recorded;
4. commit: the files move from the staging folder into ``out/sammantraden/<namn>/``
   (``agenda.agenda_outputs``) only when all succeeded; utdrag of §§ that are no longer in
   the protokoll are removed (and listed); ``protokoll-manifest.json`` records every file,
   its sha256 and the inputs' fingerprint, which ``expediering`` checks before sending.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from .agenda import agenda_outputs
from .conformance import validate_pdf
from .errors import EnvironmentProblem, ReviewError, TemplateError, describe_os_error
from .files import fingerprint_of, sha256_file
from .findings import STOPP, VARNING, Finding
from .meetingfiles import MeetingFiles
from .outfolder import STAGING_DIR, check_out_folder, write_manifest_json
from .personnummer import find_personnummer
from .protokollcheck import load_protokoll
from .protokolldocx import render_protokoll
from .protokollet import LoadedProtokoll, text_fields
from .review import LIX_MIN_WORDS, LIX_THRESHOLD, _placeholders
from .runtemp import process_folder
from .templates import PROTOKOLL, template_path

ANSLAG_WITHIN_DAYS = 2
"""Kommunallagen 8 kap. 12 §: the justering is announced at the latest the second day after it."""


# --- where the files go ------------------------------------------------------------------


def minutes_outputs(out: Path, loaded: LoadedProtokoll) -> MeetingFiles:
    """Return where the protokoll's files go (the sammanträde's out folder)."""
    return agenda_outputs(out, loaded.meeting)


def _files(outputs: MeetingFiles, loaded: LoadedProtokoll) -> list[Path]:
    return outputs.minutes_files(p.nummer for p in loaded.paragrafer)


@dataclass
class MinutesResult:
    """What ``build_minutes`` wrote and what it found."""

    loaded: LoadedProtokoll | None = None
    files: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    conformance: dict[str, dict[str, list[tuple[str, str]]]] = field(default_factory=dict)
    """Per PDF (file name): the failed rules per profile ("2a", "ua1"); empty lists pass."""
    manifest: Path | None = None


# --- the story -------------------------------------------------------------------------------


def build_minutes(path: Path, organisationer_path: Path, out: Path, *, templates: Path | None = None,
                  converter_factory: Callable | None = None,
                  on_progress: Callable[[str], None] | None = None) -> MinutesResult:
    """Check the protokoll, then write the protokoll and every utdrag (.docx and PDF)."""
    loaded = load_protokoll(path, organisationer_path)
    findings = review_protokoll(loaded)
    stopp = [f for f in findings if f.severity == STOPP]
    if stopp:
        raise ReviewError("granskningen av protokollet hittade stopp, så inget skrevs:\n"
                          + "\n".join(f"  {f.located()}" for f in stopp))
    check_out_folder(out, loaded.meeting.source.parent, organisationer_path.resolve().parent)
    template = template_path(templates, PROTOKOLL)
    if not template.is_file():
        raise TemplateError("mallen för protokollet saknas. Kopiera protokoll.docx från templates/docx/ "
                            "till mallmappen.", file=template)
    say = on_progress or (lambda text: None)
    if converter_factory is None:
        from .convert import Converter

        converter_factory = Converter
    result = MinutesResult(loaded=loaded)
    result.warnings += [f.located() for f in findings if f.severity == VARNING]
    late = late_anslag(loaded)
    if late:
        result.warnings.append(late)
    outputs = minutes_outputs(out, loaded)
    when = loaded.protokoll.justering.datum
    with ExitStack() as stack:
        staging = process_folder(out / STAGING_DIR)
        stack.callback(shutil.rmtree, staging, True)
        staged = MeetingFiles(staging)
        say("Protokoll")
        render_protokoll(loaded, staged.protokoll_docx, template)
        for p in loaded.paragrafer:
            render_protokoll(loaded, staged.utdrag(p.nummer, ".docx"), template, utdrag=p)
        with converter_factory() as converter:
            for docx in [staged.protokoll_docx, *(staged.utdrag(p.nummer, ".docx") for p in loaded.paragrafer)]:
                say(f"PDF: {docx.stem}")
                converter.to_pdf(docx, docx.with_suffix(".pdf"), pdfa=True, when=when)
        for pdf in (f for f in _files(staged, loaded) if f.suffix == ".pdf"):
            verdict = {profile: validate_pdf(pdf, profile) for profile in ("2a", "ua1")}
            result.conformance[pdf.name] = verdict
            failing = [profile for profile, failures in verdict.items() if failures]
            if failing:
                result.warnings.append(f"{pdf.name} klarar inte {' och '.join(_PROFILES[p] for p in failing)} "
                                       f"enligt kontrollen (t.ex. {verdict[failing[0]][0][1]}).")
        result.removed = _stale_utdrag(outputs, loaded)
        result.files = _commit(staged, outputs, loaded)
        for stale in result.removed:
            stale.unlink(missing_ok=True)
    result.manifest = write_minutes_manifest(outputs, loaded, result, organisationer_path)
    return result


_PROFILES = {"2a": "PDF/A-2a", "ua1": "PDF/UA-1"}


def late_anslag(loaded: LoadedProtokoll) -> str | None:
    """Return a warning when the anslag goes up later than the second day after the justering."""
    anslag = loaded.anslag
    assert anslag is not None
    if anslag.uppsatt <= anslag.justerat + timedelta(days=ANSLAG_WITHIN_DAYS):
        return None
    return (f"anslaget sätts upp {anslag.uppsatt.isoformat()}, mer än två dagar efter justeringen "
            f"({anslag.justerat.isoformat()}). Kommunallagen 8 kap. 12 § säger senast andra dagen efter "
            "justeringen.")


def _stale_utdrag(outputs: MeetingFiles, loaded: LoadedProtokoll) -> list[Path]:
    """Return the utdrag in the out folder of §§ that this protokoll does not have."""
    current = set(_files(outputs, loaded))
    return [p for p in outputs.utdrag_on_disk() if p not in current]


def _commit(staged: MeetingFiles, outputs: MeetingFiles, loaded: LoadedProtokoll) -> list[Path]:
    files = []
    for source, final in zip(_files(staged, loaded), _files(outputs, loaded), strict=True):
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, final)
        except OSError as e:
            raise EnvironmentProblem(f"filen kan inte skrivas: {describe_os_error(e)}", file=final) from e
        files.append(final)
    return files


# --- the review of the protokoll's text --------------------------------------------------------


def review_protokoll(loaded: LoadedProtokoll) -> list[Finding]:
    """Return the findings in the protokoll's own text: personnummer and placeholders (stopp),
    myndighetsord (varning). The protokoll is a public document."""
    from .readability import find_myndighetsord, lix, lix_label

    findings = []
    doc = loaded.doc
    for name, loc, text in text_fields(loaded):
        line = doc.line_of(loc)
        for match, kind in find_personnummer(text):
            masked = match.group(0)[:-4] + "****"
            findings.append(Finding(STOPP, "personnummer", name,
                                    f"ett {kind} ({masked}) står i protokollet. Protokollet är allmänt och "
                                    "publiceras; ta bort numret.", doc.path, line))
        for match in _placeholders(text):
            findings.append(Finding(STOPP, "platshallare", name,
                                    f"'{match.group(0)}' ser ut att vara en platshållare som inte har fyllts i.",
                                    doc.path, line))
        for word in find_myndighetsord(text):
            findings.append(Finding(VARNING, "myndighetsord", name,
                                    f"'{word.text}' är ett myndighetsord; skriv hellre '{word.alternative}'.",
                                    doc.path, line))
    for p in loaded.paragrafer:
        if p.punkt.beslut:
            value, words = lix(" ".join(p.punkt.beslut))
            if words >= LIX_MIN_WORDS and value > LIX_THRESHOLD:
                findings.append(Finding(VARNING, "lix", f"{p.label}.beslut",
                                        f"beslutets LIX är {value} ({lix_label(value)}; målet är högst "
                                        f"{LIX_THRESHOLD}). Skriv kortare meningar och enklare ord.",
                                        doc.path, doc.line_of(("punkter", p.index, "beslut"))))
    return sorted(findings, key=lambda f: (f.severity != STOPP, f.line or 0))



# --- the manifest ------------------------------------------------------------------------------


def inputs_fingerprint(loaded: LoadedProtokoll, organisationer_path: Path) -> str:
    """Return the sha256 of what the protokoll is made from: meeting, protokoll, registry, the
    ärenden's YAML and the version of beslut."""
    files = [loaded.meeting.source, loaded.source, organisationer_path]
    for p in loaded.paragrafer:  # the förslag and the bilagor's titles come from the ärende's YAML
        if p.planned.loaded is not None:
            files += sorted(p.planned.loaded.folder.rglob("*.yaml"))
    return fingerprint_of([(file.name, file) for file in files])


def write_minutes_manifest(outputs: MeetingFiles, loaded: LoadedProtokoll, result: MinutesResult,
                           organisationer_path: Path) -> Path:
    """Write ``protokoll-manifest.json``: every file with its sha256, each § and its recipients."""
    manifest = {
        "titel": loaded.title,
        "protokoll": str(loaded.source),
        "fingeravtryck": inputs_fingerprint(loaded, organisationer_path),
        "paragrafer": [
            {"paragraf": p.nummer, "rubrik": p.rubrik,
             "utdrag": outputs.utdrag(p.nummer, ".pdf").name,
             "expedieras": [m.organisation.id if m.organisation else m.namn for m in p.expedieras],
             **({"omedelbart_justerad": loaded.justerad(p).isoformat()} if p.omedelbart_justerad else {})}
            for p in loaded.paragrafer
        ],
        "dokument": [{"fil": f.name, "sha256": sha256_file(f)} for f in result.files],
        "validering": {name: {profile: [{"regel": r, "meddelande": m} for r, m in failures]
                              for profile, failures in verdict.items()}
                       for name, verdict in result.conformance.items()},
        "borttagna": [p.name for p in result.removed],
        "varningar": result.warnings,
    }
    return write_manifest_json(outputs.protokoll_manifest, manifest)
