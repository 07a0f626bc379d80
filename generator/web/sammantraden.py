"""The sammanträden in ``beslut web``: list, create, order the points, build, download.

A meeting is its sammantrade.yaml (``generator.sammantrade``); every change made here
is read from the file, changed, checked against the version the page showed (a second
tab's change is never overwritten silently) and written back whole. Building runs
``agenda.build_agenda`` as a background job on a pooled converter, like an ärende's build.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from .. import pipeline
from ..errors import BeslutError
from ..pipeline import (
    SAMMANTRADE_FILE,
    SAMMANTRADEN_DIR,
    load_arenden,
    read_yaml,
    resolve_sammantrade_file,
)
from . import actions
from .config import scrub
from .jobbsidor import _submit
from .jobqueue import Job
from .pages import config_of, page, post, shown
from .security import SAFE_NAME, resolve_under
from .yamlmerge import write_changes

if TYPE_CHECKING:
    from ..pipeline import PdfConverter

NAME = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
ORDER = ("organisation", "datum", "tid", "plats", "ordförande", "sekreterare", "kallelsedatum", "ledamöter",
         "ersättare", "ledamotslista", "punkter")
"""The order of the keys when the page writes a sammantrade.yaml."""
FIELDS = (("datum", "Datum (ÅÅÅÅ-MM-DD)"), ("tid", "Tid"), ("plats", "Plats"), ("ordförande", "Ordförande"),
          ("sekreterare", "Sekreterare"), ("kallelsedatum", "Kallelsedatum (ÅÅÅÅ-MM-DD)"))
HEADER = ("# Sammanträde, sparat av beslut web. Fälten beskrivs i docs/handledning.md\n"
          "# (avsnittet Sammanträdet); kontrollera med: beslut agenda <mappen>\n")


class Conflict(Exception):
    """Raised when the file changed since the page was shown."""


def meetings_dir(config) -> Path:
    return config.content / SAMMANTRADEN_DIR


def meeting_folder(config, namn: str) -> Path:
    """Return the meeting folder ``namn``; 404 unless it is one, inside the content folder."""
    base = meetings_dir(config)
    folder = resolve_under(base, namn) if SAFE_NAME.match(namn) else None
    if folder is None or folder == base.resolve() or not (folder / SAMMANTRADE_FILE).is_file():
        raise HTTPException(404)
    return folder


def output_of(config, folder: Path) -> Path:
    return pipeline.output_folder(folder, config.out)


def read_data(folder: Path) -> tuple[dict, str]:
    """Return the meeting's values as written, and the file's version (its sha256)."""
    file = resolve_sammantrade_file(folder)
    data = read_yaml(file).data
    return (data if isinstance(data, dict) else {}), hashlib.sha256(file.read_bytes()).hexdigest()


def write_data(folder: Path, before: dict, after: dict, version: str) -> None:
    """Write ``after`` as the meeting's file, unless it changed since ``version``; keep the rest as written.

    Only what differs from ``before`` (the values the change started from) is written: the
    user's comments, order and the points not touched stay (``yamlmerge``).
    """
    file = folder / SAMMANTRADE_FILE
    if hashlib.sha256(file.read_bytes()).hexdigest() != version:
        raise Conflict()
    write_changes(file, before, after, ORDER, HEADER)


def list_meetings(config) -> list[dict]:
    """Return every sammanträde: name, organisation, date, points, whether it checks, when built."""
    base = meetings_dir(config)
    found = []
    try:
        registry = pipeline.load_organisationer(config.organisationer)
    except BeslutError:
        registry = None
    for folder in sorted(base.iterdir()) if base.is_dir() else []:
        if not (folder / SAMMANTRADE_FILE).is_file() or not NAME.fullmatch(folder.name):
            continue
        try:
            data, _ = read_data(folder)
        except BeslutError:
            data = {}
        problems = check_meeting(config, folder)
        built = pipeline.has_manifest(output_of(config, folder))
        org_id = str(data.get("organisation", ""))
        org = registry.find(org_id) if registry else None
        found.append({"namn": folder.name, "organisation": org.namn if org else org_id,
                      "datum": str(data.get("datum", "")), "punkter": len(data.get("punkter") or []),
                      "fel": len(problems), "byggt": built})
    return found


def check_meeting(config, folder: Path) -> list[str]:
    """Return the meeting's problems as the page lists them (empty when it checks)."""
    try:
        pipeline.validate_sammantrade(folder, config.organisationer)
    except BeslutError as e:
        return [p.text for p in actions.parse_problems(e, lambda p: shown(config, p))]
    return []


def organisation_arenden(config, org_id: str) -> list[dict]:
    """Return the ärenden that have a paper for ``org_id`` (name and rubrik), for the add list."""
    registry = pipeline.load_organisationer(config.organisationer)
    found = []
    for folder in sorted(config.arenden.iterdir()) if config.arenden.is_dir() else []:
        if not pipeline.is_arende_folder(folder):
            continue
        try:
            instances = load_arenden(folder, registry)
        except BeslutError:
            continue
        for loaded in instances:
            if loaded.organisation.id == org_id:
                found.append({"namn": folder.name, "rubrik": loaded.arende.rubrik})
    return found


