"""The pages of ``beslut web``: start page, edit, preview, build, bilagor, letters, new ärende.

Every POST goes through ``post`` (CSRF check); every folder or file named in a URL goes
through ``security.resolve_under``; every call into the generator goes through ``actions``.
Slow work (LibreOffice) runs in threads, never in the event loop.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from markdown_it import MarkdownIt
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ..content import ARENDE_FILE, OVERRIDES_DIR, UTSKICK_FILE
from ..errors import BeslutError, ContentError
from ..wording import wording_for
from . import actions, forms
from .app import MB, WebConfig, client_of, error_page, scrub, session_cookie
from .jobs import Job, QueueFull
from .security import (
    CSRF_FIELD,
    CSRF_HEADER,
    SAFE_NAME,
    SESSION_COOKIE,
    csrf_ok,
    resolve_under,
    safe_filename,
    wait_text,
)
from .state import AuditLog

SHARED_TAB = "gemensamt"
DOWNLOADABLE = (".docx", ".pdf", ".json", ".eml", ".txt")
SEVERITY_LABEL = {"fel": "Fel", "stopp": "Stopp", "varning": "Varning"}


# --- helpers -------------------------------------------------------------------------------


def config_of(request: Request) -> WebConfig:
    return request.app.state.config


def page(request: Request, template: str, status: int = 200, **context) -> HTMLResponse:
    """Render ``template`` with what every page needs (CSRF token, user, limits)."""
    config = config_of(request)
    env = request.app.state.templates
    if template == "edit.html":
        context.setdefault("changed", last_changed(request, context["namn"]))
    html = env.get_template(template).render(
        csrf=request.state.csrf, user=request.state.user, nav=context.pop("nav", ""),
        signout=getattr(request.state, "signout", False),
        max_file_mb=config.max_file // MB, max_arende_mb=config.max_arende // MB, **context)
    return HTMLResponse(html, status_code=status)


def audit(request: Request, handelse: str, **fields) -> None:
    """Write one event of this request's user to the audit log."""
    log: AuditLog = request.app.state.audit
    log.write(handelse, anvandare=request.state.user, adress=client_of(request.scope), **fields)


def last_changed(request: Request, namn: str) -> str | None:
    """Return "Senast ändrad av … den …" for the ärende ``namn`` (from the audit log and its files)."""
    config = config_of(request)
    folder = config.arenden / namn
    files = [folder / ARENDE_FILE, *sorted((folder / OVERRIDES_DIR).glob("*.yaml"))]
    mtimes = [p.stat().st_mtime for p in files if p.is_file()]
    logged = request.app.state.audit.last_change(namn)
    when = datetime.fromtimestamp(max(mtimes)) if mtimes else None
    if logged:
        user, tid = logged
        try:
            at = datetime.fromisoformat(tid).astimezone().replace(tzinfo=None)
        except ValueError:
            at = None
        if at and (when is None or when.timestamp() <= at.timestamp() + 5):
            by = f" av {user}" if user else " på webbsidan"
            return f"Senast ändrad{by} den {at:%Y-%m-%d %H:%M}."
    if when:
        return (f"Senast ändrad den {when:%Y-%m-%d %H:%M} (vem som ändrade syns bara för ändringar gjorda på "
                "webbsidan).")
    return None


def post(path: str, endpoint, name: str | None = None) -> Route:
    """Return a POST route whose requests must carry the session's CSRF token."""

    async def checked(request: Request):
        config = config_of(request)
        if "content-length" not in request.headers:
            raise HTTPException(411)
        token = request.headers.get(CSRF_HEADER)
        if token is None:
            try:
                form = await request.form(max_files=50, max_part_size=2 * MB)
            except HTTPException as e:
                if "exceeded" in str(e.detail):
                    raise HTTPException(413) from e
                raise
            token = str(form.get(CSRF_FIELD, ""))
        if not csrf_ok(config.secret, request.cookies.get("beslut_sid"), token):
            await request.close()
            raise HTTPException(403)
        try:
            return await endpoint(request)
        finally:
            await request.close()  # uploaded files are temporary files

    return Route(path, checked, methods=["POST"], name=name)


