"""Planning a run: loaded content becomes jobs, one per organisation or recipient.

Every command plans first and runs after (``runner.run_plan``): a single ärende is a plan
of one job, a shared ärende one job per organisation, a följebrev batch one per
recipient. A job is immutable and picklable and carries everything decided once: the
content itself (workers never re-read YAML by path), the template, the output paths
(``paper_outputs`` and ``letter_outputs``: each job's files in its folder, which
``outfolder`` places) and, for a paper, its numbered bilagor.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .bilagor import PlannedBilaga, plan_bilagor
from .content import LoadedArende, LoadedUtskick
from .errors import UsageProblem
from .files import link_on_the_way
from .markdowncheck import table_warnings
from .model import Organisation
from .outfolder import (
    BUNDLE_NAME,
    CACHE_DIR,
    REPORT_STEM,
    STAGING_DIR,
    arende_folder,
    check_out_folder,
    manifest_path,
    utskick_folder,
)
from .review import allowed_personnummer
from .templatefile import cleaning_warnings
from .templates import BESLUTSUNDERLAG, FOLJEBREV, template_path
from .wording import wording_for

# --- each job's files in out/ (their folders: outfolder) ---------------------------------


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


def paper_outputs(out: Path, loaded: LoadedArende, *, pdf: bool, bundle: bool, utkast: bool = False) -> Outputs:
    """Return where a paper goes: ``out/arenden/<ärende>/`` or, shared, ``…/<org-id>/``.

    The file is named after the document: beslutsunderlag.docx or tjänsteutlåtande.docx.
    A draft goes to the ärende's ``utkast/`` folder, so it never replaces a final paper.
    """
    folder = arende_folder(out, loaded.name, utkast=utkast)
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


def letter_outputs(out: Path, loaded: LoadedUtskick, org: Organisation, *, pdf: bool,
                   eml: bool = False) -> Outputs:
    """Return where the letter to ``org`` goes: ``out/utskick/<utskick>/<id>.docx`` (``.pdf``, ``.eml``).

    Only a recipient with an e-mail address in the registry gets an ``.eml``.
    """
    folder = utskick_folder(out, loaded.name)
    return Outputs(docx=folder / f"{org.id}.docx", pdf=folder / f"{org.id}.pdf" if pdf else None,
                   eml=folder / f"{org.id}.eml" if (pdf and eml and org.epost) else None)


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
    written += [plan.manifest, plan.out / STAGING_DIR]
    for path in written:
        link = link_on_the_way(plan.out, path)
        if link is not None:
            raise UsageProblem(
                f"{link} i utmappen är en symbolisk länk (till {os.readlink(link)}). beslut skriver "
                "aldrig genom en länk, så inget av ditt kan skrivas över: ta bort länken eller välj "
                "en annan mapp med --out.")
    check_out_folder(plan.folder, *inputs)
    check_out_folder(plan.out / CACHE_DIR, *inputs)


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
    def org_id(self) -> str:
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

    @property
    def allowed_personnummer(self) -> frozenset[str]:
        """The numbers the ärende allows (``tillåt_personnummer``): its side files print them unmasked."""
        return allowed_personnummer(self.loaded)


@dataclass(frozen=True)
class LetterJob:
    """One följebrev to one recipient, with its PDF if asked."""

    utskick: LoadedUtskick
    organisation: Organisation
    template: Path
    outputs: Outputs
    warnings: tuple[str, ...] = ()

    @property
    def org_id(self) -> str:
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
        return manifest_path(self.folder)

    @property
    def allowed_personnummer(self) -> frozenset[str]:
        """The numbers its ärende allows (``PaperJob.allowed_personnummer``); none for letters."""
        return frozenset().union(*(job.allowed_personnummer for job in self.jobs if isinstance(job, PaperJob)))

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
    return Plan(jobs=jobs, folder=arende_folder(out, first.name, utkast=utkast), title=first.arende.rubrik, out=out,
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
    return Plan(jobs=jobs, folder=utskick_folder(out, loaded.name), title=loaded.utskick.rubrik, out=out)
