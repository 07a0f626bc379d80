"""Every URL of ``beslut web``, in one list: ``ROUTES`` (``create_app`` serves it).

The pages are in their feature's module: the start page (``startsida``), an ärende
(``arendesidor``, ``arendebygge``), jobs (``jobbsidor``), downloads (``filer``), utskick
(``utskicksidor``), new things (``nytt``), the papperskorg (``papperskorgsida``), signing in
(``inloggningssida``), sammanträden (``sammantraden``) and protokoll (``protokollsida``).
Every POST goes through ``pages.post`` (CSRF check); every folder or file named in a URL goes
through ``security.resolve_under``; every call into the generator goes through ``actions``.
Slow work (LibreOffice) runs in threads, never in the event loop.
"""

from __future__ import annotations

from starlette.routing import Route

from . import (
    arendebygge,
    arendesidor,
    filer,
    inloggningssida,
    jobbsidor,
    nytt,
    papperskorgsida,
    protokollsida,
    sammantraden,
    startsida,
    utskicksidor,
)
from .pages import post

ROUTES = [
    Route("/", startsida.index),
    Route("/arende/{namn}", arendesidor.edit),
    post("/arende/{namn}", arendesidor.save, refused=arendesidor.refused_edit),
    post("/arende/{namn}/kontroll", arendebygge.check),
    post("/arende/{namn}/forhandsgranska", arendebygge.preview),
    post("/arende/{namn}/bygg", arendebygge.build, refused=arendesidor.refused_edit),
    Route("/arende/{namn}/text", arendesidor.text_form),
    post("/arende/{namn}/text", arendesidor.text_save, refused=arendesidor.refused_text),
    Route("/arende/{namn}/kopiera", nytt.copy_form),
    post("/arende/{namn}/kopiera", nytt.copy_create, refused=nytt.refused_copy),
    Route("/arende/{namn}/ta-bort", papperskorgsida.remove_form),
    post("/arende/{namn}/ta-bort", papperskorgsida.remove),
    Route("/papperskorg", papperskorgsida.trash_page),
    post("/papperskorg/{id}/aterstall", papperskorgsida.restore),
    Route("/arende/{namn}/fil/{fil:path}", filer.download_arende),
    Route("/arende/{namn}/zip", filer.zip_arende),
    Route("/jobb/{id}", jobbsidor.job_page),
    Route("/jobb/{id}/status", jobbsidor.job_status),
    Route("/utskick/{namn}", utskicksidor.utskick),
    post("/utskick/{namn}", utskicksidor.run_utskick, refused=utskicksidor.refused_letters),
    Route("/utskick/{namn}/zip", filer.zip_utskick),
    Route("/utskick/{namn}/fil/{fil:path}", filer.download_utskick),
    Route("/utskick/{namn}/skicka", utskicksidor.send_preview),
    Route("/utskick/{namn}/redigera", utskicksidor.utskick_edit),
    post("/utskick/{namn}/redigera", utskicksidor.utskick_save, refused=utskicksidor.refused_utskick),
    Route("/nytt-utskick", nytt.new_utskick_form),
    post("/nytt-utskick", nytt.new_utskick_create, refused=nytt.refused_new_utskick),
    Route("/nytt", nytt.new_form),
    post("/nytt", nytt.new_create, refused=nytt.refused_new),
    post("/markdown", arendesidor.markdown_preview),
    Route("/logga-in", inloggningssida.signin_form),
    post("/logga-in", inloggningssida.signin),
    post("/logga-ut", inloggningssida.signout),
] + sammantraden.ROUTES + protokollsida.ROUTES
