"""Editing an ärende: the form per tab, saving, uploading and removing bilagor, the Markdown preview,
and repairing a YAML file that does not parse as text."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

from markdown_it import MarkdownIt
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from .. import pipeline
from ..errors import BeslutError
from ..pipeline import ARENDE_FILE, OVERRIDES_DIR, wording_for, write_bytes
from . import actions, converters, forms, papperskorg
from .config import MB, WebConfig, scrub
from .pages import (
    arende_folder,
    audit,
    config_of,
    error_page,
    page,
    problem_dicts,
    shown,
    with_converter,
)
from .security import (
    SAFE_NAME,
    resolve_under,
    safe_filename,
)
from .startsida import _arende_item, last_built

SHARED_TAB = "gemensamt"


MAX_NAME = 100
"""The longest name of an uploaded bilaga, in characters."""


def tab_file(folder: Path, tab: str | None) -> Path:
    """Return the YAML file a tab edits: arende.yaml, or an organisation's override file."""
    if not tab or tab == SHARED_TAB:
        return folder / ARENDE_FILE
    path = resolve_under(folder / OVERRIDES_DIR, f"{tab}.yaml") if SAFE_NAME.match(tab) else None
    if path is None or not path.is_file():
        raise HTTPException(404)
    return path


def review_context(findings: list[dict]) -> dict:
    """Return what the page shows of the review: findings per field, and the counts."""
    field_review: dict[str, list[dict]] = {}
    for f in findings:
        if f["anchor"]:
            field_review.setdefault(f["anchor"], []).append(f)
    return {"findings": findings, "field_review": field_review,
            "stopp": sum(f["severity"] == "stopp" for f in findings),
            "varningar": sum(f["severity"] == "varning" for f in findings)}


def readability(state: forms.State) -> dict[str, str]:
    """Return LIX per text area of the form, and of the förslag till beslut as one text."""
    texts = {f.id: state.get(f.id, "") for f in forms.FIELDS if f.kind == "markdown"}
    texts["forslag"] = "\n".join(state.get("forslag", []))
    return actions.readability_of(texts)


def tab_urls(folder: Path, config: WebConfig) -> dict[str, tuple[str, str | None]]:
    """Return file shown -> (URL, name) of the tab that edits it, for every YAML file of the ärende."""
    base = f"/arende/{quote(folder.name)}?flik="
    if not (folder / OVERRIDES_DIR).is_dir():
        return {shown(config, folder / ARENDE_FILE): (base + SHARED_TAB, None)}
    registry = pipeline.load_organisationer(config.organisationer)
    urls: dict[str, tuple[str, str | None]] = {
        shown(config, folder / ARENDE_FILE): (base + SHARED_TAB, "Gemensam text")}
    for p in sorted((folder / OVERRIDES_DIR).glob("*.yaml")):
        org = registry.find(p.stem)
        urls[shown(config, p)] = (base + quote(p.stem), org.namn if org else p.stem)
    return urls


