"""The protokoll of a sammanträde in ``beslut web``: fill in, check, build, download, expediering.

One page per meeting, ``/sammantrade/<namn>/protokoll``. Without a ``protokoll.yaml`` it
offers to create one (``protokollscaffold.create_protokoll``: every ärende's förslag as its
beslut). With one, it shows a form: who was present, the justering and per § the beslut
(prefilled from the förslag), yrkanden, propositionsordning, the vote as a table of the
§'s serving members with ja/nej/avstår, reservationer, protokollsanteckningar, jäv and
expedieras. Saving writes the whole file (checked against the version the page showed),
then the page lists what ``protokollcheck.load_protokoll`` refuses. Building runs
``minutes.build_minutes`` as a background job; the expediering is shown as its dry run
(sending stays on the command line, ``beslut send … --skarpt``).
"""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from .. import pipeline
from ..errors import BeslutError
from ..pipeline import display_name, person_key, protokoll_file, read_yaml
from . import actions
from .config import scrub
from .jobbsidor import _submit
from .pages import config_of, page, post, shown
from .sammantraden import meeting_folder, meeting_job, output_of
from .yamlmerge import write_changes

HEADER = ("# Protokoll, sparat av beslut web. Fälten beskrivs i docs/handledning.md (avsnittet\n"
          "# Efter sammanträdet); kontrollera och bygg med: beslut minutes <mappen>\n")
ORDER = ("första_paragraf", "närvarande", "justerare", "justering", "anslag", "avsändare_e-post", "punkter")
ROSTER = ("ja", "nej", "avstår")


class Conflict(Exception):
    """Raised when protokoll.yaml changed since the page was shown."""


def _lines(value) -> list[str]:
    return [" ".join(line.split()) for line in str(value or "").splitlines() if line.strip()]


def _as_list(value) -> list:
    return value if isinstance(value, list) else []


def _as_dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def read_protokoll(folder: Path) -> tuple[dict, str]:
    """Return protokoll.yaml's values as written, and the file's version (its sha256)."""
    file = protokoll_file(folder)
    data = read_yaml(file).data
    return (data if isinstance(data, dict) else {}), hashlib.sha256(file.read_bytes()).hexdigest()


def write_protokoll(folder: Path, before: dict, after: dict, version: str) -> None:
    """Write ``after`` as protokoll.yaml, unless it changed since ``version``; keep the rest as written.

    Only what differs from ``before`` (the file's values the form started from) is written:
    the user's comments and order stay (``yamlmerge``).
    """
    file = protokoll_file(folder)
    if hashlib.sha256(file.read_bytes()).hexdigest() != version:
        raise Conflict()
    write_changes(file, before, after, ORDER, HEADER)


def _meeting(config, folder: Path):
    """Return the loaded meeting (for titles and förslag), or None when it does not load."""
    try:
        return pipeline.validate_sammantrade(folder, config.organisationer)
    except BeslutError:
        return None


def check_protokoll(config, folder: Path) -> list[str]:
    """Return the protokoll's problems as the page lists them (empty when it checks)."""
    try:
        pipeline.load_protokoll(folder, config.organisationer)
    except BeslutError as e:
        return [p.text for p in actions.parse_problems(e, lambda p: shown(config, p))]
    return []


def _people(text_list) -> list[str]:
    return [str(p) for p in _as_list(text_list)]


def _serving(data: dict, point: dict) -> list[str]:
    """Return who serves in a § by the saved file: the serving, less the jäviga, plus their ersättare."""
    narvarande = _as_dict(data.get("närvarande"))
    serving = [*_people(narvarande.get("ledamöter")), *_people(narvarande.get("tjänstgörande_ersättare"))]
    for jav in [*_as_list(point.get("jäv")), *_as_list(point.get("frånvarande"))]:
        if not isinstance(jav, dict):
            continue
        gone = person_key(str(jav.get("namn", "")))
        serving = [p for p in serving if person_key(p) != gone]
        if jav.get("ersätts_av"):
            serving.append(str(jav["ersätts_av"]))
    return serving


