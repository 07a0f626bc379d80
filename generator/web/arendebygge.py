"""Checking, previewing and building an ärende from its form (the slow work in threads)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .. import pipeline
from ..errors import BeslutError
from . import actions, converters, forms
from .arendesidor import SHARED_TAB, _edit_context, readability, save, tab_file, tab_urls
from .config import WebConfig, scrub
from .jobbsidor import _job_audit, _report_to_job, _submit
from .jobqueue import Job
from .pages import (
    arende_folder,
    audit,
    config_of,
    disposition,
    error_page,
    page,
    problem_dicts,
    shown,
    with_converter,
)


def _candidate(config: WebConfig, folder: Path, form) -> tuple[str, dict[str, str]]:
    """Return the tab and the YAML texts the form would save, for checking and previewing."""
    tab = str(form.get("flik") or SHARED_TAB)
    file = tab_file(folder, tab)
    text = forms.render_text(file.read_text(encoding="utf-8"), forms.state_from_form(form), file)
    return tab, {str(file.relative_to(folder)): text}


def _org_id(tab: str) -> str | None:
    """Return the organisation id whose override file ``tab`` edits, or None for the shared tab."""
    return None if tab == SHARED_TAB else tab


async def check(request: Request) -> JSONResponse:
    """Check the form as it is now (live validation): the CLI's messages, by field."""
    config = config_of(request)
    folder = arende_folder(config, request.path_params["namn"])
    form = await request.form()
    findings: list[actions.Problem] = []
    try:
        tab, texts = await run_in_threadpool(_candidate, config, folder, form)
        problems, findings = await run_in_threadpool(actions.check_candidate, folder, texts, config.organisationer,
                                                     lambda p: shown(config, p), _org_id(tab))
    except BeslutError as e:
        problems = actions.parse_problems(e, lambda p: shown(config, p))
        tab = str(form.get("flik") or SHARED_TAB)
    file_shown = shown(config, tab_file(folder, tab))
    return JSONResponse({"problems": problem_dicts(problems, file_shown), "reviewed": not problems,
                         "findings": problem_dicts(findings, file_shown, tab_urls(folder, config),
                                                   str(form.get("bedomning_label") or "Bedömning")),
                         "lix": readability(forms.state_from_form(form))})


async def preview(request: Request) -> Response:
    """Return the PDF of the paper (or handlingar.pdf) as the form is now, without saving."""
    config = config_of(request)
    folder = arende_folder(config, request.path_params["namn"])
    form = await request.form()
    handlingar = request.query_params.get("handlingar") == "1" or form.get("atgard") == "forhandsgranska-handlingar"
    try:
        tab, texts = await run_in_threadpool(_candidate, config, folder, form)
        pdf, problems = await run_in_threadpool(
            with_converter, request, 30, actions.preview_candidate, folder, texts, config.organisationer,
            _org_id(tab), config.out, handlingar, config.templates, lambda p: shown(config, p))
    except converters.Busy:
        return error_page(request, 503)
    except BeslutError as e:
        pdf, problems = None, actions.parse_problems(e, lambda p: shown(config, p))
    if pdf is None:
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"problems": problem_dicts(problems)}, status_code=422)
        return page(request, "problems.html", status=422, namn=folder.name, problems=problem_dicts(problems),
                    title="Förhandsgranskningen gick inte att göra")
    name = f"{folder.name} – förhandsgranskning – " + ("handlingar.pdf" if handlingar else "dokument.pdf")
    return Response(pdf, media_type="application/pdf", headers={"content-disposition": disposition("inline", name)})


async def build(request: Request) -> Response:
    """Save the form, then queue a build of the whole ärende and show its progress page."""
    config = config_of(request)
    folder = arende_folder(config, request.path_params["namn"])
    form = await request.form()
    tab = str(form.get("flik") or SHARED_TAB)
    if any(isinstance(f, UploadFile) and f.filename for f in form.getlist("filer")):
        # files chosen: upload and save as Spara does, and show that before anything is built
        return await save(request, first=("Handlingarna är inte skapade än: de valda filerna laddades upp först. "
                                          "Kontrollera bilagorna och tryck på ”Spara och skapa handlingarna” igen."))
    if "version" in form:
        state = forms.state_from_form(form)
        try:
            await run_in_threadpool(forms.save_state, tab_file(folder, tab), state, str(form["version"]))
            audit(request, "spara", arende=folder.name, detalj=f"{shown(config, tab_file(folder, tab))}; före bygge")
        except forms.Conflict:
            audit(request, "spara", arende=folder.name, resultat="fel",
                  detalj="konflikt: filen ändrades av någon annan")
            context = await run_in_threadpool(_edit_context, config, folder, tab, state, str(form["version"]))
            return page(request, "edit.html", status=409, notice=None, conflict=True, messages=[], **context)
    problems, findings = await run_in_threadpool(actions.check_arende, folder, config.organisationer)
    if problems:
        context = await run_in_threadpool(_edit_context, config, folder, tab, None, None, problems)
        return page(request, "edit.html", status=422, notice=None, conflict=False,
                    messages=["Rätta felen nedan innan du skapar handlingarna."], **context)
    namn = folder.name
    base = f"/arende/{quote(namn)}"
    utkast = form.get("utkast") == "ja"
    stopp = [f for f in findings if f.severity == "stopp"]
    if stopp and not utkast:
        stopp = [replace(f, file=shown(config, f.file)) if f.file else f for f in stopp]
        return page(request, "stopp.html", status=422, namn=namn, flik=tab,
                    stopp=problem_dicts(stopp, "", tab_urls(folder, config), "Bedömning"))

    log_event = _job_audit(request, "bygge", "utkast" if utkast else None, arende=namn)

    def work(job: Job, converter) -> None:
        crashed = True
        try:
            report = actions.build_arende(folder, config.organisationer, config.out, converter,
                                          templates=config.templates, utkast=utkast, progress=job.progress)
            _report_to_job(job, report, pipeline.output_folder(folder, config.out), base)
            crashed = False
        except BeslutError as e:
            job.error, crashed = scrub(e.format()), False
        finally:
            log_event(job, crashed)

    title = f"Utkast av handlingarna: {namn}" if utkast else f"Handlingarna: {namn}"
    return _submit(request, f"arende/{namn}", title, work, f"{base}?flik={quote(tab)}", draft=utkast)