def _edit_context(config: WebConfig, folder: Path, tab: str | None, state: forms.State | None = None,
                  version: str | None = None, problems: list[actions.Problem] | None = None,
                  findings: list[actions.Problem] | None = None) -> dict:
    """Return what the edit page shows for ``tab`` (``SHARED_TAB`` or an org id) of the ärende in ``folder``."""
    file = tab_file(folder, tab)
    raw = file.read_bytes()
    text = raw.decode("utf-8")
    data = forms.load_data(text, file)
    state = {**forms.state_from_data(data), **(state or {})}  # what the request lacked, from the file
    shared = (folder / OVERRIDES_DIR).is_dir()
    registry = pipeline.load_organisationer(config.organisationer)
    tabs, org, inherited = [], None, None
    if shared:
        tabs = [(SHARED_TAB, "Gemensam text")] + [
            (p.stem, (found.namn if (found := registry.find(p.stem)) else p.stem))
            for p in sorted((folder / OVERRIDES_DIR).glob("*.yaml"))]
        if file.name != ARENDE_FILE:
            org = registry.find(file.stem)
            base = forms.load_data((folder / ARENDE_FILE).read_text(encoding="utf-8"), folder / ARENDE_FILE)
            inherited = forms.state_from_data(base)
    else:
        org = registry.find(str(data.get("organisation", "")))
    if problems is None:
        problems, findings = actions.check_arende(folder, config.organisationer,
                                                  None if file.name == ARENDE_FILE else file.stem)
    # the server's paths as the page shows them, so each problem finds its field (on save and build too)
    problems = [replace(p, file=shown(config, p.file)) if p.file and Path(p.file).is_absolute() else p
                for p in problems]
    findings = [replace(f, file=shown(config, f.file)) if f.file and Path(f.file).is_absolute() else f
                for f in findings or []]
    file_shown = shown(config, file)
    tabs_by_file = tab_urls(folder, config)
    plist = problem_dicts(problems, file_shown)
    field_errors: dict[str, list[str]] = {}
    for p in plist:
        if p["anchor"]:
            field_errors.setdefault(p["anchor"], []).append(p["message"])
    bedomning = wording_for(org)["bedomning_rubrik"] if org else "Bolagets eller förvaltningens bedömning"
    return {
        "namn": folder.name, "flik": tab or SHARED_TAB, "tabs": tabs, "shared": shared,
        "is_shared_tab": shared and file.name == ARENDE_FILE, "org": org, "inherited": inherited,
        "fields": forms.FIELDS, "bedomning_label": bedomning, "state": state,
        "version": version or forms.file_version(raw), "problems": plist, "field_errors": field_errors,
        "file_shown": file_shown, "built": last_built(config, folder),
        "build_state": _arende_item(config, folder)["per_org"],
        **review_context(problem_dicts(findings or [], file_shown, tabs_by_file, bedomning)),
        "lix": readability(state),
        "reviewed": not problems,
        "bilagor_here": not shared or file.name == ARENDE_FILE or "bilagor" in data,
        "accepted": ", ".join(pipeline.accepted_suffixes()),
        "organisation_text": (f"{org.namn} ({wording_for(org)['dokumenttyp'].lower()})" if org else
                              "Gemensamt för: " + ", ".join(t[1] for t in tabs[1:])),
    }


async def edit(request: Request) -> Response:
    config = config_of(request)
    folder = arende_folder(config, request.path_params["namn"])
    tab = request.query_params.get("flik")
    try:
        context = await run_in_threadpool(_edit_context, config, folder, tab)
    except (BeslutError, UnicodeDecodeError) as e:
        broken = await run_in_threadpool(_broken_file, folder, tab)
        if broken is None:
            return error_page(request, 400, e.format() if isinstance(e, BeslutError) else str(e))
        return RedirectResponse(f"/arende/{quote(folder.name)}/text?flik={quote(broken)}", status_code=303)
    notice, restore = None, None
    if request.query_params.get("sparat"):
        notice = "Sparat."
    if request.query_params.get("kopia"):
        notice = f"Ärendet är kopierat från {request.query_params['kopia']}. Ändra det som ska vara nytt och spara."
    if request.query_params.get("rattad"):
        notice = "Filen är rättad och sparad."
    if request.query_params.get("aterstalld"):
        notice = "Bilagan är återställd från papperskorgen och står sist bland bilagorna."
    item = papperskorg.read_item(config.state_folder, request.query_params.get("borttagen", ""))
    if item is not None and item.arende == folder.name:
        notice = f"Bilagan ”{item.titel or item.fil}” är borttagen och flyttad till papperskorgen."
        restore = item.id
    return page(request, "edit.html", notice=notice, restore=restore, conflict=False, messages=[], **context)


