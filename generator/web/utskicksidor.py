"""The utskick pages: writing the letters, the send preview, and editing an utskick."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from .. import pipeline
from ..errors import BeslutError, ContentError
from ..pipeline import UTSKICK_FILE
from . import actions, forms, utskickform
from .config import WebConfig, scrub
from .jobbsidor import _job_audit, _report_to_job, _submit
from .jobqueue import Job
from .pages import audit, config_of, error_page, page, page_message, shown, utskick_folder
from .startsida import last_built


async def utskick(request: Request) -> HTMLResponse:
    config = config_of(request)
    folder = utskick_folder(config, request.path_params["namn"])
    return page(request, "utskick.html", **(await run_in_threadpool(_utskick_context, config, folder, None)))


def _utskick_context(config: WebConfig, folder: Path, org_ids: list[str] | None, problems=None, pdf: bool = True,
                     eml: bool = False) -> dict:
    registry = pipeline.load_organisationer(config.organisationer)
    rubrik, default, sender, with_address, count = folder.name, "–", None, 0, 0
    try:
        loaded, recipients = actions.validate_utskick(folder, config.organisationer)
        rubrik, sender = loaded.utskick.rubrik, loaded.utskick.avsandare_epost
        with_address, count = sum(1 for r in recipients if r.epost), len(recipients)
        m = loaded.utskick.mottagare
        default = m if isinstance(m, str) else ", ".join(m)
        if loaded.utskick.utom:
            default += " utom " + ", ".join(loaded.utskick.utom)
        default += f" ({len(recipients)} mottagare)"
    except BeslutError as e:
        problems = (problems or []) + actions.parse_problems(e, lambda p: shown(config, p))
    return {"namn": folder.name, "rubrik": rubrik, "default": default, "till": org_ids or [],
            "organisationer": registry.organisationer, "problems": utskick_problem_dicts(problems or []),
            "built": last_built(config, folder), "sender": sender, "with_address": with_address,
            "count": count, "file_shown": shown(config, folder / UTSKICK_FILE), "folder_shown": shown(config, folder),
            "pdf": pdf, "eml": eml}


async def run_utskick(request: Request) -> Response:
    config = config_of(request)
    folder = utskick_folder(config, request.path_params["namn"])
    form = await request.form()
    org_ids = [str(t) for t in form.getlist("till")] or None
    pdf, eml = form.get("pdf") == "ja", form.get("eml") == "ja"
    try:
        if eml and not pdf:
            raise ContentError("e-postmeddelandena får breven som PDF-bilaga: kryssa också i ”Skapa också PDF/A "
                               "av varje brev”.")
        await run_in_threadpool(lambda: actions.validate_utskick(folder, config.organisationer, org_ids, eml=eml))
    except BeslutError as e:
        problems = actions.parse_problems(e, lambda p: shown(config, p))
        return page(request, "utskick.html", status=422,
                    **(await run_in_threadpool(_utskick_context, config, folder, org_ids, problems, pdf, eml)))
    namn = folder.name
    base = f"/utskick/{quote(namn)}"

    kind = ", ".join(x for x in ["pdf" if pdf else None, "eml" if eml else None,
                                 f"till: {', '.join(org_ids)}" if org_ids else None] if x)
    log_event = _job_audit(request, "utskick", kind or None, utskick=namn)

    def work(job: Job, converter) -> None:
        crashed = True
        try:
            report = actions.run_letters(folder, config.organisationer, config.out, org_ids, pdf=pdf, eml=eml,
                                         converter=converter, templates=config.templates, progress=job.progress)
            _report_to_job(job, report, pipeline.output_folder(folder, config.out), base)
            crashed = False
        except BeslutError as e:
            job.error, crashed = scrub(e.format()), False
        finally:
            log_event(job, crashed)

    return _submit(request, f"utskick/{namn}", f"Följebrev: {namn}", work, base)


async def send_preview(request: Request) -> HTMLResponse:
    """Show what ``beslut send`` would send now (its dry run); nothing is sent from the page."""
    config = config_of(request)
    folder = utskick_folder(config, request.path_params["namn"])
    lines, problems = [], []
    try:
        lines = await run_in_threadpool(actions.send_dry_run, folder, config.organisationer, config.out,
                                        config.templates)
    except BeslutError as e:
        problems = [line.strip() for line in e.format().splitlines() if line.strip()]
    return page(request, "skicka.html", namn=folder.name, folder_shown=shown(config, folder),
                problems=[scrub(p) for p in problems], lines=[scrub(line) for line in lines])


def utskick_problem_dicts(problems: list[actions.Problem]) -> list[dict]:
    """Return an utskick's problems for a page: named by the utskick form's labels, the CLI's text as ``tech``."""
    dicts = []
    for found in dict.fromkeys(problems):
        anchor = utskickform.field_anchor(found.field)
        label = utskickform.field_label(anchor)
        message = page_message(found.message)
        text = f"{label}: {message}" if label else message
        dicts.append({"anchor": anchor, "text": scrub(text), "message": scrub(message), "tech": scrub(found.text)})
    return dicts