def with_converter(request: Request, timeout: float, fn, first, *args):
    """Call ``fn(first, converter, *args)`` with a converter from the pool (in a worker thread)."""
    with request.app.state.pool.borrow(timeout=timeout, urgent=True) as converter:
        return fn(first, converter, *args)


def shown(config: WebConfig, path: Path | str) -> str:
    """Return a path as the user sees it: relative to the content folder (never a server path)."""
    try:
        return Path(path).resolve().relative_to(config.content.resolve()).as_posix()
    except ValueError:
        return Path(path).name


def arende_folder(config: WebConfig, namn: str) -> Path:
    """Return the ärende folder ``namn``; 404 unless it is one, inside the content folder."""
    folder = resolve_under(config.arenden, namn) if SAFE_NAME.match(namn) else None
    if folder is None or folder == config.arenden.resolve() or not actions.is_arende_folder(folder):
        raise HTTPException(404)
    return folder


def utskick_folder(config: WebConfig, namn: str) -> Path:
    """Return the utskick folder ``namn``; 404 unless it is one, inside the content folder."""
    folder = resolve_under(config.utskick, namn) if SAFE_NAME.match(namn) else None
    if folder is None or folder == config.utskick.resolve() or not actions.is_utskick_folder(folder):
        raise HTTPException(404)
    return folder


def tab_file(folder: Path, flik: str | None) -> Path:
    """Return the YAML file a tab edits: arende.yaml, or an organisation's override file."""
    if not flik or flik == SHARED_TAB:
        return folder / ARENDE_FILE
    path = resolve_under(folder / OVERRIDES_DIR, f"{flik}.yaml") if SAFE_NAME.match(flik) else None
    if path is None or not path.is_file():
        raise HTTPException(404)
    return path


def last_built(config: WebConfig, folder: Path) -> str | None:
    """Return when the final documents of ``folder`` were last written (not a draft), as the page shows it."""
    item = _arende_item(config, folder) if actions.is_arende_folder(folder) else _utskick_item(config, folder)
    return item["byggt"]


def shown_time(when: float | None) -> str | None:
    """Return a modification time as the page shows it: 2026-12-06 18:30."""
    return datetime.fromtimestamp(when).strftime("%Y-%m-%d %H:%M") if when is not None else None


def problem_dicts(problems: list[actions.Problem], file_shown: str | None = None,
                  other_tabs: Mapping[str, tuple[str, str | None]] | None = None,
                  labels: str | None = None) -> list[dict]:
    """Return problems for a page: message, full text, and where it is.

    ``anchor`` is the id of its field in this form (the file ``file_shown``); ``href`` links
    to it, here or in the tab (``other_tabs``: file shown -> (tab URL, name)) whose file it is in.
    With ``labels`` (the label of the bedömning field) the text names the field by its
    label in the form, and the file only when it is not ``file_shown`` (review findings);
    without, the text is the CLI's (validation errors).
    """
    unique = list(dict.fromkeys(problems))  # a shared ärende may report one problem per organisation
    dicts = []
    for p in unique:
        field = "forslag" if labels is not None and p.field == "förslag_till_beslut" else forms.field_anchor(p.field)
        here = file_shown is None or p.file == file_shown
        tab, tab_label = (other_tabs or {}).get(p.file or "", (None, None))
        href = (f"#{field}" if here else f"{tab}#{field}" if tab else None) if field else None
        text = p.text
        if labels is not None:
            elsewhere = f"fliken {tab_label}" if tab_label else None if tab else p.file
            where = [forms.field_label(p.field, labels), None if here else elsewhere,
                     f"rad {p.line}" if p.line else None]
            text = f"{', '.join(w for w in where if w)}: {p.message}"
        dicts.append({"message": scrub(p.message), "text": scrub(text), "anchor": field if here else None,
                      "href": href,
                      "severity": p.severity, "label": SEVERITY_LABEL.get(p.severity, p.severity)})
    return dicts


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
    registry = actions.load_registry(config.organisationer)
    urls: dict[str, tuple[str, str | None]] = {
        shown(config, folder / ARENDE_FILE): (base + SHARED_TAB, "Gemensam text")}
    for p in sorted((folder / OVERRIDES_DIR).glob("*.yaml")):
        org = registry.find(p.stem)
        urls[shown(config, p)] = (base + quote(p.stem), org.namn if org else p.stem)
    return urls


