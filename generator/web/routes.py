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
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ..content import ARENDE_FILE, OVERRIDES_DIR, UTSKICK_FILE
from ..errors import BeslutError, ContentError
from ..files import write_bytes
from ..jobs import UTKAST_DIR
from ..wording import wording_for
from . import actions, forms, papperskorg, utskickform
from .config import MB, WebConfig, client_of, log, scrub
from .jobs import Job, QueueFull
from .pages import error_page, session_cookie
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
MAX_NAME = 100
"""The longest name of an uploaded bilaga, in characters."""
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


STALE_TOKEN = ("Sidan hade en säkerhetskod som inte längre gäller (till exempel efter att du loggats ut). "
               "Ingenting sparades. Det du skrev och valde står kvar nedan: kontrollera det och tryck på knappen "
               "igen.")
SERVER_ERROR = ("Ett oväntat fel inträffade i servern och ingenting sparades. Det du skrev står kvar nedan: "
                "tryck Spara igen, och kontakta IT-supporten om felet består.")


class _TextOnlyParser(MultiPartParser):
    """Parse a multipart form keeping its text fields and dropping the files it carries (a 413)."""

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._current_part.file is None:
            super().on_part_data(data, start, end)

    def on_part_end(self) -> None:
        if self._current_part.file is None:
            super().on_part_end()
        else:
            self._current_part.file.file.close()


def _same_site(request: Request) -> bool:
    """Return True unless the browser says the request came from another site (``Sec-Fetch-Site``)."""
    return request.headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none")


def post(path: str, endpoint, name: str | None = None, refused=None) -> Route:
    """Return a POST route whose requests must carry the session's CSRF token.

    With ``refused`` (``async refused(request, status, reason)``), a form refused for a
    stale token, a too large upload or a server error comes back with what was typed
    (nothing is saved) instead of a bare error page.
    """

    async def checked(request: Request):
        config = config_of(request)
        if "content-length" not in request.headers:
            raise HTTPException(411)
        too_large = request.scope["state"].get("too_large")
        if too_large:
            parser = _TextOnlyParser(request.headers, request.stream(), max_files=50, max_part_size=2 * MB)
            try:
                request._form = await parser.parse()
            except MultiPartException as e:
                raise HTTPException(413) from e
            if refused is None or not csrf_ok(config.secret, request.cookies.get("beslut_sid"),
                                              str(request._form.get(CSRF_FIELD, ""))):
                raise HTTPException(413)
            return await refused(request, 413, (
                f"Det du skickade var {too_large / MB:.0f} MB, men servern tar emot högst {config.max_arende // MB} MB "
                f"åt gången (en bilaga högst {config.max_file // MB} MB). Ingenting laddades upp och ingenting "
                "sparades. Det du skrev står kvar nedan: välj färre eller mindre filer och tryck Spara igen."))
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
            if refused is not None and request.headers.get(CSRF_HEADER) is None and _same_site(request):
                try:
                    return await refused(request, 403, STALE_TOKEN)
                finally:
                    await request.close()
            await request.close()
            raise HTTPException(403)
        try:
            return await endpoint(request)
        except HTTPException:
            raise
        except Exception as e:
            if refused is None:
                raise
            log.exception("oväntat fel för %s %s", request.method, request.url.path, exc_info=e)
            return await refused(request, 500, SERVER_ERROR)
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


_YAML_ADVICE = re.compile(r"\s*Fältet krävs: skriv '[^']*' följt av texten\.")


def page_message(message: str) -> str:
    """Return a message as the page says it: advice about writing YAML becomes advice about the field."""
    return _YAML_ADVICE.sub(" Fyll i fältet.", message)


