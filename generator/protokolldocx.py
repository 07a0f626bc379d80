"""The protokoll's Word documents: its template's variables and context, the protokoll and each utdrag.

``templates/docx/protokoll.docx`` is one template for the protokoll and for each
protokollsutdrag (``utdrag`` switches); ``protokoll_context`` fills it
(``PROTOKOLL_VARIABLES``), one ``paragraf_context`` per §, and ``example_context`` is what
``beslut templates`` tries an edited template with. ``minutes`` tells the story.
"""

from __future__ import annotations

from pathlib import Path

from .markdown import MarkdownRenderer
from .protokollet import LoadedProtokoll, Paragraf, display_name
from .render import render_docx
from .wording import wording_for

PROTOKOLL_VARIABLES = frozenset({
    "organisation", "avsandare", "titel", "rubrik", "utdrag", "datum", "tid", "plats", "paragrafer_text",
    "ordforande", "sekreterare", "ledamoter", "tjanstgorande_ersattare", "ersattare", "ovriga",
    "justerare_text", "justering_text", "paragrafer", "underskrifter", "anslag", "utdragsdatum",
    "omedelbart_justerad",
})
"""The variables the protokoll template may use; each of ``paragrafer`` has nummer, rubrik,
diarienummer, handlingar, jav, narvaro, text, yrkanden, propositionsordning, omrostning (ja, nej,
tabell, resultat), har_beslut, beslut_inledning, beslut, reservationer,
protokollsanteckningar, expedieras and omedelbart_justerad; ``anslag`` has justerat, uppsatt,
nedtas, sista_dag, forvaringsplats and omedelbart (one line per omedelbart justerad §);
``omedelbart_justerad`` is true in the utdrag of an omedelbart justerad §, whose ``anslag`` and
``utdragsdatum`` then count from the meeting's day."""


def render_protokoll(loaded: LoadedProtokoll, target: Path, template: Path, *,
                     utdrag: Paragraf | None = None) -> Path:
    """Render the protokoll (or, with ``utdrag``, the utdrag of that §) into ``target``."""
    meeting = loaded.meeting
    title = (f"Protokollsutdrag {utdrag.label}, {meeting.title}" if utdrag is not None else
             f"Protokoll, {meeting.title}")
    return render_docx(template, lambda markdown: protokoll_context(loaded, markdown, utdrag), target,
                       title=title, author=meeting.sammantrade.sekreterare,
                       when=loaded.justerad(utdrag) if utdrag is not None else loaded.protokoll.justering.datum)


def protokoll_context(loaded: LoadedProtokoll, markdown: MarkdownRenderer, utdrag: Paragraf | None = None) -> dict:
    """Return the protokoll template's context (``PROTOKOLL_VARIABLES``)."""
    meeting, protokoll = loaded.meeting, loaded.protokoll
    s, n = meeting.sammantrade, protokoll.narvarande
    anslag = loaded.anslag_for(utdrag) if utdrag is not None else loaded.anslag
    assert anslag is not None
    paragrafer = [utdrag] if utdrag is not None else list(loaded.paragrafer)
    omedelbart = utdrag is not None and utdrag.omedelbart_justerad
    return {
        "organisation": meeting.organisation.namn,
        "avsandare": meeting.organisation.avsandare,
        "titel": "Protokollsutdrag" if utdrag is not None else "Protokoll",
        "rubrik": (f"Protokollsutdrag från sammanträde med {meeting.organisation.namn}" if utdrag is not None
                   else f"Protokoll från sammanträde med {meeting.organisation.namn}"),
        "utdrag": utdrag is not None,
        "datum": s.datum.isoformat(),
        "tid": s.tid,
        "plats": s.plats,
        "paragrafer_text": utdrag.label if utdrag is not None else loaded.paragraf_range,
        "ordforande": s.ordforande,
        "sekreterare": s.sekreterare,
        "ledamoter": list(n.ledamoter),
        "tjanstgorande_ersattare": list(n.tjanstgorande_ersattare),
        "ersattare": list(n.ersattare),
        "ovriga": list(n.ovriga),
        "justerare_text": " och ".join(display_name(j) for j in protokoll.justerare),
        "justering_text": f"{protokoll.justering.plats}, {protokoll.justering.datum.isoformat()}",
        "paragrafer": [paragraf_context(loaded, p, markdown) for p in paragrafer],
        "underskrifter": [{"roll": "Sekreterare", "namn": s.sekreterare},
                          {"roll": "Ordförande", "namn": display_name(s.ordforande)},
                          *({"roll": "Justerare", "namn": display_name(j)} for j in protokoll.justerare)],
        "anslag": {"justerat": anslag.justerat.isoformat(), "uppsatt": anslag.uppsatt.isoformat(),
                   "nedtas": anslag.nedtas.isoformat(), "sista_dag": anslag.sista_dag.isoformat(),
                   "forvaringsplats": loaded.forvaringsplats,
                   "omedelbart": [] if utdrag is not None else omedelbart_lines(loaded)},
        "utdragsdatum": (s.datum if omedelbart else protokoll.justering.datum).isoformat(),
        "omedelbart_justerad": omedelbart,
    }