def _point_title(point: dict, rubriker: dict[str, str]) -> str:
    if "ärende" in point:
        return rubriker.get(str(point["ärende"]), str(point["ärende"]))
    return str(point.get("punkt", ""))


def _context(config, folder: Path, *, problems: list[str] | None = None, notice: str | None = None,
             focus: str | None = None) -> dict:
    data, version = read_data(folder)
    org_id = str(data.get("organisation", ""))
    choices = organisation_arenden(config, org_id)
    rubriker = {c["namn"]: c["rubrik"] for c in choices}
    points = []
    for n, point in enumerate(data.get("punkter") or [], start=1):
        point = point if isinstance(point, dict) else {}
        points.append({"nummer": n, "titel": _point_title(point, rubriker), "arende": point.get("ärende"),
                       "foredragande": point.get("föredragande"), "utelamnad": point.get("utelämnad"),
                       "text": point.get("text")})
    out = output_of(config, folder)
    files = [p.name for p in sorted(out.iterdir()) if p.is_file() and p.suffix in (".pdf", ".docx", ".txt", ".json")] \
        if out.is_dir() else []
    used = {p["arende"] for p in points if p["arende"]}
    return {"namn": folder.name, "data": {k: str(data.get(k) or "") for k, _ in FIELDS}, "fields": FIELDS,
            "organisation": org_id, "version": version, "points": points,
            "choices": [c for c in choices if c["namn"] not in used], "files": files,
            "problems": check_meeting(config, folder) if problems is None else problems,
            "notice": notice, "focus": focus, "moved": None, "messages": [],
            "file_shown": shown(config, folder / SAMMANTRADE_FILE)}


# --- pages -----------------------------------------------------------------------------------


async def meetings(request: Request) -> Response:
    config = config_of(request)
    registry = await run_in_threadpool(pipeline.load_organisationer, config.organisationer)
    found = await run_in_threadpool(list_meetings, config)
    return page(request, "sammantraden.html", meetings=found, organisationer=registry.organisationer,
                errors={}, values={"namn": "", "org": ""}, nav="sammantraden")


async def create(request: Request) -> Response:
    config = config_of(request)
    form = await request.form()
    namn, org_id = str(form.get("namn", "")).strip(), str(form.get("org", ""))
    registry = await run_in_threadpool(pipeline.load_organisationer, config.organisationer)
    errors = {}
    if not NAME.fullmatch(namn) or len(namn) > 80:
        errors["namn"] = "Mappnamnet får bara innehålla små bokstäver a–z, siffror och bindestreck, t.ex. 2024-03-12."
    elif (meetings_dir(config) / namn).exists():
        errors["namn"] = f"Det finns redan ett sammanträde som heter {namn}. Välj ett annat namn."
    if registry.find(org_id) is None:
        errors["org"] = "Välj organisationen i listan."
    if not errors:
        try:
            await run_in_threadpool(pipeline.create_sammantrade, meetings_dir(config) / namn, org_id,
                                    config.organisationer)
        except BeslutError as e:
            errors["namn"] = scrub(e.message)
    if errors:
        found = await run_in_threadpool(list_meetings, config)
        return page(request, "sammantraden.html", status=422, meetings=found, organisationer=registry.organisationer,
                    errors=errors, values={"namn": namn, "org": org_id}, nav="sammantraden")
    return RedirectResponse(f"/sammantrade/{quote(namn)}", status_code=303)


async def show(request: Request) -> Response:
    config = config_of(request)
    folder = meeting_folder(config, request.path_params["namn"])
    focus = request.query_params.get("punkt")
    notice = request.query_params.get("meddelande")
    context = await run_in_threadpool(_context, config, folder)
    return page(request, "sammantrade.html", **{**context, "focus": focus, "moved": notice,
                                                "notice": _NOTICES.get(notice or "")}, nav="sammantraden")


_NOTICES = {
    "upp": "Punkten flyttades upp.", "ner": "Punkten flyttades ner.", "bort": "Punkten togs bort.",
    "utelamnad": "Punkten markerades som utelämnad.", "offentlig": "Markeringen togs bort.",
    "tillagd": "Ärendet lades till sist i föredragningslistan.", "sparad": "Uppgifterna sparades.",
}


