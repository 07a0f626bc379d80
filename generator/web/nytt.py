"""Creating: a new ärende, a new utskick, a copy of an ärende (and these forms refused, back with what was typed)."""

from __future__ import annotations

import re
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from .. import pipeline
from ..errors import BeslutError
from ..pipeline import UTSKICK_FILE, write_bytes
from . import actions, utskickform
from .config import WebConfig, scrub
from .pages import arende_folder, audit, config_of, page


async def new_form(request: Request) -> HTMLResponse:
    config = config_of(request)
    registry = await run_in_threadpool(pipeline.load_organisationer, config.organisationer)
    return page(request, "new.html", organisationer=registry.organisationer, errors={}, values={"namn": "", "org": []},
                nav="nytt")


async def new_create(request: Request) -> Response:
    config = config_of(request)
    form = await request.form()
    namn = str(form.get("namn", "")).strip()
    org_ids = [str(o) for o in form.getlist("org")]
    registry = await run_in_threadpool(pipeline.load_organisationer, config.organisationer)
    errors = {}
    if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", namn) or len(namn) > 80:
        errors["namn"] = ("Mappnamnet får bara innehålla små bokstäver a–z, siffror och bindestreck, "
                          "t.ex. 2024-03-ny-plan.")
    elif (config.arenden / namn).exists():
        errors["namn"] = f"Det finns redan ett ärende som heter {namn}. Välj ett annat namn."
    if not org_ids:
        errors["org"] = "Välj minst en organisation. Väljer du flera blir det ett gemensamt ärende."
    elif any(registry.find(o) is None for o in org_ids):
        errors["org"] = "Okänd organisation. Välj i listan."
    if not errors:
        try:
            await run_in_threadpool(pipeline.create_arende, config.arenden / namn, org_ids, config.organisationer)
        except BeslutError as e:
            errors["namn"] = scrub(e.message)
    if not errors:
        audit(request, "nytt-arende", arende=namn, detalj=", ".join(org_ids))
    if errors:
        return page(request, "new.html", status=422, organisationer=registry.organisationer, errors=errors,
                    values={"namn": namn, "org": org_ids}, nav="nytt")
    return RedirectResponse(f"/arende/{quote(namn)}", status_code=303)


async def refused_new(request: Request, status: int, reason: str) -> Response:
    config = config_of(request)
    form = await request.form()
    registry = await run_in_threadpool(pipeline.load_organisationer, config.organisationer)
    return page(request, "new.html", status=status, organisationer=registry.organisationer, errors={},
                refused=reason, nav="nytt",
                values={"namn": str(form.get("namn", "")), "org": [str(o) for o in form.getlist("org")]})


async def new_utskick_form(request: Request) -> Response:
    return page(request, "nytt_utskick.html", errors={}, values={"namn": ""}, nav="nytt-utskick")


async def new_utskick_create(request: Request) -> Response:
    config = config_of(request)
    form = await request.form()
    namn = str(form.get("namn", "")).strip()
    error = None
    if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", namn) or len(namn) > 80:
        error = "Mappnamnet får bara innehålla små bokstäver a–z, siffror och bindestreck, t.ex. 2024-03-inbjudan."
    elif (config.utskick / namn).exists():
        error = f"Det finns redan ett utskick som heter {namn}. Välj ett annat namn."
    if error:
        return page(request, "nytt_utskick.html", status=422, errors={"namn": error}, values={"namn": namn},
                    nav="nytt-utskick")
    folder = config.utskick / namn
    folder.mkdir(parents=True)
    await run_in_threadpool(write_bytes, folder / UTSKICK_FILE, utskickform.new_utskick_text().encode("utf-8"))
    audit(request, "nytt-utskick", utskick=namn)
    return RedirectResponse(f"/utskick/{quote(namn)}/redigera?nytt=1", status_code=303)


async def refused_new_utskick(request: Request, status: int, reason: str) -> Response:
    form = await request.form()
    return page(request, "nytt_utskick.html", status=status, errors={}, refused=reason,
                values={"namn": str(form.get("namn", ""))}, nav="nytt-utskick")


def _name_error(config: WebConfig, namn: str) -> str | None:
    if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", namn) or len(namn) > 80:
        return ("Mappnamnet får bara innehålla små bokstäver a–z, siffror och bindestreck, "
                "t.ex. 2024-03-ny-plan.")
    if (config.arenden / namn).exists():
        return f"Det finns redan ett ärende som heter {namn}. Välj ett annat namn."
    return None


async def copy_form(request: Request) -> Response:
    config = config_of(request)
    folder = arende_folder(config, request.path_params["namn"])
    return page(request, "kopiera.html", namn=folder.name, errors={}, values={"nytt": "", "bilagor": True})


async def copy_create(request: Request) -> Response:
    """Make a new ärende from an existing one: its YAML files, and its bilagor if asked."""
    config = config_of(request)
    folder = arende_folder(config, request.path_params["namn"])
    form = await request.form()
    nytt = str(form.get("nytt", "")).strip()
    with_bilagor = form.get("bilagor") == "ja"
    error = _name_error(config, nytt)
    if error:
        return page(request, "kopiera.html", status=422, namn=folder.name, errors={"nytt": error},
                    values={"nytt": nytt, "bilagor": with_bilagor})
    await run_in_threadpool(actions.copy_arende, folder, config.arenden / nytt, with_bilagor)
    audit(request, "kopiera-arende", arende=nytt, detalj=f"kopia av {folder.name}"
          + ("" if with_bilagor else " utan bilagor"))
    return RedirectResponse(f"/arende/{quote(nytt)}?kopia={quote(folder.name)}", status_code=303)


async def refused_copy(request: Request, status: int, reason: str) -> Response:
    config = config_of(request)
    folder = arende_folder(config, request.path_params["namn"])
    form = await request.form()
    return page(request, "kopiera.html", status=status, namn=folder.name, errors={}, refused=reason,
                values={"nytt": str(form.get("nytt", "")), "bilagor": form.get("bilagor") == "ja"})
