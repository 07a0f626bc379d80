"""Removing an ärende to the papperskorg, the papperskorg's page, and restoring from it."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..errors import BeslutError
from ..pipeline import ARENDE_FILE
from . import forms, papperskorg
from .config import WebConfig, scrub
from .pages import arende_folder, audit, config_of, page


async def remove_form(request: Request) -> Response:
    config = config_of(request)
    folder = arende_folder(config, request.path_params["namn"])
    return page(request, "tabort.html", namn=folder.name)


async def remove(request: Request) -> Response:
    """Move an ärende to the papperskorg (its documents in out/ stay where they are)."""
    config = config_of(request)
    folder = arende_folder(config, request.path_params["namn"])
    item = await run_in_threadpool(papperskorg.trash_arende, config.state_folder, folder, request.state.user)
    audit(request, "papperskorg", arende=folder.name, detalj="ärendet flyttat till papperskorgen")
    return RedirectResponse(f"/papperskorg?borttagen={item}", status_code=303)


async def trash_page(request: Request) -> Response:
    config = config_of(request)
    items = await run_in_threadpool(papperskorg.list_items, config.state_folder)
    removed = next((i for i in items if i.id == request.query_params.get("borttagen")), None)
    notice = f"Ärendet {removed.arende} är flyttat till papperskorgen. Du kan återställa det här." if removed else None
    return page(request, "papperskorg.html", items=items, notice=notice, error=None, nav="papperskorg")


async def restore(request: Request) -> Response:
    """Put a removed ärende or bilaga back where it was."""
    config = config_of(request)
    item = papperskorg.read_item(config.state_folder, request.path_params["id"])
    if item is None:
        raise HTTPException(404)
    try:
        if item.typ == "arende":
            await run_in_threadpool(papperskorg.restore_arende, config.state_folder, item, config.arenden)
            audit(request, "aterstall", arende=item.arende, detalj="ärendet återställt från papperskorgen")
            return RedirectResponse(f"/arende/{quote(item.arende)}", status_code=303)
        folder = arende_folder(config, item.arende)
        await run_in_threadpool(_restore_bilaga, config, folder, item)
        audit(request, "aterstall", arende=item.arende, detalj=f"{item.fil} återställd från papperskorgen")
        return RedirectResponse(f"/arende/{quote(item.arende)}?aterstalld=1#bilagor", status_code=303)
    except (BeslutError, HTTPException) as e:
        items = await run_in_threadpool(papperskorg.list_items, config.state_folder)
        error = scrub(e.message) if isinstance(e, BeslutError) else (
            f"Ärendet {item.arende} finns inte längre. Återställ det först.")
        return page(request, "papperskorg.html", status=409, items=items, notice=None, error=error, nav="papperskorg")


def _restore_bilaga(config: WebConfig, folder: Path, item: papperskorg.Item) -> None:
    file = folder / ARENDE_FILE
    fil = papperskorg.restore_bilaga(config.state_folder, item, folder)
    raw = file.read_bytes()
    state = forms.state_from_data(forms.load_data(raw.decode("utf-8"), file))
    state["bilagor"].append({"titel": item.titel or Path(fil).stem, "fil": fil})
    forms.save_state(file, {"bilagor": state["bilagor"]}, forms.file_version(raw))