# --- start page ----------------------------------------------------------------------------


async def index(request: Request) -> HTMLResponse:
    config = config_of(request)
    arenden = await run_in_threadpool(_list_arenden, config)
    utskick = await run_in_threadpool(_list_utskick, config)
    await run_in_threadpool(save_listing, config)
    return page(request, "index.html", arenden=arenden, utskick=utskick, nav="start",
                moved=[scrub(m) for m in request.app.state.moved])


_LISTING: actions.Listing[dict] = actions.Listing()
"""Each ärende's and utskick's line on the start page, kept until its files change."""
LISTING_FILE = "startsida.json"
"""The kept lines in the state folder, so a restarted server's first start page is as fast."""


def _list_arenden(config: WebConfig) -> list[dict]:
    folders = sorted(p for p in config.arenden.iterdir() if p.is_dir()) if config.arenden.is_dir() else []
    return [_arende_item(config, folder) for folder in folders if actions.is_arende_folder(folder)]


def _arende_item(config: WebConfig, folder: Path) -> dict:
    """Return the ärende's line on the start page: kept (``_LISTING``) until one of its files changes."""
    stamps = actions.arende_stamps(folder, config.organisationer, config.out)
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
    final, draft = actions.arende_builds(folder, config.out)
    reviewed = {i.organisation.id: actions.review_counts(i) for i in instances}
    none = actions.Built(None)
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
    return [_utskick_item(config, folder) for folder in folders if actions.is_utskick_folder(folder)]


def _utskick_item(config: WebConfig, folder: Path) -> dict:
    """Return the utskick's line on the start page: kept (``_LISTING``) until one of its files changes."""
    stamps = actions.utskick_stamps(folder, config.organisationer, config.out)
    return _LISTING.get(f"utskick\n{folder}\n{config.out}", stamps, lambda: _utskick_state(config, folder))


def _utskick_state(config: WebConfig, folder: Path) -> dict:
    built = actions.built_by_recipient(actions.output_folder(folder, config.out))
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


# --- editing an ärende ---------------------------------------------------------------------


def _edit_context(config: WebConfig, folder: Path, flik: str | None, state: forms.State | None = None,
                  version: str | None = None, problems: list[actions.Problem] | None = None,
                  findings: list[actions.Problem] | None = None) -> dict:
    """Return what the edit page shows for the tab ``flik`` of the ärende in ``folder``."""
    file = tab_file(folder, flik)
    raw = file.read_bytes()
    text = raw.decode("utf-8")
    data = forms.load_data(text, file)
    state = {**forms.state_from_data(data), **(state or {})}  # what the request lacked, from the file
    shared = (folder / OVERRIDES_DIR).is_dir()
    registry = actions.load_registry(config.organisationer)
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
        findings = [replace(f, file=shown(config, f.file)) if f.file else f for f in findings]
    file_shown = shown(config, file)
    tabs_by_file = tab_urls(folder, config)
    plist = problem_dicts(problems, file_shown)
    field_errors: dict[str, list[str]] = {}
    for p in plist:
        if p["anchor"]:
            field_errors.setdefault(p["anchor"], []).append(p["message"])
    bedomning = wording_for(org)["bedomning_rubrik"] if org else "Bolagets eller förvaltningens bedömning"
    return {
        "namn": folder.name, "flik": flik or SHARED_TAB, "tabs": tabs, "shared": shared,
        "is_shared_tab": shared and file.name == ARENDE_FILE, "org": org, "inherited": inherited,
        "fields": forms.FIELDS, "bedomning_label": bedomning, "state": state,
        "version": version or forms.file_version(raw), "problems": plist, "field_errors": field_errors,
        "file_shown": file_shown, "built": last_built(config, folder),
        "build_state": _arende_item(config, folder)["per_org"],
        **review_context(problem_dicts(findings or [], file_shown, tabs_by_file, bedomning)),
        "lix": readability(state),
        "reviewed": not problems,
        "bilagor_here": not shared or file.name == ARENDE_FILE or "bilagor" in data,
        "accepted": ", ".join(actions.accepted_suffixes()),
        "organisation_text": (f"{org.namn} ({wording_for(org)['dokumenttyp'].lower()})" if org else
                              "Gemensamt för: " + ", ".join(t[1] for t in tabs[1:])),
    }


