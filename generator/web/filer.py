"""Downloading what was built: one file (named for the user), or the whole output folder as a zip."""

from __future__ import annotations

import re
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from .. import pipeline
from ..errors import BeslutError
from ..pipeline import ARENDE_FILE
from . import actions, forms
from .config import WebConfig
from .pages import arende_folder, config_of, disposition, utskick_folder
from .security import (
    resolve_under,
)

DOWNLOADABLE = (".docx", ".pdf", ".json", ".eml", ".txt")


def _download(config: WebConfig, folder: Path, relative: str) -> Path:
    out = pipeline.output_folder(folder, config.out)
    path = resolve_under(out, *relative.split("/"))
    if path is None or not path.is_file() or path.suffix.lower() not in DOWNLOADABLE:
        raise HTTPException(404)
    return path


def download_name(config: WebConfig, folder: Path, relative: str) -> str:
    """Return what a downloaded file is called: ärende (or utskick), organisation and document.

    ``2023-10-handlingsplaner – Göta Lejon – handlingar.pdf``; a letter,
    ``2023-08-handlingsplaner – Higab – följebrev.pdf``.
    """
    parts = relative.split("/")
    registry = pipeline.load_organisationer(config.organisationer)
    org = next((o for p in parts[:-1] if (o := registry.find(p))), None)
    stem, suffix = Path(parts[-1]).stem, Path(parts[-1]).suffix
    if org is None and (found := registry.find(stem)):
        org, stem = found, "följebrev" if pipeline.is_utskick_folder(folder) else stem
    if org is None and pipeline.is_arende_folder(folder):
        try:
            data = forms.load_data((folder / ARENDE_FILE).read_text(encoding="utf-8"), folder / ARENDE_FILE)
            org = registry.find(str(data.get("organisation", "")))
        except (BeslutError, UnicodeDecodeError):
            org = None
    draft = "UTKAST" if pipeline.is_draft(relative) else None  # never mistaken for the final paper
    shown_name = " – ".join(x for x in [folder.name, org.namn if org else None, draft, stem + suffix] if x)
    return re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", shown_name)


async def _send_download(request: Request, folder: Path) -> FileResponse:
    config = config_of(request)
    path = _download(config, folder, request.path_params["fil"])
    name = await run_in_threadpool(download_name, config, folder, request.path_params["fil"])
    return FileResponse(path, headers={"content-disposition": disposition("attachment", name)})


async def download_arende(request: Request) -> FileResponse:
    config = config_of(request)
    return await _send_download(request, arende_folder(config, request.path_params["namn"]))


async def zip_arende(request: Request) -> Response:
    config = config_of(request)
    folder = arende_folder(config, request.path_params["namn"])
    return _zip(config, folder)


def _zip(config: WebConfig, folder: Path) -> Response:
    out = pipeline.output_folder(folder, config.out)
    if not out.is_dir():
        raise HTTPException(404)
    return Response(actions.zip_folder(out), media_type="application/zip",
                    headers={"content-disposition": disposition("attachment", f"{folder.name}.zip")})


async def download_utskick(request: Request) -> FileResponse:
    config = config_of(request)
    return await _send_download(request, utskick_folder(config, request.path_params["namn"]))


async def zip_utskick(request: Request) -> Response:
    config = config_of(request)
    return _zip(config, utskick_folder(config, request.path_params["namn"]))
