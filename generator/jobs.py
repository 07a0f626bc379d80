"""Planning a run: loaded content becomes jobs, one per organisation or recipient.

Every command plans first and runs after (``runner.run_plan``): a single ärende is a plan
of one job, a shared ärende one job per organisation, a följebrev batch one per
recipient. A job is immutable and picklable and carries everything decided once: the
content itself (workers never re-read YAML by path), the template, the output paths
(``paper_outputs`` and ``letter_outputs``: the one place that decides the layout of
``out/``) and, for a paper, its numbered bilagor.
"""

from __future__ import annotations

import json
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .bilagor import PlannedBilaga, plan_bilagor
from .content import LoadedArende, LoadedUtskick
from .errors import UsageProblem, describe_os_error
from .files import link_on_the_way
from .markdowncheck import table_warnings
from .model import Organisation
from .templatefile import cleaning_warnings
from .templates import BESLUTSUNDERLAG, FOLJEBREV, template_path
from .wording import wording_for

BUNDLE_NAME = "handlingar.pdf"
REPORT_STEM = "tillganglighetsrapport"
"""The tillgänglighetsrapport's name beside handlingar.pdf (``.txt`` and ``.json``)."""
MANIFEST_NAME = "manifest.json"
ARENDEN_DIR = "arenden"
"""``out/arenden/<ärende>/``: every ärende's papers and handlingar.pdf."""
UTSKICK_DIR = "utskick"
"""``out/utskick/<utskick>/``: every utskick's letters (never in an ärende's folder)."""
UTKAST_DIR = "utkast"
"""``out/arenden/<ärende>/utkast/``: the last draft, beside (never over) the last final build."""
LAYOUT_DIRS = (ARENDEN_DIR, UTSKICK_DIR, "sammantraden")
"""The folders directly in ``out/`` of this layout (sammanträden: ``agenda``)."""


# --- the layout of out/ --------------------------------------------------------------------


@dataclass(frozen=True)
class Outputs:
    """Where one job's files go: the .docx, and optionally its PDF and handlingar.pdf."""

    docx: Path
    pdf: Path | None = None
    bundle: Path | None = None
    eml: Path | None = None
    """A letter's e-mail (RFC 5322, the PDF attached), for ``beslut send`` or a mail client."""
    report: Path | None = None
    """The tillgänglighetsrapport beside handlingar.pdf, for people (``accessibility``)."""
    report_json: Path | None = None
    """The same report for tools."""

    def files(self) -> list[Path]:
        """Return the files in the order they are produced."""
        return [f for f in (self.docx, self.pdf, self.bundle, self.eml, self.report, self.report_json)
                if f is not None]


def arende_folder(out: Path, loaded: LoadedArende, *, utkast: bool = False) -> Path:
    """Return the ärende's folder in ``out``: ``out/arenden/<ärende>/`` (a draft's: ``…/utkast/``)."""
    folder = out / ARENDEN_DIR / loaded.name
    return folder / UTKAST_DIR if utkast else folder


def paper_outputs(out: Path, loaded: LoadedArende, *, pdf: bool, bundle: bool, utkast: bool = False) -> Outputs:
    """Return where a paper goes: ``out/arenden/<ärende>/`` or, shared, ``…/<org-id>/``.

    The file is named after the document: beslutsunderlag.docx or tjänsteutlåtande.docx.
    A draft goes to the ärende's ``utkast/`` folder, so it never replaces a final paper.
    """
    folder = arende_folder(out, loaded, utkast=utkast)
    if loaded.shared:
        folder = folder / loaded.organisation.id
    stem = wording_for(loaded.organisation)["dokumenttyp"].lower()
    return Outputs(
        docx=folder / f"{stem}.docx",
        pdf=folder / f"{stem}.pdf" if (pdf or bundle) else None,
        bundle=folder / BUNDLE_NAME if bundle else None,
        report=folder / f"{REPORT_STEM}.txt" if bundle else None,
        report_json=folder / f"{REPORT_STEM}.json" if bundle else None,
    )