async def edit(request: Request) -> Response:
    config = config_of(request)
    folder = arende_folder(config, request.path_params["namn"])
    flik = request.query_params.get("flik")
    try:
        context = await run_in_threadpool(_edit_context, config, folder, flik)
    except BeslutError as e:
        return error_page(request, 400, e.format())
    notice = "Sparat." if request.query_params.get("sparat") else None
    return page(request, "edit.html", notice=notice, conflict=False, messages=[], **context)


async def save(request: Request) -> Response:
    """Save the form (after an upload or a list button, if one was pressed) and show the result."""
    config = config_of(request)
    folder = arende_folder(config, request.path_params["namn"])
    form = await request.form()
    flik = str(form.get("flik") or SHARED_TAB)
    file = tab_file(folder, flik)
    state = forms.state_from_form(form)
    action = str(form.get("atgard") or "spara")
    messages: list[str] = []
    removed = _removed_bilaga(state, action)
    if action == "ladda-upp":
        if "bilagor" not in state:  # a request without the list adds to the file's bilagor
            state["bilagor"] = forms.state_from_data(forms.load_data(file.read_text(encoding="utf-8"), file))["bilagor"]
        messages = await _receive_bilagor(request, config, folder, form, state)
    forms.apply_action(state, action)
    handelse = "uppladdning" if action == "ladda-upp" else "borttagning" if removed else "spara"
    detalj = "; ".join(scrub(m) for m in messages) if action == "ladda-upp" else removed
    try:
        await run_in_threadpool(forms.save_state, file, state, str(form.get("version", "")))
    except forms.Conflict:
        audit(request, handelse, arende=folder.name, resultat="fel", detalj="konflikt: filen ändrades av någon annan")
        context = await run_in_threadpool(_edit_context, config, folder, flik, state, str(form.get("version", "")))
        return page(request, "edit.html", status=409, notice=None, conflict=True, messages=messages, **context)
    except BeslutError as e:
        audit(request, handelse, arende=folder.name, resultat="fel", detalj=scrub(e.format()))
        return error_page(request, 400, e.format())
    audit(request, handelse, arende=folder.name, detalj=f"{shown(config, file)}; {detalj}" if detalj
          else shown(config, file))
    if removed:
        _delete_unused(folder, removed)
    if action == "spara":
        return RedirectResponse(f"/arende/{quote(folder.name)}?flik={quote(flik)}&sparat=1", status_code=303)
    context = await run_in_threadpool(_edit_context, config, folder, flik, state)
    return page(request, "edit.html", notice="Sparat.", conflict=False, messages=messages, **context)


def _removed_bilaga(state: forms.State, action: str) -> str | None:
    m = re.fullmatch(r"bilaga-bort-(\d+)", action)
    if m and "bilagor" in state and 0 < int(m[1]) <= len(state["bilagor"]):
        return state["bilagor"][int(m[1]) - 1]["fil"]
    return None