def _broken_file(folder: Path, tab: str | None) -> str | None:
    """Return the tab whose YAML file does not parse (the tab's own, or the shared one), or None."""
    for candidate in dict.fromkeys([tab or SHARED_TAB, SHARED_TAB]):
        try:
            file = tab_file(folder, candidate)
        except HTTPException:
            continue
        if forms.yaml_problem(file.read_bytes()) is not None:
            return candidate
    return None


LIST_ACTION = re.compile(r"(forslag|underskrift|bilaga)-(ny|upp|ned|bort)(?:-(\d+))?")


def _list_anchor(action: str, state: forms.State) -> str | None:
    """Return the id in the page a list button's result is at (the new or moved item, or the list)."""
    m = LIST_ACTION.fullmatch(action)
    if not m:
        return None
    kind, verb = m[1], m[2]
    key = {"forslag": "forslag", "underskrift": "underskrifter", "bilaga": "bilagor"}[kind]
    count = len(state.get(key, []))
    index = count if verb == "ny" else int(m[3] or 0) + {"upp": -1, "ned": 1}.get(verb, 0)
    if verb == "bort" or not 0 < index <= count:
        return key
    return {"forslag": f"forslag-{index}", "underskrift": f"underskrift-{index}-namn",
            "bilaga": f"bilaga-{index}-titel"}[kind]


async def save(request: Request, first: str | None = None) -> Response:
    """Save the form (with the files chosen, and a list button's change) and show the result.

    ``first`` is a message put before the upload's (a build that uploaded first).
    """
    config = config_of(request)
    folder = arende_folder(config, request.path_params["namn"])
    form = await request.form()
    tab = str(form.get("flik") or SHARED_TAB)
    file = tab_file(folder, tab)
    state = forms.state_from_form(form)
    action = str(form.get("atgard") or "spara")
    messages: list[str] = []
    removed = _removed_bilaga(state, action)
    uploads = [f for f in form.getlist("filer") if isinstance(f, UploadFile) and f.filename]
    if action == "ladda-upp" or uploads:
        if "bilagor" not in state:  # a request without the list adds to the file's bilagor
            state["bilagor"] = forms.state_from_data(forms.load_data(file.read_text(encoding="utf-8"), file))["bilagor"]
        messages = await _receive_bilagor(request, config, folder, uploads, state)
    forms.apply_action(state, action)
    handelse = "uppladdning" if uploads else "borttagning" if removed else "spara"
    detalj = "; ".join(scrub(m) for m in messages) if uploads else removed[0] if removed else None
    try:
        await run_in_threadpool(forms.save_state, file, state, str(form.get("version", "")))
    except forms.Conflict:
        audit(request, handelse, arende=folder.name, resultat="fel", detalj="konflikt: filen ändrades av någon annan")
        context = await run_in_threadpool(_edit_context, config, folder, tab, state, str(form.get("version", "")))
        return page(request, "edit.html", status=409, notice=None, conflict=True, messages=messages, **context)
    except BeslutError as e:
        audit(request, handelse, arende=folder.name, resultat="fel", detalj=scrub(e.format()))
        return await _refused_edit(request, 400, "Inte sparat: " + scrub(e.message), messages)
    audit(request, handelse, arende=folder.name, detalj=f"{shown(config, file)}; {detalj}" if detalj
          else shown(config, file))
    base = f"/arende/{quote(folder.name)}?flik={quote(tab)}"
    if removed:
        item = await run_in_threadpool(_trash_unused, config, folder, *removed, request.state.user)
        if item:
            audit(request, "papperskorg", arende=folder.name, detalj=f"{removed[0]} flyttad till papperskorgen")
        return RedirectResponse(base + (f"&borttagen={item}" if item else "&sparat=1") + "#bilagor", status_code=303)
    anchor = _list_anchor(action, state) or ("bilagor" if uploads or action == "ladda-upp" else None)
    if anchor is None:
        return RedirectResponse(f"{base}&sparat=1", status_code=303)
    # the page itself, not a redirect: a new empty item is not in the file until it is filled in
    context = await run_in_threadpool(_edit_context, config, folder, tab, state)
    return page(request, "edit.html", notice="Sparat.", conflict=False, goto=anchor,
                messages=([first] if first else []) + messages, **context)