def _change(folder: Path, action: str, form) -> tuple[str, int | None]:
    """Apply one change of the page to the meeting's file; return (notice key, point to focus)."""
    data, _ = read_data(folder)
    before = copy.deepcopy(data)
    points = list(data.get("punkter") or [])
    version = str(form.get("version", ""))
    kind, _, number = action.partition(":")
    index = int(number) - 1 if number.isdigit() else -1
    focus: int | None = None
    if kind in ("upp", "ner", "bort", "utelamna", "offentlig") and not 0 <= index < len(points):
        raise HTTPException(400)
    if kind == "upp" and index > 0:
        points[index - 1], points[index] = points[index], points[index - 1]
        focus = index
    elif kind == "ner" and index < len(points) - 1:
        points[index + 1], points[index] = points[index], points[index + 1]
        focus = index + 2
    elif kind == "bort":
        points.pop(index)
    elif kind == "utelamna":
        grund = " ".join(str(form.get(f"grund-{index + 1}", "")).split())
        if not grund:
            raise ValueError("Skriv lagrummet som handlingarna utelämnas enligt, t.ex. OSL 19 kap. 3 §.")
        points[index] = {**points[index], "utelämnad": grund}
        points[index].pop("handlingar", None)
        focus = index + 1
        kind = "utelamnad"
    elif kind == "offentlig":
        points[index] = {k: v for k, v in points[index].items() if k != "utelämnad"}
        focus = index + 1
    elif kind == "lagg-till":
        arende = str(form.get("arende", ""))
        foredragande = " ".join(str(form.get("foredragande", "")).split())
        if not arende or not foredragande:
            raise ValueError("Välj ett ärende och skriv vem som är föredragande.")
        points.append({"ärende": arende, "föredragande": foredragande})
        focus, kind = len(points), "tillagd"
    elif kind == "spara":
        for key, _label in FIELDS:
            data[key] = " ".join(str(form.get(key, "")).split())
        kind = "sparad"
    elif kind not in ("upp", "ner"):
        raise HTTPException(400)
    data["punkter"] = points
    write_data(folder, before, data, version)
    return kind, focus


async def change(request: Request) -> Response:
    config = config_of(request)
    folder = meeting_folder(config, request.path_params["namn"])
    form = await request.form()
    try:
        kind, focus = await run_in_threadpool(_change, folder, str(form.get("atgard", "")), form)
    except Conflict:
        context = await run_in_threadpool(_context, config, folder)
        return _failed(request, 409, context, "Sammanträdet har ändrats i en annan flik eller av någon annan. "
                       "Sidan visar nu den senaste versionen; gör ändringen igen.")
    except ValueError as e:
        context = await run_in_threadpool(_context, config, folder)
        return _failed(request, 422, context, str(e))
    target = f"/sammantrade/{quote(folder.name)}?meddelande={kind}"
    if focus:
        target += f"&punkt={focus}"  # no #fragment: Chromium blocks autofocus on a URL with one
    return RedirectResponse(target, status_code=303)


def _failed(request: Request, status: int, context: dict, message: str) -> Response:
    return page(request, "sammantrade.html", status=status, **{**context, "messages": [message]}, nav="sammantraden")


async def build(request: Request) -> Response:
    config = config_of(request)
    folder = meeting_folder(config, request.path_params["namn"])
    problems = await run_in_threadpool(check_meeting, config, folder)
    if problems:
        context = await run_in_threadpool(_context, config, folder, problems=problems)
        return _failed(request, 422, context, "Rätta felen nedan innan du skapar kallelsen och handlingarna.")
    namn = folder.name
    base = f"/sammantrade/{quote(namn)}"

    work = meeting_job(pipeline.build_agenda, folder, config, base, steps=6)
    return _submit(request, f"sammantrade/{namn}", f"Kallelse och sammanträdeshandlingar: {namn}", work, base)


def meeting_job(build, folder: Path, config, base: str, *, steps: int) -> Callable[[Job, PdfConverter], None]:
    """Return a job's work: ``build`` (the agenda's or the minutes') with the pooled converter, then its downloads.

    ``steps`` is about how many steps the build reports, for the progress bar.
    """
    def work(job: Job, converter: PdfConverter) -> None:
        done = [0]

        def progress(text: str) -> None:
            done[0] += 1
            job.progress(done[0], max(done[0] + 1, steps), text)

        result = build(folder, config.organisationer, config.out, templates=config.templates,
                       converter_factory=lambda: converter, on_progress=progress)  # the pool's: not closed
        job.warnings = list(result.warnings)
        for f in result.files:
            job.downloads.append((f.name, f"{base}/fil/{quote(f.name)}"))

    return work


async def download(request: Request) -> Response:
    config = config_of(request)
    folder = meeting_folder(config, request.path_params["namn"])
    path = resolve_under(output_of(config, folder), request.path_params["fil"])
    if path is None or not path.is_file() or path.suffix.lower() not in (".pdf", ".docx", ".txt", ".json"):
        raise HTTPException(404)
    return FileResponse(path, filename=path.name, content_disposition_type="attachment")


ROUTES = [
    Route("/sammantraden", meetings),
    post("/sammantraden", create),
    Route("/sammantrade/{namn}", show),
    post("/sammantrade/{namn}", change),
    post("/sammantrade/{namn}/bygg", build),
    Route("/sammantrade/{namn}/fil/{fil}", download),
]