def _delete_unused(folder: Path, fil: str) -> None:
    """Delete a removed bilaga's file if it is in bilagor/ and no YAML file of the ärende names it."""
    path = resolve_under(folder, *fil.split("/"))
    if path is None or path.parent != (folder / "bilagor").resolve() or not path.is_file():
        return
    texts = [p.read_text(encoding="utf-8") for p in [folder / ARENDE_FILE, *(folder / OVERRIDES_DIR).glob("*.yaml")]
             if p.is_file()]
    if not any(fil in t for t in texts):
        path.unlink()


async def _receive_bilagor(request: Request, config: WebConfig, folder: Path, form, state: forms.State) -> list[str]:
    """Store uploaded bilagor after the CLI's checks; add the good ones to ``state``; return messages."""
    uploads = [f for f in form.getlist("filer") if isinstance(f, UploadFile) and f.filename]
    if not uploads:
        return ["Välj en eller flera filer att ladda upp."]
    messages = []
    target_dir = folder / "bilagor"
    used = sum(p.stat().st_size for p in target_dir.rglob("*") if p.is_file()) if target_dir.is_dir() else 0
    for upload in uploads:
        name = safe_filename(upload.filename or "")
        size = upload.size or 0
        if Path(name).suffix.lower() not in actions.accepted_suffixes():
            messages.append(f"{upload.filename}: filformatet kan inte bli en bilaga. Godkända format: "
                            f"{', '.join(actions.accepted_suffixes())}.")
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
            warnings = await run_in_threadpool(with_converter, request, 60, actions.check_bilaga, target,
                                               config.out)
        except actions.Busy:
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


def _candidate(config: WebConfig, folder: Path, form) -> tuple[str, dict[str, str]]:
    """Return the tab and the YAML texts the form would save, for checking and previewing."""
    flik = str(form.get("flik") or SHARED_TAB)
    file = tab_file(folder, flik)
    text = forms.render_text(file.read_text(encoding="utf-8"), forms.state_from_form(form), file)
    return flik, {str(file.relative_to(folder)): text}


async def check(request: Request) -> JSONResponse:
    """Check the form as it is now (live validation): the CLI's messages, by field."""
    config = config_of(request)
    folder = arende_folder(config, request.path_params["namn"])
    form = await request.form()
    findings: list[actions.Problem] = []
    try:
        flik, texts = await run_in_threadpool(_candidate, config, folder, form)
        problems, findings = await run_in_threadpool(actions.check_candidate, folder, texts, config.organisationer,
                                                     lambda p: shown(config, p), None if flik == SHARED_TAB else flik)
    except BeslutError as e:
        problems = actions.parse_problems(e, lambda p: shown(config, p))
        flik = str(form.get("flik") or SHARED_TAB)
    file_shown = shown(config, tab_file(folder, flik))
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
        flik, texts = await run_in_threadpool(_candidate, config, folder, form)
        pdf, problems = await run_in_threadpool(
            with_converter, request, 30, actions.preview_candidate, folder, texts, config.organisationer,
            None if flik == SHARED_TAB else flik, config.out, handlingar, config.templates, lambda p: shown(config, p))
    except actions.Busy:
        return error_page(request, 503)
    except BeslutError as e:
        pdf, problems = None, actions.parse_problems(e, lambda p: shown(config, p))
    if pdf is None:
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"problems": problem_dicts(problems)}, status_code=422)
        return page(request, "problems.html", status=422, namn=folder.name, problems=problem_dicts(problems),
                    title="Förhandsgranskningen gick inte att göra")
    name = "handlingar.pdf" if handlingar else "forhandsgranskning.pdf"
    return Response(pdf, media_type="application/pdf", headers={"content-disposition": f'inline; filename="{name}"'})