def utskick_folder(out: Path, loaded: LoadedUtskick) -> Path:
    """Return the utskick's folder in ``out``: ``out/utskick/<utskick>/``."""
    return out / UTSKICK_DIR / loaded.name


def letter_outputs(out: Path, loaded: LoadedUtskick, org: Organisation, *, pdf: bool,
                   eml: bool = False) -> Outputs:
    """Return where the letter to ``org`` goes: ``out/utskick/<utskick>/<id>.docx`` (``.pdf``, ``.eml``).

    Only a recipient with an e-mail address in the registry gets an ``.eml``.
    """
    folder = utskick_folder(out, loaded)
    return Outputs(docx=folder / f"{org.id}.docx", pdf=folder / f"{org.id}.pdf" if pdf else None,
                   eml=folder / f"{org.id}.eml" if (pdf and eml and org.epost) else None)


# --- output of an earlier version: out/<name>/ -----------------------------------------------

PAPER_NAMES = ("beslutsunderlag", "tjänsteutlåtande", BUNDLE_NAME.removesuffix(".pdf"), REPORT_STEM)
"""File stems that only an ärende's output has."""


def legacy_kind(folder: Path) -> str | None:
    """Return ``ARENDEN_DIR`` or ``UTSKICK_DIR`` for an earlier version's ``out/<name>/``, by its manifest.

    Papers, handlingar.pdf or a tillgänglighetsrapport mean an ärende; letters named after
    organisations (``<id>.docx``, ``.pdf``, ``.eml``) or a send log mean an utskick. None
    when the folder has no manifest, or the manifest says neither.
    """
    try:
        manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
        names = [Path(e["fil"]).name for e in manifest.get("dokument", []) if isinstance(e.get("fil"), str)]
    except (OSError, ValueError, AttributeError, TypeError, KeyError):
        return None
    stems = {unicodedata.normalize("NFC", Path(n).stem).lower() for n in names}
    if stems & set(PAPER_NAMES):
        return ARENDEN_DIR
    if names and all(Path(n).suffix.lower() in (".docx", ".pdf", ".eml") for n in names):
        return UTSKICK_DIR
    if (folder / "utskick-logg.json").is_file():
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
        if name.startswith(".") or legacy.is_symlink() or not (legacy / MANIFEST_NAME).is_file():
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


def check_out_paths(plan: Plan) -> None:
    """Refuse a plan that would write through a symbolic link in ``out/``, or into its own input.

    Every file and folder the run writes (documents, manifest, the staging folder) is
    checked: a link on the way (``out/arenden/<ärende>`` pointing at the ärende, say) is refused,
    and so is a folder that resolves into the ärende or utskick itself. The bilaga cache,
    ``out/.cache``, may be a link, as ``out`` itself may (the web page's previews share the
    real out's cache so), but not into the ärende or utskick.
    """
    inputs = [_input_folder(job) for job in plan.jobs]
    written = [path for job in plan.jobs for path in job.outputs.files()]
    written += [plan.manifest, plan.out / ".beslut-arbete"]
    for path in written:
        link = link_on_the_way(plan.out, path)
        if link is not None:
            raise UsageProblem(
                f"{link} i utmappen är en symbolisk länk (till {os.readlink(link)}). beslut skriver "
                "aldrig genom en länk, så inget av ditt kan skrivas över: ta bort länken eller välj "
                "en annan mapp med --out.")
    check_out_folder(plan.folder, *inputs)
    check_out_folder(plan.out / ".cache", *inputs)


def _input_folder(job: Job) -> Path:
    """Return the folder the user wrote ``job``'s content in (the ärende's or the utskick's)."""
    return job.loaded.folder if isinstance(job, PaperJob) else job.utskick.source.parent