def problem_dicts(problems: list[actions.Problem], file_shown: str | None = None,
                  other_tabs: Mapping[str, tuple[str, str | None]] | None = None,
                  labels: str | None = None) -> list[dict]:
    """Return problems for a page: message, full text, and where it is.

    ``anchor`` is the id of its field in this form (the file ``file_shown``); ``href`` links
    to it, here or in the tab (``other_tabs``: file shown -> (tab URL, name)) whose file it is in.
    The text names the field by its label and section in the form (the tab when it is in
    another one); ``tech`` is the CLI's text (file, line, YAML field) for "Visa tekniska
    detaljer". ``labels`` is the label of the bedömning field (review findings).
    """
    unique = list(dict.fromkeys(problems))  # a shared ärende may report one problem per organisation
    dicts = []
    for p in unique:
        field = "forslag" if labels is not None and p.field == "förslag_till_beslut" else forms.field_anchor(p.field)
        here = file_shown is None or p.file == file_shown
        tab, tab_label = (other_tabs or {}).get(p.file or "", (None, None))
        href = (f"#{field}" if here else f"{tab}#{field}" if tab else None) if field else None
        elsewhere = f"fliken {tab_label}" if tab_label else None
        label = forms.field_label(p.field, labels or "Bedömning") if p.field else None
        section = forms.field_section(field) if field else None
        where = [f"{label} (under {section})" if label and section and section != label else label,
                 None if here else elsewhere]
        message = page_message(p.message)
        text = f"{', '.join(w for w in where if w)}: {message}" if any(where) else message
        dicts.append({"message": scrub(message), "text": scrub(text), "tech": scrub(p.text),
                      "anchor": field if here else None, "href": href,
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
    except (BeslutError, UnicodeDecodeError) as e:
        broken = await run_in_threadpool(_broken_file, folder, flik)
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


def _broken_file(folder: Path, flik: str | None) -> str | None:
    """Return the tab whose YAML file does not parse (the tab's own, or the shared one), or None."""
    for tab in dict.fromkeys([flik or SHARED_TAB, SHARED_TAB]):
        try:
            file = tab_file(folder, tab)
        except HTTPException:
            continue
        if forms.yaml_problem(file.read_bytes()) is not None:
            return tab
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
    flik = str(form.get("flik") or SHARED_TAB)
    file = tab_file(folder, flik)
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
        context = await run_in_threadpool(_edit_context, config, folder, flik, state, str(form.get("version", "")))
        return page(request, "edit.html", status=409, notice=None, conflict=True, messages=messages, **context)
    except BeslutError as e:
        audit(request, handelse, arende=folder.name, resultat="fel", detalj=scrub(e.format()))
        return await _refused_edit(request, 400, "Inte sparat: " + scrub(e.message), messages)
    audit(request, handelse, arende=folder.name, detalj=f"{shown(config, file)}; {detalj}" if detalj
          else shown(config, file))
    base = f"/arende/{quote(folder.name)}?flik={quote(flik)}"
    if removed:
        item = await run_in_threadpool(_trash_unused, config, folder, *removed, request.state.user)
        if item:
            audit(request, "papperskorg", arende=folder.name, detalj=f"{removed[0]} flyttad till papperskorgen")
        return RedirectResponse(base + (f"&borttagen={item}" if item else "&sparat=1") + "#bilagor", status_code=303)
    anchor = _list_anchor(action, state) or ("bilagor" if uploads or action == "ladda-upp" else None)
    if anchor is None:
        return RedirectResponse(f"{base}&sparat=1", status_code=303)
    # the page itself, not a redirect: a new empty item is not in the file until it is filled in
    context = await run_in_threadpool(_edit_context, config, folder, flik, state)
    return page(request, "edit.html", notice="Sparat.", conflict=False, goto=anchor,
                messages=([first] if first else []) + messages, **context)


async def _refused_edit(request: Request, status: int, reason: str, messages: list[str] | None = None) -> Response:
    """Return the edit form with what was typed (nothing saved) and ``reason`` at the top."""
    config = config_of(request)
    folder = arende_folder(config, request.path_params["namn"])
    form = await request.form()
    flik = str(form.get("flik") or SHARED_TAB)
    state = forms.state_from_form(form)
    try:
        context = await run_in_threadpool(_edit_context, config, folder, flik, state, str(form.get("version", "")))
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
    name = f"{folder.name} – förhandsgranskning – " + ("handlingar.pdf" if handlingar else "dokument.pdf")
    return Response(pdf, media_type="application/pdf", headers={"content-disposition": disposition("inline", name)})


async def build(request: Request) -> Response:
    """Save the form, then queue a build of the whole ärende and show its progress page."""
    config = config_of(request)
    folder = arende_folder(config, request.path_params["namn"])
    form = await request.form()
    flik = str(form.get("flik") or SHARED_TAB)
    if any(isinstance(f, UploadFile) and f.filename for f in form.getlist("filer")):
        # files chosen: upload and save as Spara does, and show that before anything is built
        return await save(request, first=("Handlingarna är inte skapade än: de valda filerna laddades upp först. "
                                          "Kontrollera bilagorna och tryck på ”Spara och skapa handlingarna” igen."))
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


ASCII_FOLD = str.maketrans({"å": "a", "ä": "a", "ö": "o", "Å": "A", "Ä": "A", "Ö": "O", "é": "e", "É": "E",
                            "ü": "u", "–": "-", "—": "-"})


def disposition(kind: str, name: str) -> str:
    """Return a Content-Disposition naming the file ``name``: UTF-8, with a plain ASCII fallback."""
    fallback = re.sub(r"[^A-Za-z0-9 ._()-]", "_", name.translate(ASCII_FOLD)).strip() or "fil"
    return f'{kind}; filename="{fallback}"; filename*=UTF-8\'\'{quote(name, safe="")}'


def download_name(config: WebConfig, folder: Path, relative: str) -> str:
    """Return what a downloaded file is called: ärende (or utskick), organisation and document.

    ``2023-10-handlingsplaner – Göta Lejon – handlingar.pdf``; a letter,
    ``2023-08-handlingsplaner – Higab – följebrev.pdf``.
    """
    parts = relative.split("/")
    registry = actions.load_registry(config.organisationer)
    org = next((o for p in parts[:-1] if (o := registry.find(p))), None)
    stem, suffix = Path(parts[-1]).stem, Path(parts[-1]).suffix
    if org is None and (found := registry.find(stem)):
        org, stem = found, "följebrev" if actions.is_utskick_folder(folder) else stem
    if org is None and actions.is_arende_folder(folder):
        try:
            data = forms.load_data((folder / ARENDE_FILE).read_text(encoding="utf-8"), folder / ARENDE_FILE)
            org = registry.find(str(data.get("organisation", "")))
        except (BeslutError, UnicodeDecodeError):
            org = None
    draft = "UTKAST" if UTKAST_DIR in parts[:-1] else None  # never mistaken for the final paper
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
    out = actions.output_folder(folder, config.out)
    if not out.is_dir():
        raise HTTPException(404)
    return Response(actions.zip_folder(out), media_type="application/zip",
                    headers={"content-disposition": disposition("attachment", f"{folder.name}.zip")})


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
            "organisationer": registry.organisationer, "problems": utskick_problem_dicts(problems or []),
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
    return await _send_download(request, utskick_folder(config, request.path_params["namn"]))


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


# --- editing and creating an utskick -------------------------------------------------------


def utskick_problem_dicts(problems: list[actions.Problem]) -> list[dict]:
    """Return an utskick's problems for a page: named by the utskick form's labels, the CLI's text as ``tech``."""
    dicts = []
    for found in dict.fromkeys(problems):
        anchor = utskickform.field_anchor(found.field)
        label = utskickform.field_label(anchor)
        message = page_message(found.message)
        text = f"{label}: {message}" if label else message
        dicts.append({"anchor": anchor, "text": scrub(text), "message": scrub(message), "tech": scrub(found.text)})
    return dicts


def _utskick_edit_context(config: WebConfig, folder: Path, state: forms.State | None = None,
                          version: str | None = None) -> dict:
    file = folder / UTSKICK_FILE
    raw = file.read_bytes()
    data = forms.load_data(raw.decode("utf-8"), file)
    state = {**utskickform.state_from_data(data), **(state or {})}
    registry = actions.load_registry(config.organisationer)
    problems: list[dict] = []
    try:
        actions.validate_utskick(folder, config.organisationer)
    except BeslutError as e:
        problems = utskick_problem_dicts(actions.parse_problems(e, lambda x: shown(config, x)))
    field_errors: dict[str, list[str]] = {}
    for shown_problem in problems:
        if shown_problem["anchor"]:
            field_errors.setdefault(shown_problem["anchor"], []).append(shown_problem["message"])
    return {"namn": folder.name, "fields": utskickform.FIELDS, "state": state, "groups": utskickform.GROUPS,
            "organisationer": registry.organisationer, "version": version or forms.file_version(raw),
            "problems": problems, "field_errors": field_errors, "file_shown": shown(config, file)}


async def utskick_edit(request: Request) -> Response:
    config = config_of(request)
    folder = utskick_folder(config, request.path_params["namn"])
    try:
        context = await run_in_threadpool(_utskick_edit_context, config, folder)
    except BeslutError as e:
        return error_page(request, 400, e.format())
    notice = ("Utskicket är skapat. Fyll i det och spara." if request.query_params.get("nytt") else
              "Sparat." if request.query_params.get("sparat") else None)
    return page(request, "utskick_edit.html", notice=notice, conflict=False, **context)


async def utskick_save(request: Request) -> Response:
    config = config_of(request)
    folder = utskick_folder(config, request.path_params["namn"])
    form = await request.form()
    state = utskickform.state_from_form(form)
    version = str(form.get("version", ""))
    try:
        await run_in_threadpool(utskickform.save_state, folder / UTSKICK_FILE, state, version)
    except forms.Conflict:
        context = await run_in_threadpool(_utskick_edit_context, config, folder, state, version)
        return page(request, "utskick_edit.html", status=409, notice=None, conflict=True, **context)
    audit(request, "spara", utskick=folder.name, detalj=shown(config, folder / UTSKICK_FILE))
    return RedirectResponse(f"/utskick/{quote(folder.name)}/redigera?sparat=1", status_code=303)


async def refused_utskick(request: Request, status: int, reason: str) -> Response:
    config = config_of(request)
    folder = utskick_folder(config, request.path_params["namn"])
    form = await request.form()
    context = await run_in_threadpool(_utskick_edit_context, config, folder, utskickform.state_from_form(form),
                                      str(form.get("version", "")))
    return page(request, "utskick_edit.html", status=status, notice=None, conflict=False, refused=reason, **context)


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


# --- a YAML file that does not parse: repaired as text in the page -----------------------


def _text_context(config: WebConfig, folder: Path, flik: str, text: str | None = None,
                  version: str | None = None) -> dict:
    file = tab_file(folder, flik)
    raw = file.read_bytes()
    if text is None:
        text = raw.decode("utf-8", errors="replace")
    same = text == raw.decode("utf-8", errors="replace")
    found = forms.yaml_problem(raw if same else text.encode("utf-8"))
    message, line = found if found else (None, None)
    lines = text.splitlines()
    around = [(n, lines[n - 1]) for n in range(max(1, (line or 1) - 2), min(len(lines), (line or 1) + 2) + 1)] \
        if line else []
    return {"namn": folder.name, "flik": flik, "text": text, "version": version or forms.file_version(raw),
            "file_shown": shown(config, file), "message": message, "line": line, "around": around}


async def text_form(request: Request) -> Response:
    """Show an ärende's YAML file as plain text, with why it cannot be read and where."""
    config = config_of(request)
    folder = arende_folder(config, request.path_params["namn"])
    flik = request.query_params.get("flik") or SHARED_TAB
    context = await run_in_threadpool(_text_context, config, folder, flik)
    return page(request, "text.html", conflict=False, **context)


async def text_save(request: Request) -> Response:
    """Save the repaired text of a YAML file if it now parses; else show it again, nothing lost."""
    config = config_of(request)
    folder = arende_folder(config, request.path_params["namn"])
    form = await request.form()
    flik = str(form.get("flik") or SHARED_TAB)
    file = tab_file(folder, flik)
    text = str(form.get("text", "")).replace("\r\n", "\n")
    version = str(form.get("version", ""))
    context = await run_in_threadpool(_text_context, config, folder, flik, text, version)
    if context["message"]:
        return page(request, "text.html", status=422, conflict=False, **context)
    if forms.file_version(file.read_bytes()) != version:
        return page(request, "text.html", status=409, conflict=True, **context)
    await run_in_threadpool(write_bytes, file, text.encode("utf-8"))
    audit(request, "spara", arende=folder.name, detalj=f"{shown(config, file)}; rättad som text")
    return RedirectResponse(f"/arende/{quote(folder.name)}?flik={quote(flik)}&rattad=1", status_code=303)


async def refused_text(request: Request, status: int, reason: str) -> Response:
    config = config_of(request)
    folder = arende_folder(config, request.path_params["namn"])
    form = await request.form()
    context = await run_in_threadpool(_text_context, config, folder, str(form.get("flik") or SHARED_TAB),
                                      str(form.get("text", "")), str(form.get("version", "")))
    return page(request, "text.html", status=status, conflict=False, refused=reason, **context)


# --- copying, removing and restoring -------------------------------------------------------


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


# --- the small forms refused: back with what was chosen and typed --------------------------


async def refused_new(request: Request, status: int, reason: str) -> Response:
    config = config_of(request)
    form = await request.form()
    registry = await run_in_threadpool(actions.load_registry, config.organisationer)
    return page(request, "new.html", status=status, organisationer=registry.organisationer, errors={},
                refused=reason, nav="nytt",
                values={"namn": str(form.get("namn", "")), "org": [str(o) for o in form.getlist("org")]})


async def refused_copy(request: Request, status: int, reason: str) -> Response:
    config = config_of(request)
    folder = arende_folder(config, request.path_params["namn"])
    form = await request.form()
    return page(request, "kopiera.html", status=status, namn=folder.name, errors={}, refused=reason,
                values={"nytt": str(form.get("nytt", "")), "bilagor": form.get("bilagor") == "ja"})


async def refused_new_utskick(request: Request, status: int, reason: str) -> Response:
    form = await request.form()
    return page(request, "nytt_utskick.html", status=status, errors={}, refused=reason,
                values={"namn": str(form.get("namn", ""))}, nav="nytt-utskick")


async def refused_letters(request: Request, status: int, reason: str) -> Response:
    config = config_of(request)
    folder = utskick_folder(config, request.path_params["namn"])
    form = await request.form()
    context = await run_in_threadpool(_utskick_context, config, folder, [str(t) for t in form.getlist("till")], None,
                                      form.get("pdf") == "ja", form.get("eml") == "ja")
    return page(request, "utskick.html", status=status, refused=reason, **context)


ROUTES = [
    Route("/", index),
    Route("/arende/{namn}", edit),
    post("/arende/{namn}", save, refused=refused_edit),
    post("/arende/{namn}/kontroll", check),
    post("/arende/{namn}/forhandsgranska", preview),
    post("/arende/{namn}/bygg", build, refused=refused_edit),
    Route("/arende/{namn}/text", text_form),
    post("/arende/{namn}/text", text_save, refused=refused_text),
    Route("/arende/{namn}/kopiera", copy_form),
    post("/arende/{namn}/kopiera", copy_create, refused=refused_copy),
    Route("/arende/{namn}/ta-bort", remove_form),
    post("/arende/{namn}/ta-bort", remove),
    Route("/papperskorg", trash_page),
    post("/papperskorg/{id}/aterstall", restore),
    Route("/arende/{namn}/fil/{fil:path}", download_arende),
    Route("/arende/{namn}/zip", zip_arende),
    Route("/jobb/{id}", job_page),
    Route("/jobb/{id}/status", job_status),
    Route("/utskick/{namn}", utskick),
    post("/utskick/{namn}", run_utskick, refused=refused_letters),
    Route("/utskick/{namn}/zip", zip_utskick),
    Route("/utskick/{namn}/fil/{fil:path}", download_utskick),
    Route("/utskick/{namn}/skicka", send_preview),
    Route("/utskick/{namn}/redigera", utskick_edit),
    post("/utskick/{namn}/redigera", utskick_save, refused=refused_utskick),
    Route("/nytt-utskick", new_utskick_form),
    post("/nytt-utskick", new_utskick_create, refused=refused_new_utskick),
    Route("/nytt", new_form),
    post("/nytt", new_create, refused=refused_new),
    post("/markdown", markdown_preview),
    Route("/logga-in", signin_form),
    post("/logga-in", signin),
    post("/logga-ut", signout),
]