async def build(request: Request) -> Response:
    """Save the form, then queue a build of the whole ärende and show its progress page."""
    config = config_of(request)
    folder = arende_folder(config, request.path_params["namn"])
    form = await request.form()
    flik = str(form.get("flik") or SHARED_TAB)
    if "version" in form:
        state = forms.state_from_form(form)
        try:
            await run_in_threadpool(forms.save_state, tab_file(folder, flik), state, str(form["version"]))
            audit(request, "spara", arende=folder.name, detalj=f"{shown(config, tab_file(folder, flik))}; före bygge")
        except forms.Conflict:
            audit(request, "spara", arende=folder.name, resultat="fel",
                  detalj="konflikt: filen ändrades av någon annan")
            context = await run_in_threadpool(_edit_context, config, folder, flik, state, str(form["version"]))
            return page(request, "edit.html", status=409, notice=None, conflict=True, messages=[], **context)
    problems, findings = await run_in_threadpool(actions.check_arende, folder, config.organisationer)
    if problems:
        context = await run_in_threadpool(_edit_context, config, folder, flik, None, None, problems)
        return page(request, "edit.html", status=422, notice=None, conflict=False,
                    messages=["Rätta felen nedan innan du skapar handlingarna."], **context)
    namn = folder.name
    base = f"/arende/{quote(namn)}"
    utkast = form.get("utkast") == "ja"
    stopp = [f for f in findings if f.severity == "stopp"]
    if stopp and not utkast:
        stopp = [replace(f, file=shown(config, f.file)) if f.file else f for f in stopp]
        return page(request, "stopp.html", status=422, namn=namn, flik=flik,
                    stopp=problem_dicts(stopp, "", tab_urls(folder, config), "Bedömning"))

    log_event = _job_audit(request, "bygge", "utkast" if utkast else None, arende=namn)

    def work(job: Job, converter) -> None:
        crashed = True
        try:
            report = actions.build_arende(folder, config.organisationer, config.out, converter,
                                          templates=config.templates, utkast=utkast, progress=job.progress)
            _report_to_job(job, report, actions.output_folder(folder, config.out), base)
            crashed = False
        except BeslutError as e:
            job.error, crashed = scrub(e.format()), False
        finally:
            log_event(job, crashed)

    title = f"Utkast av handlingarna: {namn}" if utkast else f"Handlingarna: {namn}"
    return _submit(request, f"arende/{namn}", title, work, f"{base}?flik={quote(flik)}", draft=utkast)


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
        job.downloads.append(("manifest.json", f"{base}/fil/{quote(str(report.manifest.relative_to(out)))}"))
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


def _download(config: WebConfig, folder: Path, relative: str) -> Path:
    out = actions.output_folder(folder, config.out)
    path = resolve_under(out, *relative.split("/"))
    if path is None or not path.is_file() or path.suffix.lower() not in DOWNLOADABLE:
        raise HTTPException(404)
    return path


async def download_arende(request: Request) -> FileResponse:
    config = config_of(request)
    folder = arende_folder(config, request.path_params["namn"])
    path = _download(config, folder, request.path_params["fil"])
    return FileResponse(path, filename=path.name, content_disposition_type="attachment")


async def zip_arende(request: Request) -> Response:
    config = config_of(request)
    folder = arende_folder(config, request.path_params["namn"])
    return _zip(config, folder)


def _zip(config: WebConfig, folder: Path) -> Response:
    out = actions.output_folder(folder, config.out)
    if not out.is_dir():
        raise HTTPException(404)
    return Response(actions.zip_folder(out), media_type="application/zip",
                    headers={"content-disposition": f'attachment; filename="{folder.name}.zip"'})


# --- jobs ----------------------------------------------------------------------------------


def _job(request: Request) -> Job:
    job = request.app.state.jobs.get(request.path_params["id"])
    if job is None:
        raise HTTPException(404)
    return job


async def job_page(request: Request) -> HTMLResponse:
    return page(request, "job.html", job=_job(request))


async def job_status(request: Request) -> JSONResponse:
    return JSONResponse(_job(request).as_json())


# --- letters -------------------------------------------------------------------------------


async def utskick(request: Request) -> HTMLResponse:
    config = config_of(request)
    folder = utskick_folder(config, request.path_params["namn"])
    return page(request, "utskick.html", **(await run_in_threadpool(_utskick_context, config, folder, None)))