def _pairs(items, key: str) -> str:
    """Return a list of {av, <key>} as the textarea's lines "Namn: text"."""
    lines = []
    for item in _as_list(items):
        if isinstance(item, dict):
            text = item.get(key)
            lines.append(f"{item.get('av', '')}: {text}" if text else str(item.get("av", "")))
    return "\n".join(lines)


def _context(config, folder: Path, *, messages: list[str] | None = None, notice: str | None = None) -> dict:
    namn = folder.name
    base = {"namn": namn, "messages": messages or [], "notice": notice, "nav": "sammantraden"}
    if not protokoll_file(folder).is_file():
        return {**base, "exists": False}
    data, version = read_protokoll(folder)
    meeting = _meeting(config, folder)
    planned = list(meeting.punkter) if meeting is not None else []
    narvarande = _as_dict(data.get("närvarande"))
    points = []
    for n, point in enumerate(_as_list(data.get("punkter")), start=1):
        point = point if isinstance(point, dict) else {}
        plan = planned[n - 1] if n <= len(planned) else None
        forslag = list(plan.loaded.arende.forslag_till_beslut) if plan is not None and plan.loaded else []
        beslut = point.get("beslut")
        beslut_lines = forslag if str(beslut).strip().lower() == pipeline.enligt_forslag() else _people(beslut)
        vote = point.get("omröstning") if isinstance(point.get("omröstning"), dict) else None
        votes = {person_key(str(k)): str(v) for k, v in (vote or {}).get("röster", {}).items()} if vote else {}
        jav: list[str] = []
        franvarande: list[str] = []
        for key, found in (("jäv", jav), ("frånvarande", franvarande)):
            for item in _as_list(point.get(key)):
                if isinstance(item, dict):
                    found.append(f"{item.get('namn', '')} ersätts av {item['ersätts_av']}" if item.get("ersätts_av")
                                 else str(item.get("namn", "")))
        points.append({
            "nummer": n,
            "titel": plan.rubrik if plan is not None else str(point.get("ärende") or point.get("punkt") or ""),
            "arende": point.get("ärende"),
            "forslag": forslag,
            "text": point.get("text") or "",
            "beslut": "\n".join(beslut_lines),
            "yrkanden": _pairs(point.get("yrkanden"), "yrkande"),
            "proposition": point.get("propositionsordning") or "",
            "omrostning": vote is not None,
            "ja": (vote or {}).get("ja", ""), "nej": (vote or {}).get("nej", ""),
            "utfall": (vote or {}).get("utfall", "ja"), "utslagsrost": (vote or {}).get("utslagsröst", ""),
            "roster": [{"namn": display_name(who), "rost": votes.get(person_key(who), "")}
                       for who in _serving(data, point)],
            "reservationer": _pairs(point.get("reservationer"), "text"),
            "anteckningar": _pairs(point.get("protokollsanteckningar"), "text"),
            "jav": "\n".join(jav),
            "franvarande": "\n".join(franvarande),
            "expedieras": "\n".join(_people(point.get("expedieras"))),
            "omedelbart": str(point.get("omedelbart_justerad", "")).strip().casefold() in ("ja", "true"),
        })
    justering = _as_dict(data.get("justering"))
    anslag = _as_dict(data.get("anslag"))
    out = output_of(config, folder)
    files = sorted(p.name for p in out.glob("protokoll*") if p.suffix in (".pdf", ".docx")) if out.is_dir() else []
    return {
        **base, "exists": True, "version": version, "points": points,
        "top": {
            "ledamoter": "\n".join(_people(narvarande.get("ledamöter"))),
            "tj_ersattare": "\n".join(_people(narvarande.get("tjänstgörande_ersättare"))),
            "ersattare": "\n".join(_people(narvarande.get("ersättare"))),
            "ovriga": "\n".join(_people(narvarande.get("övriga"))),
            "justerare": "\n".join(_people(data.get("justerare"))),
            "justering_datum": str(justering.get("datum", "")), "justering_plats": str(justering.get("plats", "")),
            "uppsatt": str(anslag.get("uppsatt", "") or ""), "forvaring": str(anslag.get("förvaringsplats", "") or ""),
            "forsta": str(data.get("första_paragraf", "") or ""),
            "avsandare": str(data.get("avsändare_e-post", "") or ""),
        },
        "problems": check_protokoll(config, folder),
        "files": files,
        "expediering": expediering_lines(config, folder) if files else [],
        "file_shown": shown(config, protokoll_file(folder)),
    }