async def _refused_edit(request: Request, status: int, reason: str, messages: list[str] | None = None) -> Response:
    """Return the edit form with what was typed (nothing saved) and ``reason`` at the top."""
    config = config_of(request)
    folder = arende_folder(config, request.path_params["namn"])
    form = await request.form()
    tab = str(form.get("flik") or SHARED_TAB)
    state = forms.state_from_form(form)
    try:
        context = await run_in_threadpool(_edit_context, config, folder, tab, state, str(form.get("version", "")))
    except (BeslutError, UnicodeDecodeError):
        return error_page(request, status, reason)
    return page(request, "edit.html", status=status, notice=None, conflict=False, refused=reason,
                messages=messages or [], **context)


async def refused_edit(request: Request, status: int, reason: str) -> Response:
    return await _refused_edit(request, status, reason)


def _removed_bilaga(state: forms.State, action: str) -> tuple[str, str] | None:
    m = re.fullmatch(r"bilaga-bort-(\d+)", action)
    if m and "bilagor" in state and 0 < int(m[1]) <= len(state["bilagor"]):
        bilaga = state["bilagor"][int(m[1]) - 1]
        return bilaga["fil"], bilaga["titel"]
    return None


def _trash_unused(config: WebConfig, folder: Path, fil: str, titel: str, user: str | None) -> str | None:
    """Move a removed bilaga's file to the papperskorg if it is in bilagor/ and no YAML file names it.

    Return the papperskorg's id of it, or None (the file is kept: another file names it).
    """
    path = resolve_under(folder, *fil.split("/"))
    if path is None or path.parent != (folder / "bilagor").resolve() or not path.is_file():
        return None
    texts = [p.read_text(encoding="utf-8") for p in [folder / ARENDE_FILE, *(folder / OVERRIDES_DIR).glob("*.yaml")]
             if p.is_file()]
    if any(fil in t for t in texts):
        return None
    return papperskorg.trash_bilaga(config.state_folder, folder, path.relative_to(folder).as_posix(), titel, user)


async def _receive_bilagor(request: Request, config: WebConfig, folder: Path, uploads: list[UploadFile],
                          state: forms.State) -> list[str]:
    """Store uploaded bilagor after the CLI's checks; add the good ones to ``state``; return messages."""
    if not uploads:
        return ["Välj en eller flera filer att ladda upp."]
    messages = []
    target_dir = folder / "bilagor"
    used = sum(p.stat().st_size for p in target_dir.rglob("*") if p.is_file()) if target_dir.is_dir() else 0
    for upload in uploads:
        given = Path((upload.filename or "").replace("\\", "/")).name
        name = safe_filename(given)
        size = upload.size or 0
        if len(given) > MAX_NAME:
            messages.append(f"{given[:40]}…: filnamnet är för långt ({len(given)} tecken, högst {MAX_NAME}). Ge "
                            "filen ett kortare namn och ladda upp den igen.")
            continue
        if Path(name).suffix.lower() not in pipeline.accepted_suffixes():
            messages.append(f"{upload.filename}: filformatet kan inte bli en bilaga. Godkända format: "
                            f"{', '.join(pipeline.accepted_suffixes())}.")
            continue
        if size > config.max_file:
            messages.append(f"{upload.filename}: filen är {size / MB:.1f} MB, men en bilaga får vara högst "
                            f"{config.max_file // MB} MB. Minska filen (t.ex. spara bilderna i lägre upplösning).")
            continue
        if used + size > config.max_arende:
            messages.append(f"{upload.filename}: ärendets bilagor får vara högst {config.max_arende // MB} MB "
                            "tillsammans. Ta bort eller minska andra bilagor först.")
            continue
        target_dir.mkdir(exist_ok=True)
        target = _free_name(target_dir, name)
        target.write_bytes(await upload.read())
        try:
            warnings = await run_in_threadpool(with_converter, request, 60, pipeline.check_bilaga, target,
                                               config.out)
        except converters.Busy:
            target.unlink()
            messages.append(f"{upload.filename}: servern är upptagen och kunde inte kontrollera filen. Försök igen.")
            continue
        except BeslutError as e:
            target.unlink()
            messages.append(f"{upload.filename}: {scrub(e.message)}")
            continue
        used += size
        title = Path(upload.filename or name).stem.replace("_", " ").strip() or name
        state["bilagor"].append({"titel": title, "fil": f"bilagor/{target.name}"})
        messages.append(f"{upload.filename}: uppladdad som bilaga {len(state['bilagor'])}.")
        messages += [scrub(w) for w in warnings]
    return messages