def _utskick_context(config: WebConfig, folder: Path, till: list[str] | None, problems=None, pdf: bool = True,
                     eml: bool = False) -> dict:
    registry = actions.load_registry(config.organisationer)
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
    return {"namn": folder.name, "rubrik": rubrik, "default": default, "till": till or [],
            "organisationer": registry.organisationer, "problems": problem_dicts(problems or []),
            "built": last_built(config, folder), "sender": sender, "with_address": with_address,
            "count": count, "file_shown": shown(config, folder / UTSKICK_FILE), "folder_shown": shown(config, folder),
            "pdf": pdf, "eml": eml}


async def run_utskick(request: Request) -> Response:
    config = config_of(request)
    folder = utskick_folder(config, request.path_params["namn"])
    form = await request.form()
    till = [str(t) for t in form.getlist("till")] or None
    pdf, eml = form.get("pdf") == "ja", form.get("eml") == "ja"
    try:
        if eml and not pdf:
            raise ContentError("e-postmeddelandena får breven som PDF-bilaga: kryssa också i ”Skapa också PDF/A "
                               "av varje brev”.")
        await run_in_threadpool(lambda: actions.validate_utskick(folder, config.organisationer, till, eml=eml))
    except BeslutError as e:
        problems = actions.parse_problems(e, lambda p: shown(config, p))
        return page(request, "utskick.html", status=422,
                    **(await run_in_threadpool(_utskick_context, config, folder, till, problems, pdf, eml)))
    namn = folder.name
    base = f"/utskick/{quote(namn)}"

    kind = ", ".join(x for x in ["pdf" if pdf else None, "eml" if eml else None,
                                 f"till: {', '.join(till)}" if till else None] if x)
    log_event = _job_audit(request, "utskick", kind or None, utskick=namn)

    def work(job: Job, converter) -> None:
        crashed = True
        try:
            report = actions.run_letters(folder, config.organisationer, config.out, till, pdf=pdf, eml=eml,
                                         converter=converter, templates=config.templates, progress=job.progress)
            _report_to_job(job, report, actions.output_folder(folder, config.out), base)
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


async def download_utskick(request: Request) -> FileResponse:
    config = config_of(request)
    folder = utskick_folder(config, request.path_params["namn"])
    path = _download(config, folder, request.path_params["fil"])
    return FileResponse(path, filename=path.name, content_disposition_type="attachment")


async def zip_utskick(request: Request) -> Response:
    config = config_of(request)
    return _zip(config, utskick_folder(config, request.path_params["namn"]))


# --- new ärende ----------------------------------------------------------------------------


async def new_form(request: Request) -> HTMLResponse:
    config = config_of(request)
    registry = await run_in_threadpool(actions.load_registry, config.organisationer)
    return page(request, "new.html", organisationer=registry.organisationer, errors={}, values={"namn": "", "org": []},
                nav="nytt")


async def new_create(request: Request) -> Response:
    config = config_of(request)
    form = await request.form()
    namn = str(form.get("namn", "")).strip()
    org_ids = [str(o) for o in form.getlist("org")]
    registry = await run_in_threadpool(actions.load_registry, config.organisationer)
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
            await run_in_threadpool(actions.create_arende, config.arenden / namn, org_ids, config.organisationer)
        except BeslutError as e:
            errors["namn"] = scrub(e.message)
    if not errors:
        audit(request, "nytt-arende", arende=namn, detalj=", ".join(org_ids))
    if errors:
        return page(request, "new.html", status=422, organisationer=registry.organisationer, errors=errors,
                    values={"namn": namn, "org": org_ids}, nav="nytt")
    return RedirectResponse(f"/arende/{quote(namn)}", status_code=303)


# --- signing in and out --------------------------------------------------------------------


def _next_page(value: str) -> str:
    """Return where to go after signing in: a path of this site only (no //host, no scheme)."""
    if not value.startswith("/") or value.startswith(("//", "/\\")) or any(c in value for c in "\r\n\\"):
        return "/"
    return value