def expediering_lines(config, folder: Path) -> list[str]:
    """Return the expediering's dry run as ``beslut send`` prints it (nothing is sent)."""
    try:
        mailing = pipeline.plan_mailing(folder, config.organisationer, config.out)
    except BeslutError as e:
        return [p.text for p in actions.parse_problems(e, lambda p: shown(config, p))]
    return mailing.format_plan(mailing.plan, None,
                               "e-post skickas från kommandoraden: beslut send SAMMANTRÄDE --skarpt")


# --- saving the form -------------------------------------------------------------------------


def _av_pairs(text: str, key: str) -> list[dict]:
    found = []
    for line in _lines(text):
        who, sep, what = line.partition(":")
        item = {"av": who.strip()}
        if sep and what.strip():
            item[key] = what.strip()
        found.append(item)
    return found


def form_to_data(form, data: dict, forslag: dict[int, list[str]]) -> dict:
    """Return ``data`` (the file as it was) with every field of the form written into it."""
    data = dict(data)
    narvarande = {"ledamöter": _lines(form.get("ledamoter")),
                  "tjänstgörande_ersättare": _lines(form.get("tj_ersattare")),
                  "ersättare": _lines(form.get("ersattare")), "övriga": _lines(form.get("ovriga"))}
    data["närvarande"] = {k: v for k, v in narvarande.items() if v or k == "ledamöter"}
    data["justerare"] = _lines(form.get("justerare"))
    data["justering"] = {"datum": " ".join(str(form.get("justering_datum", "")).split()),
                         "plats": " ".join(str(form.get("justering_plats", "")).split())}
    anslag = {"uppsatt": " ".join(str(form.get("uppsatt", "")).split()),
              "förvaringsplats": " ".join(str(form.get("forvaring", "")).split())}
    anslag = {k: v for k, v in anslag.items() if v}
    data.pop("anslag", None)
    if anslag:
        data["anslag"] = anslag
    for key, field in (("första_paragraf", "forsta"), ("avsändare_e-post", "avsandare")):
        value = " ".join(str(form.get(field, "")).split())
        data.pop(key, None)
        if value:
            data[key] = value
    points = []
    for n, old in enumerate(_as_list(data.get("punkter")), start=1):
        point = {k: v for k, v in (old if isinstance(old, dict) else {}).items() if k in ("ärende", "punkt")}
        f = f"p{n}-"
        text = str(form.get(f + "text", "")).strip()
        if text:
            point["text"] = " ".join(text.split())
        beslut = _lines(form.get(f + "beslut"))
        if beslut and beslut == [" ".join(b.split()) for b in forslag.get(n, [])]:
            point["beslut"] = pipeline.enligt_forslag()
        elif beslut:
            point["beslut"] = beslut
        if form.get(f + "omedelbart") == "ja":
            point["omedelbart_justerad"] = "ja"
        yrkanden = [{"av": p["av"], "yrkande": p.get("yrkande", "")} for p in _av_pairs(form.get(f + "yrkanden", ""),
                                                                                        "yrkande")]
        if yrkanden:
            point["yrkanden"] = yrkanden
        proposition = " ".join(str(form.get(f + "proposition", "")).split())
        if proposition:
            point["propositionsordning"] = proposition
        if form.get(f + "omrostning") == "ja":
            roster = {}
            for k in range(1, 200):
                who = form.get(f"{f}rostnamn-{k}")
                if who is None:
                    break
                value = str(form.get(f"{f}rost-{k}", ""))
                if value in ROSTER:
                    roster[str(who)] = value
            vote = {"ja": " ".join(str(form.get(f + "ja", "")).split()) or "Bifall.",
                    "nej": " ".join(str(form.get(f + "nej", "")).split()) or "Avslag.",
                    "röster": roster, "utfall": str(form.get(f + "utfall", "ja"))}
            if form.get(f + "utslagsrost") in ("ja", "nej"):
                vote["utslagsröst"] = str(form.get(f + "utslagsrost"))
            point["omröstning"] = vote
        for key, field in (("reservationer", "reservationer"), ("protokollsanteckningar", "anteckningar")):
            items = _av_pairs(form.get(f + field, ""), "text")
            if items:
                point[key] = items
        for key, field in (("jäv", "jav"), ("frånvarande", "franvarande")):
            people = []
            for line in _lines(form.get(f + field)):
                who, sep, sub = line.partition(" ersätts av ")
                people.append({"namn": who.strip(), **({"ersätts_av": sub.strip()} if sep and sub.strip() else {})})
            if people:
                point[key] = people
        expedieras = _lines(form.get(f + "expedieras"))
        if expedieras:
            point["expedieras"] = expedieras
        points.append(point)
    data["punkter"] = points
    return data


