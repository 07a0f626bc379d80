"""The start page: each ärende's and utskick's line, kept until its files change (and across restarts)."""

from __future__ import annotations

from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse

from .. import pipeline
from ..errors import BeslutError
from ..pipeline import ARENDE_FILE, OVERRIDES_DIR
from . import actions, forms
from .config import WebConfig, scrub
from .pages import config_of, page, shown_time


async def index(request: Request) -> HTMLResponse:
    config = config_of(request)
    arenden = await run_in_threadpool(_list_arenden, config)
    utskick = await run_in_threadpool(_list_utskick, config)
    await run_in_threadpool(save_listing, config)
    return page(request, "index.html", arenden=arenden, utskick=utskick, nav="start",
                moved=[scrub(m) for m in request.app.state.moved])


_LISTING: pipeline.ByModification[dict] = pipeline.kept_until_changed()
"""Each ärende's and utskick's line on the start page, kept until its files change."""


LISTING_FILE = "startsida.json"
"""The kept lines in the state folder, so a restarted server's first start page is as fast."""


def _list_arenden(config: WebConfig) -> list[dict]:
    folders = sorted(p for p in config.arenden.iterdir() if p.is_dir()) if config.arenden.is_dir() else []
    return [_arende_item(config, folder) for folder in folders if pipeline.is_arende_folder(folder)]


def _arende_item(config: WebConfig, folder: Path) -> dict:
    """Return the ärende's line on the start page: kept (``_LISTING``) until one of its files changes."""
    stamps = pipeline.arende_stamps(folder, config.organisationer, config.out)
    return _LISTING.get(f"arende\n{folder}\n{config.out}", stamps, lambda: _arende_state(config, folder))


def _arende_state(config: WebConfig, folder: Path) -> dict:
    """Return the ärende's check, and per organisation its review and its last final build and draft."""
    instances, problems = actions.validate_arende(folder, config.organisationer)
    try:
        data: dict = forms.load_data((folder / ARENDE_FILE).read_text(encoding="utf-8"), folder / ARENDE_FILE)
    except (BeslutError, UnicodeDecodeError):
        data = {}
    shared = (folder / OVERRIDES_DIR).is_dir()
    ids = ([(i.organisation.id, i.organisation.namn) for i in instances] if instances else
           [(p.stem, p.stem) for p in sorted((folder / OVERRIDES_DIR).glob("*.yaml"))] if shared
           else [(str(data.get("organisation", "–")),) * 2])
    final, draft = pipeline.arende_builds(folder, config.out)
    reviewed = {i.organisation.id: actions.review_counts(i) for i in instances}
    none = pipeline.Built(None)
    per_org = [{"id": org_id, "namn": namn, "stopp": reviewed.get(org_id, (0, 0))[0],
                "varningar": reviewed.get(org_id, (0, 0))[1],
                "byggt": shown_time(final.get(org_id, none).when), "byggt_fel": final.get(org_id, none).failed,
                "utkast": shown_time(draft.get(org_id, none).when), "utkast_fel": draft.get(org_id, none).failed}
               for org_id, namn in ids]
    times = [b.when for b in final.values() if b.when is not None]
    return {"namn": folder.name, "rubrik": str(data.get("rubrik") or "(ingen rubrik)"),
            "organisationer": [o["namn"] for o in per_org], "gemensamt": shared, "ok": not problems,
            "fel": len(problems), "stopp": sum(o["stopp"] for o in per_org),
            "varningar": sum(o["varningar"] for o in per_org), "per_org": per_org,
            "byggt": shown_time(max(times)) if times else None}


def _list_utskick(config: WebConfig) -> list[dict]:
    folders = sorted(p for p in config.utskick.iterdir() if p.is_dir()) if config.utskick.is_dir() else []
    return [_utskick_item(config, folder) for folder in folders if pipeline.is_utskick_folder(folder)]


def _utskick_item(config: WebConfig, folder: Path) -> dict:
    """Return the utskick's line on the start page: kept (``_LISTING``) until one of its files changes."""
    stamps = pipeline.utskick_stamps(folder, config.organisationer, config.out)
    return _LISTING.get(f"utskick\n{folder}\n{config.out}", stamps, lambda: _utskick_state(config, folder))


def _utskick_state(config: WebConfig, folder: Path) -> dict:
    built = pipeline.built_by_recipient(pipeline.output_folder(folder, config.out))
    times = [b.when for b in built.values() if b.when is not None]
    item = {"namn": folder.name, "byggt": shown_time(max(times)) if times else None,
            "misslyckade": sum(b.failed for b in built.values())}
    try:
        loaded, recipients = actions.validate_utskick(folder, config.organisationer)
        return {**item, "rubrik": loaded.utskick.rubrik, "ok": True, "mottagare": len(recipients)}
    except BeslutError:
        return {**item, "rubrik": folder.name, "ok": False, "mottagare": 0}


def load_listing(config: WebConfig) -> None:
    """Read the start page's lines kept by the last server (``ByModification.load``): before the first request."""
    _LISTING.load(config.state_folder / LISTING_FILE)


def warm_listing(config: WebConfig) -> None:
    """Compute the start page's lines that changed since they were kept, and keep them again.

    Runs when the server starts, so that the first start page is as fast as the next.
    """
    try:
        _list_arenden(config)
        _list_utskick(config)
        save_listing(config)
    except Exception:  # noqa: BLE001 - the start page reports the same problem when asked
        pass


def save_listing(config: WebConfig) -> None:
    """Keep the start page's lines in the state folder if any changed (``ByModification.save``)."""
    try:
        _LISTING.save(config.state_folder / LISTING_FILE)
    except OSError:  # a full disk: the next start computes them again
        pass


def last_built(config: WebConfig, folder: Path) -> str | None:
    """Return when the final documents of ``folder`` were last written (not a draft), as the page shows it."""
    item = _arende_item(config, folder) if pipeline.is_arende_folder(folder) else _utskick_item(config, folder)
    return item["byggt"]