def omedelbart_lines(loaded: LoadedProtokoll) -> list[str]:
    """Return the anslag's line for each omedelbart justerad §: its own justering and appeal dates."""
    lines = []
    for p in loaded.omedelbart_justerade:
        a = loaded.anslag_for(p)
        lines.append(f"{p.label} förklarades omedelbart justerad vid sammanträdet {a.justerat.isoformat()}. "
                     f"Anslaget om den sätts upp {a.uppsatt.isoformat()} och tas ned {a.nedtas.isoformat()}; "
                     f"sista dag att överklaga den är {a.sista_dag.isoformat()}.")
    return lines


def handlingar(paragraf: Paragraf) -> list[str]:
    """Return the handlingar of a § by name: the paper, then each bilaga."""
    loaded = paragraf.planned.loaded
    if loaded is None or not paragraf.planned.has_handlingar:
        return []
    kind = wording_for(loaded.organisation)["dokumenttyp"]
    names = [f"{kind} {loaded.arende.utfardat.isoformat()}, {loaded.arende.rubrik}"]
    names += [f"Bilaga {i}: {b.titel}" for i, b in enumerate(loaded.arende.bilagor, 1)]
    return names


def paragraf_context(loaded: LoadedProtokoll, p: Paragraf, markdown: MarkdownRenderer) -> dict:
    """Return one § of the template's ``paragrafer``."""
    punkt = p.punkt
    jav = []
    for item in punkt.jav:
        text = f"{display_name(item.namn)} anmäler jäv och deltar inte i handläggningen av ärendet."
        if item.ersatts_av:
            text += f" {display_name(item.ersatts_av)} tjänstgör i stället."
        jav.append(text)
    narvaro = []
    for item in punkt.franvarande:
        text = f"{display_name(item.namn)} deltar inte i paragrafen."
        if item.ersatts_av:
            text += f" {display_name(item.ersatts_av)} tjänstgör i stället."
        narvaro.append(text)
    omrostning = None
    if punkt.omrostning is not None and p.rakning is not None:
        vote, counted = punkt.omrostning, p.rakning
        votes = {display_name(k): v for k, v in vote.roster.items()}
        rows = [f"| {_cell(display_name(who))} | {votes.get(display_name(who), '').capitalize()} |"
                for who in p.tjanstgorande]
        won = vote.ja if counted.utfall == "ja" else vote.nej
        resultat = (f"{len(counted.ja)} ja-röster, {len(counted.nej)} nej-röster och {len(counted.avstar)} "
                    f"som avstår. {loaded.meeting.organisation.namn} har beslutat enligt "
                    f"{counted.utfall}-förslaget: {won}")
        if counted.utslagsrost:
            resultat += " Ordförandens utslagsröst avgjorde."
        omrostning = {"ja": vote.ja, "nej": vote.nej, "resultat": resultat,
                      "tabell": markdown.subdoc("| Ledamot | Röst |\n|---|---|\n" + "\n".join(rows))}
    reservationer = [f"{display_name(r.av)} reserverar sig mot beslutet" + (f": {r.text}" if r.text else ".")
                     for r in punkt.reservationer]
    return {
        "nummer": p.nummer,
        "rubrik": p.rubrik,
        "diarienummer": p.planned.diarienummer,
        "handlingar": handlingar(p),
        "jav": jav,
        "narvaro": narvaro,
        "text": punkt.text,
        "yrkanden": [f"{display_name(y.av)}: {y.yrkande}" for y in punkt.yrkanden],
        "propositionsordning": punkt.propositionsordning,
        "omrostning": omrostning,
        "har_beslut": bool(p.beslut),
        "beslut_inledning": beslut_lead(loaded, p),
        "beslut": markdown.numbered_list(list(p.beslut)) if p.beslut else "",
        "reservationer": reservationer,
        "protokollsanteckningar": [f"{display_name(a.av)}: {a.text}" if a.text else display_name(a.av)
                                   for a in punkt.protokollsanteckningar],
        "expedieras": [m.namn for m in p.expedieras],
        "omedelbart_justerad": p.omedelbart_justerad,
    }


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def example_context(markdown: MarkdownRenderer, *, utdrag: bool) -> dict:
    """Return a protokoll's (or with ``utdrag`` an utdrag's) context for ``beslut templates``' trial render."""
    paragraf = {
        "nummer": 1, "rubrik": "Ett ärende", "diarienummer": "1/23", "handlingar": ["Tjänsteutlåtande"],
        "jav": ["Bo Exempel anmäler jäv."], "narvaro": ["Cia Exempel deltar inte i paragrafen."], "text": "Text.",
        "yrkanden": ["Anna Exempel: Bifall."],
        "propositionsordning": "Ordföranden ställer proposition.",
        "omrostning": {"ja": "Bifall", "nej": "Avslag", "resultat": "1 ja-röst.",
                       "tabell": markdown.subdoc("| Ledamot | Röst |\n|---|---|\n| Anna Exempel | Ja |")},
        "har_beslut": True, "beslut_inledning": "Nämnden beslutar:",
        "beslut": markdown.numbered_list(["Ett.", "Två."]), "reservationer": ["Cia Exempel reserverar sig."],
        "protokollsanteckningar": ["Anna Exempel: En anteckning."], "expedieras": ["Akten"],
        "omedelbart_justerad": True,
    }
    return {
        "organisation": "Exempelnämnden", "avsandare": "Exempelförvaltningen", "titel": "Protokoll",
        "rubrik": "Protokoll", "utdrag": utdrag, "datum": "2023-10-24", "tid": "16.00", "plats": "Rum 1",
        "paragrafer_text": "§ 1", "ordforande": "Anna Exempel", "sekreterare": "Per Exempel",
        "ledamoter": ["Anna Exempel"], "tjanstgorande_ersattare": [], "ersattare": ["Bo Exempel"], "ovriga": [],
        "justerare_text": "Cia Exempel", "justering_text": "Rum 1, 2023-10-31", "paragrafer": [paragraf],
        "underskrifter": [{"roll": "Sekreterare", "namn": "Per Exempel"}],
        "anslag": {"justerat": "2023-10-31", "uppsatt": "2023-10-31", "nedtas": "2023-11-22",
                   "sista_dag": "2023-11-21", "forvaringsplats": "Exempelförvaltningen",
                   "omedelbart": ["§ 1 förklarades omedelbart justerad vid sammanträdet 2023-10-24."]},
        "utdragsdatum": "2023-10-31", "omedelbart_justerad": utdrag,
    }



def beslut_lead(loaded: LoadedProtokoll, paragraf: Paragraf) -> str | None:
    """Return the sentence before the beslut when it is the paper's förslag, else None."""
    if not paragraf.enligt_forslag:
        return None
    org = loaded.meeting.organisation
    whose = "förvaltningens" if not org.is_bolag else wording_for(org)["dokumenttyp"].lower() + "ets"
    return f"{org.namn} beslutar i enlighet med {whose} förslag:"