def _save(config, folder: Path, form) -> None:
    data, _ = read_protokoll(folder)
    meeting = _meeting(config, folder)
    forslag = {p.nummer: list(p.loaded.arende.forslag_till_beslut) for p in (meeting.punkter if meeting else ())
               if p.loaded is not None}
    write_protokoll(folder, data, form_to_data(form, copy.deepcopy(data), forslag), str(form.get("version", "")))


# --- pages -----------------------------------------------------------------------------------


async def show(request: Request) -> Response:
    config = config_of(request)
    folder = meeting_folder(config, request.path_params["namn"])
    notice = _NOTICES.get(request.query_params.get("meddelande") or "")
    context = await run_in_threadpool(_context, config, folder, notice=notice)
    return page(request, "protokoll.html", **context)


_NOTICES = {"sparat": "Protokollet sparades.", "skapat": "Protokollet skapades med förslagen till beslut ifyllda."}


async def create(request: Request) -> Response:
    config = config_of(request)
    folder = meeting_folder(config, request.path_params["namn"])
    try:
        await run_in_threadpool(pipeline.create_protokoll, folder, config.organisationer)
    except BeslutError as e:
        context = await run_in_threadpool(_context, config, folder, messages=[scrub(e.message)])
        return page(request, "protokoll.html", status=422, **context)
    return RedirectResponse(f"/sammantrade/{quote(folder.name)}/protokoll?meddelande=skapat", status_code=303)


async def save(request: Request) -> Response:
    config = config_of(request)
    folder = meeting_folder(config, request.path_params["namn"])
    form = await request.form()
    try:
        await run_in_threadpool(_save, config, folder, form)
    except Conflict:
        context = await run_in_threadpool(_context, config, folder, messages=[
            "Protokollet har ändrats i en annan flik eller av någon annan. Sidan visar nu den senaste "
            "versionen; gör ändringen igen."])
        return page(request, "protokoll.html", status=409, **context)
    return RedirectResponse(f"/sammantrade/{quote(folder.name)}/protokoll?meddelande=sparat", status_code=303)


async def build(request: Request) -> Response:
    config = config_of(request)
    folder = meeting_folder(config, request.path_params["namn"])
    problems = await run_in_threadpool(check_protokoll, config, folder)
    if problems:
        context = await run_in_threadpool(_context, config, folder,
                                          messages=["Rätta felen nedan innan du skapar protokollet."])
        return page(request, "protokoll.html", status=422, **context)
    namn = folder.name
    base = f"/sammantrade/{quote(namn)}"

    work = meeting_job(pipeline.build_minutes, folder, config, base, steps=12)
    return _submit(request, f"protokoll/{namn}", f"Protokoll och protokollsutdrag: {namn}", work,
                   f"{base}/protokoll")


ROUTES = [
    Route("/sammantrade/{namn}/protokoll", show),
    post("/sammantrade/{namn}/protokoll", save),
    post("/sammantrade/{namn}/protokoll/ny", create),
    post("/sammantrade/{namn}/protokoll/bygg", build),
]
