"""The jobs: submitting a build or letter run to the queue, its progress page and its result."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from .config import client_of, scrub
from .jobqueue import Job, QueueFull
from .pages import error_page, page
from .state import AuditLog


def _job_audit(request: Request, handelse: str, kind: str | None, **where):
    """Return what writes a job's result to the audit log when it ends (in the job's thread)."""
    log: AuditLog = request.app.state.audit
    user, address = request.state.user, client_of(request.scope)

    def log_event(job: Job, crashed: bool = False) -> None:
        failed = [name for name, _ in job.failures]
        error = "oväntat fel (se serverns logg)" if crashed else job.error
        detalj = "; ".join(x for x in [kind, error, f"misslyckades: {', '.join(failed)}" if failed else None] if x)
        log.write(handelse, anvandare=user, adress=address, resultat="fel" if error or failed else "ok",
                  detalj=detalj or None, **where)

    return log_event


def _report_to_job(job: Job, report, out: Path, base: str) -> None:
    """Put an engine report on the job page: downloads (a draft's marked), warnings, failures."""
    several = len(report.outcomes) > 1
    for outcome in report.outcomes:
        for f in outcome.files:
            label = f"{outcome.name}: {f.name}" if several else f.name
            if job.draft and f.suffix in (".docx", ".pdf"):
                label += " (utkast)"
            job.downloads.append((label, f"{base}/fil/{quote(str(f.relative_to(out)))}"))
    if report.manifest:
        job.downloads.append((report.manifest.name, f"{base}/fil/{quote(str(report.manifest.relative_to(out)))}"))
    job.downloads.append((f"Allt som zip ({out.name}.zip)", f"{base}/zip"))
    job.warnings = [scrub(n) for n in report.notices]  # earlier output moved (once)
    job.warnings += [scrub(f"{o.name}: {w}" if several else w) for o in report.outcomes for w in o.warnings]
    job.failures = [(o.name, scrub(o.error or "")) for o in report.failed]
    if report.failed and len(report.failed) == len(report.outcomes):
        job.error = "Inget dokument kunde skapas. Orsaken står under ”Misslyckades”."


def _submit(request: Request, key: str, title: str, work, back: str, draft: bool = False) -> Response:
    try:
        job = request.app.state.jobs.submit(key, title, work, back, draft=draft)
    except QueueFull:
        return error_page(request, 503, "Kön för att skapa dokument är full just nu. Vänta en minut och försök "
                                        "igen; inget av ditt arbete har gått förlorat.")
    return RedirectResponse(f"/jobb/{job.id}", status_code=303)


def _job(request: Request) -> Job:
    job = request.app.state.jobs.get(request.path_params["id"])
    if job is None:
        raise HTTPException(404)
    return job


async def job_page(request: Request) -> HTMLResponse:
    return page(request, "job.html", job=_job(request))


async def job_status(request: Request) -> JSONResponse:
    return JSONResponse(_job(request).as_json())