# --- jobs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaperJob:
    """One beslutsunderlag or tjänsteutlåtande, with its PDF and handlingar.pdf if asked."""

    loaded: LoadedArende
    bilagor: tuple[PlannedBilaga, ...]
    template: Path
    outputs: Outputs
    utkast: bool = False
    """A draft: every page is marked UTKAST."""
    warnings: tuple[str, ...] = ()
    """What the content's check found worth saying (e.g. a malformed Markdown table)."""

    @property
    def recipient(self) -> str:
        return self.loaded.organisation.id

    @property
    def name(self) -> str:
        return self.loaded.organisation.namn

    @property
    def title(self) -> str:
        return self.loaded.arende.rubrik

    @property
    def bookmark(self) -> str:
        """Return the paper's bookmark in handlingar.pdf: "Beslutsunderlag"/"Tjänsteutlåtande"."""
        return wording_for(self.loaded.organisation)["dokumenttyp"]


@dataclass(frozen=True)
class LetterJob:
    """One följebrev to one recipient, with its PDF if asked."""

    utskick: LoadedUtskick
    organisation: Organisation
    template: Path
    outputs: Outputs
    warnings: tuple[str, ...] = ()

    @property
    def recipient(self) -> str:
        return self.organisation.id

    @property
    def name(self) -> str:
        return self.organisation.namn


Job = PaperJob | LetterJob


@dataclass(frozen=True)
class Plan:
    """What one command will do: its jobs, where its manifest goes, and whether it is whole.

    A whole plan covers every recipient of its ärende or utskick, so output left from an
    earlier run for a recipient it no longer has is removed (it is listed, not silent).
    A plan limited with ``--organisation`` leaves the other organisations' output alone.
    """

    jobs: tuple[Job, ...]
    folder: Path
    """The ärende's or utskick's folder in ``out/``, where the manifest goes."""
    title: str
    out: Path
    whole: bool = True
    findings: tuple = ()
    """What the review (``review.review_arende``) found; a plan has no stopp unless a draft."""
    notices: tuple[str, ...] = ()
    """What planning did that the user should hear of once (``move_legacy_output``)."""

    @property
    def manifest(self) -> Path:
        return self.folder / MANIFEST_NAME

    @property
    def needs_converter(self) -> bool:
        return any(job.outputs.pdf is not None for job in self.jobs)


def plan_papers(
    instances: list[LoadedArende],
    out: Path,
    *,
    pdf: bool = False,
    bundle: bool = False,
    templates: Path | None = None,
    whole: bool = True,
    utkast: bool = False,
    findings: tuple = (),
) -> Plan:
    """Return the plan for the papers of ``instances`` (one ärende, or a shared one's)."""
    template = template_path(templates, BESLUTSUNDERLAG)
    from_template = cleaning_warnings(template)
    jobs = tuple(
        PaperJob(
            loaded=loaded,
            bilagor=plan_bilagor(loaded),
            template=template,
            outputs=paper_outputs(out, loaded, pdf=pdf, bundle=bundle, utkast=utkast),
            utkast=utkast,
            warnings=tuple(table_warnings(loaded.arende)) + from_template,
        )
        for loaded in instances
    )
    first = instances[0]
    return Plan(jobs=jobs, folder=arende_folder(out, first, utkast=utkast), title=first.arende.rubrik, out=out,
                whole=whole, findings=findings)


def plan_letters(
    loaded: LoadedUtskick,
    recipients: list[Organisation],
    out: Path,
    *,
    pdf: bool = False,
    eml: bool = False,
    templates: Path | None = None,
) -> Plan:
    """Return the plan for one följebrev per recipient (with ``eml``, also its e-mail)."""
    template = template_path(templates, FOLJEBREV)
    warnings = tuple(table_warnings(loaded.utskick)) + cleaning_warnings(template)
    no_address = ("ingen e-postadress ('e-post') i registret, så inget .eml skrevs.",)
    jobs = tuple(
        LetterJob(utskick=loaded, organisation=org, template=template,
                  outputs=letter_outputs(out, loaded, org, pdf=pdf, eml=eml),
                  warnings=warnings + (no_address if eml and not org.epost else ()))
        for org in recipients
    )
    return Plan(jobs=jobs, folder=utskick_folder(out, loaded), title=loaded.utskick.rubrik, out=out)