def _free_name(folder: Path, name: str) -> Path:
    stem, suffix = Path(name).stem, Path(name).suffix
    target, n = folder / name, 2
    while target.exists():
        target, n = folder / f"{stem}-{n}{suffix}", n + 1
    return target


_markdown = MarkdownIt("commonmark", {"html": False})


async def markdown_preview(request: Request) -> HTMLResponse:
    """Return a Markdown text as HTML (raw HTML in the text stays literal text)."""
    form = await request.form()
    return HTMLResponse(_markdown.render(str(form.get("text", ""))))


def _text_context(config: WebConfig, folder: Path, tab: str, text: str | None = None,
                  version: str | None = None) -> dict:
    file = tab_file(folder, tab)
    raw = file.read_bytes()
    if text is None:
        text = raw.decode("utf-8", errors="replace")
    same = text == raw.decode("utf-8", errors="replace")
    found = forms.yaml_problem(raw if same else text.encode("utf-8"))
    message, line = found if found else (None, None)
    lines = text.splitlines()
    around = [(n, lines[n - 1]) for n in range(max(1, (line or 1) - 2), min(len(lines), (line or 1) + 2) + 1)] \
        if line else []
    return {"namn": folder.name, "flik": tab, "text": text, "version": version or forms.file_version(raw),
            "file_shown": shown(config, file), "message": message, "line": line, "around": around}


async def text_form(request: Request) -> Response:
    """Show an ärende's YAML file as plain text, with why it cannot be read and where."""
    config = config_of(request)
    folder = arende_folder(config, request.path_params["namn"])
    tab = request.query_params.get("flik") or SHARED_TAB
    context = await run_in_threadpool(_text_context, config, folder, tab)
    return page(request, "text.html", conflict=False, **context)


async def text_save(request: Request) -> Response:
    """Save the repaired text of a YAML file if it now parses; else show it again, nothing lost."""
    config = config_of(request)
    folder = arende_folder(config, request.path_params["namn"])
    form = await request.form()
    tab = str(form.get("flik") or SHARED_TAB)
    file = tab_file(folder, tab)
    text = str(form.get("text", "")).replace("\r\n", "\n")
    version = str(form.get("version", ""))
    context = await run_in_threadpool(_text_context, config, folder, tab, text, version)
    if context["message"]:
        return page(request, "text.html", status=422, conflict=False, **context)
    if forms.file_version(file.read_bytes()) != version:
        return page(request, "text.html", status=409, conflict=True, **context)
    await run_in_threadpool(write_bytes, file, text.encode("utf-8"))
    audit(request, "spara", arende=folder.name, detalj=f"{shown(config, file)}; rättad som text")
    return RedirectResponse(f"/arende/{quote(folder.name)}?flik={quote(tab)}&rattad=1", status_code=303)


async def refused_text(request: Request, status: int, reason: str) -> Response:
    config = config_of(request)
    folder = arende_folder(config, request.path_params["namn"])
    form = await request.form()
    context = await run_in_threadpool(_text_context, config, folder, str(form.get("flik") or SHARED_TAB),
                                      str(form.get("text", "")), str(form.get("version", "")))
    return page(request, "text.html", status=status, conflict=False, refused=reason, **context)