async def signin_form(request: Request) -> Response:
    if getattr(request.app.state, "gate", None) is None:
        return RedirectResponse("/", status_code=303)
    if request.state.user:
        return RedirectResponse(_next_page(request.query_params.get("nasta", "/")), status_code=303)
    notice = "Du är utloggad." if request.query_params.get("utloggad") else None
    return page(request, "login.html", nav="login", error=None, notice=notice, namn="",
                nasta=_next_page(request.query_params.get("nasta", "/")))


async def signin(request: Request) -> Response:
    """Check the user name and password (throttled, scrypt in a worker thread); start a session."""
    gate = getattr(request.app.state, "gate", None)
    if gate is None:
        return RedirectResponse("/", status_code=303)
    form = await request.form()
    name = str(form.get("anvandarnamn", "")).strip()[:200]
    password = str(form.get("losenord", ""))[:1024]
    nasta = _next_page(str(form.get("nasta", "/")))
    client = client_of(request.scope)
    attempt = await gate.attempt(name, password, client)
    log: AuditLog = request.app.state.audit
    if not attempt.wait or gate.log_denial(name, client):
        log.write("inloggning", anvandare=name[:100] or None, adress=client,
                  resultat="ok" if attempt.user else "nekad" if attempt.wait else "fel",
                  detalj=f"väntetid {int(attempt.wait) + 1} s" if attempt.wait else None)
    response: Response
    if attempt.wait:
        response = page(request, "login.html", status=429, nav="login", notice=None, namn=name, nasta=nasta,
                        error=f"För många misslyckade inloggningar. Vänta {wait_text(attempt.wait)} och försök igen.")
        response.headers["retry-after"] = str(int(attempt.wait) + 1)
        return response
    if attempt.user is None:
        return page(request, "login.html", status=401, nav="login", notice=None, namn=name, nasta=nasta,
                    error="Fel användarnamn eller lösenord. Kontrollera och försök igen.")
    sid = await run_in_threadpool(request.app.state.sessions.create, attempt.user)  # a new id: no fixation
    response = RedirectResponse(nasta, status_code=303)
    response.headers.append("set-cookie", session_cookie(sid, request.state.secure))
    return response


async def signout(request: Request) -> Response:
    """End the session and give the browser a new, signed-out one."""
    sid = request.cookies.get(SESSION_COOKIE)
    if request.state.user and getattr(request.app.state, "gate", None) is not None:
        audit(request, "utloggning")
    await run_in_threadpool(request.app.state.sessions.end, sid)
    response = RedirectResponse("/logga-in?utloggad=1", status_code=303)
    response.headers.append("set-cookie", session_cookie(secrets.token_urlsafe(32), request.state.secure))
    return response


# --- Markdown preview ----------------------------------------------------------------------

_markdown = MarkdownIt("commonmark", {"html": False})


async def markdown_preview(request: Request) -> HTMLResponse:
    """Return a Markdown text as HTML (raw HTML in the text stays literal text)."""
    form = await request.form()
    return HTMLResponse(_markdown.render(str(form.get("text", ""))))


ROUTES = [
    Route("/", index),
    Route("/arende/{namn}", edit),
    post("/arende/{namn}", save),
    post("/arende/{namn}/kontroll", check),
    post("/arende/{namn}/forhandsgranska", preview),
    post("/arende/{namn}/bygg", build),
    Route("/arende/{namn}/fil/{fil:path}", download_arende),
    Route("/arende/{namn}/zip", zip_arende),
    Route("/jobb/{id}", job_page),
    Route("/jobb/{id}/status", job_status),
    Route("/utskick/{namn}", utskick),
    post("/utskick/{namn}", run_utskick),
    Route("/utskick/{namn}/zip", zip_utskick),
    Route("/utskick/{namn}/fil/{fil:path}", download_utskick),
    Route("/utskick/{namn}/skicka", send_preview),
    Route("/nytt", new_form),
    post("/nytt", new_create),
    post("/markdown", markdown_preview),
    Route("/logga-in", signin_form),
    post("/logga-in", signin),
    post("/logga-ut", signout),
]