def _utskick_edit_context(config: WebConfig, folder: Path, state: forms.State | None = None,
                          version: str | None = None) -> dict:
    file = folder / UTSKICK_FILE
    raw = file.read_bytes()
    data = forms.load_data(raw.decode("utf-8"), file)
    state = {**utskickform.state_from_data(data), **(state or {})}
    registry = pipeline.load_organisationer(config.organisationer)
    problems: list[dict] = []
    try:
        actions.validate_utskick(folder, config.organisationer)
    except BeslutError as e:
        problems = utskick_problem_dicts(actions.parse_problems(e, lambda x: shown(config, x)))
    field_errors: dict[str, list[str]] = {}
    for shown_problem in problems:
        if shown_problem["anchor"]:
            field_errors.setdefault(shown_problem["anchor"], []).append(shown_problem["message"])
    return {"namn": folder.name, "fields": utskickform.FIELDS, "state": state, "groups": utskickform.GROUPS,
            "organisationer": registry.organisationer, "version": version or forms.file_version(raw),
            "problems": problems, "field_errors": field_errors, "file_shown": shown(config, file)}


async def utskick_edit(request: Request) -> Response:
    config = config_of(request)
    folder = utskick_folder(config, request.path_params["namn"])
    try:
        context = await run_in_threadpool(_utskick_edit_context, config, folder)
    except BeslutError as e:
        return error_page(request, 400, e.format())
    notice = ("Utskicket är skapat. Fyll i det och spara." if request.query_params.get("nytt") else
              "Sparat." if request.query_params.get("sparat") else None)
    return page(request, "utskick_edit.html", notice=notice, conflict=False, **context)


async def utskick_save(request: Request) -> Response:
    config = config_of(request)
    folder = utskick_folder(config, request.path_params["namn"])
    form = await request.form()
    state = utskickform.state_from_form(form)
    version = str(form.get("version", ""))
    try:
        await run_in_threadpool(utskickform.save_state, folder / UTSKICK_FILE, state, version)
    except forms.Conflict:
        context = await run_in_threadpool(_utskick_edit_context, config, folder, state, version)
        return page(request, "utskick_edit.html", status=409, notice=None, conflict=True, **context)
    audit(request, "spara", utskick=folder.name, detalj=shown(config, folder / UTSKICK_FILE))
    return RedirectResponse(f"/utskick/{quote(folder.name)}/redigera?sparat=1", status_code=303)


async def refused_utskick(request: Request, status: int, reason: str) -> Response:
    config = config_of(request)
    folder = utskick_folder(config, request.path_params["namn"])
    form = await request.form()
    context = await run_in_threadpool(_utskick_edit_context, config, folder, utskickform.state_from_form(form),
                                      str(form.get("version", "")))
    return page(request, "utskick_edit.html", status=status, notice=None, conflict=False, refused=reason, **context)


async def refused_letters(request: Request, status: int, reason: str) -> Response:
    config = config_of(request)
    folder = utskick_folder(config, request.path_params["namn"])
    form = await request.form()
    context = await run_in_threadpool(_utskick_context, config, folder, [str(t) for t in form.getlist("till")], None,
                                      form.get("pdf") == "ja", form.get("eml") == "ja")
    return page(request, "utskick.html", status=status, refused=reason, **context)
