"""``beslut new SAMMANTRÄDE --protokoll``: a new protokoll.yaml to fill in.

Every point of the föredragningslista gets its entry (an ärende with the paper's förslag
till beslut as its beslut, a procedural point with its usual beslut), the kallade are
listed as present, and comments in Swedish say what each field is. ``scaffold`` does the
same for an ärende and a sammanträde.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from .content import load_organisationer
from .errors import ContentError
from .files import write_bytes
from .protokollet import resolve_protokoll_file
from .sammantrade import load_sammantrade

PROCEDUR_BESLUT = {
    "Val av justerare": "{org} utser [Namn Efternamn (parti)] att jämte ordföranden justera protokollet.",
    "Fastställande av dagordning": "{org} fastställer dagordningen.",
    "Anmälningsärenden": "{org} lägger anmälningsärendena till handlingarna.",
    "Delegationsbeslut": "{org} lägger redovisningen av delegationsbeslut till handlingarna.",
    "Information": "{org} antecknar informationen.",
}
"""The usual beslut of a procedural point, as a new protokoll suggests it."""
PROCEDUR_TEXT = {
    "Mötets öppnande": "Ordföranden öppnar sammanträdet.",
    "Övriga frågor": "[Skriv vad som togs upp, eller: Inga övriga frågor anmäls.]",
    "Mötets avslutande": "Ordföranden avslutar sammanträdet.",
}


def create_protokoll(path: Path, organisationer_path: Path) -> Path:
    """Write a new protokoll.yaml for the sammanträde at ``path``; return it.

    Every point of the föredragningslista gets its entry, an ärende with the paper's
    förslag till beslut as its beslut; the kallade are listed as present. Comments (in
    Swedish) say what each field is. An existing protokoll.yaml is never overwritten.
    """
    organisationer = load_organisationer(organisationer_path)
    meeting = load_sammantrade(path, organisationer, organisationer_path.parent)
    target = resolve_protokoll_file(meeting.source)
    if target.exists():
        raise ContentError("protokollet finns redan och skrivs inte över. Ändra i det, eller flytta det om "
                           "du vill börja om.", file=target)
    s, org = meeting.sammantrade, meeting.organisation

    def q(text: str) -> str:
        return json.dumps(text, ensure_ascii=False)

    def one_line(text: str) -> str:
        return " ".join(text.split())

    lines = [
        f"# Protokoll från sammanträdet med {one_line(org.namn)} {s.datum.isoformat()}.",
        "# Fyll i vilka som var närvarande, justeringen och vad som beslutades i varje punkt.",
        "# Kontrollera och bygg protokollet och ett protokollsutdrag per paragraf med:",
        f"#   beslut minutes {one_line(str(meeting.source.parent))}",
        "# Text inom hakparenteser är sådant du ska byta ut. Ett fullständigt exempel med yrkanden,",
        "# omröstning, reservation, protokollsanteckning och jäv finns i",
        "# content/sammantraden/2023-10-forskolenamnden/protokoll.yaml.",
        "",
        "# Paragraferna fortsätter där nämndens förra protokoll samma år slutade. Bara i årets",
        "# första protokoll, om numreringen inte börjar på 1, anges den första paragrafen:",
        "# första_paragraf: 1",
        "",
        "närvarande:",
        "  # Tjänstgörande ledamöter med parti. Ta bort den som inte var där.",
        "  ledamöter:",
        *(f"    - {q(p)}" for p in meeting.kallade.ledamoter),
        "  # Ersättare som tjänstgör, och för vem: \"Namn (parti), ersätter Namn (parti)\".",
        "  tjänstgörande_ersättare: []",
        "  # Närvarande ersättare som inte tjänstgör.",
        "  ersättare:" + ("" if meeting.kallade.ersattare else " []"),
        *(f"    - {q(p)}" for p in meeting.kallade.ersattare),
        "  # Övriga närvarande: tjänstepersoner, sekreteraren.",
        "  övriga:",
        f"    - {q(s.sekreterare + ', sekreterare')}",
        "",
        "# Justerare: tjänstgörande ledamöter som justerar protokollet med ordföranden.",
        "justerare:",
        f"  - {q('[Namn Efternamn (parti)]')}",
        "# Dag och plats för justeringen.",
        "justering:",
        f"  datum: {(s.datum + timedelta(days=7)).isoformat()}",
        f"  plats: {q(s.plats)}",
        "",
        "# Anslaget på anslagstavlan: dagen det sätts upp (inte före justeringen; standard är",
        f"# justeringsdagen) och var protokollet förvaras (standard: {one_line(org.avsandare)}).",
        "# Sista dag att överklaga räknas fram: tre veckor efter anslaget.",
        "# anslag:",
        "#   uppsatt: ÅÅÅÅ-MM-DD",
        f"#   förvaringsplats: {one_line(org.avsandare)}",
        "",
        "# En punkt per punkt i föredragningslistan, i samma ordning; varje punkt blir en paragraf.",
        "# Per punkt kan stå: text, beslut (en rad per beslutspunkt), yrkanden (av, yrkande),",
        "# propositionsordning, omröstning (ja, nej, röster, utfall, utslagsröst), reservationer",
        "# och protokollsanteckningar (av, text), jäv (namn, ersätts_av) och expedieras",
        "# (organisationers id, 'alla bolag', 'alla nämnder' eller ett namn, t.ex. Akten).",
        "# En paragraf som justerades direkt på sammanträdet får 'omedelbart_justerad: ja'.",
        "punkter:",
    ]
    for planned in meeting.punkter:
        lines.append("")
        if planned.loaded is not None:
            lines += [f"  # {one_line(planned.rubrik)}",
                      f"  - ärende: {q(str(planned.punkt.arende))}",
                      "    # Förslaget till beslut i tjänsteutlåtandet. Ändra om beslutet blev ett annat.",
                      "    beslut:",
                      *(f"      - {q(one_line(b))}" for b in planned.loaded.arende.forslag_till_beslut),
                      "    expedieras: []"]
            continue
        name = str(planned.punkt.punkt)
        lines.append(f"  - punkt: {q(name)}")
        text = PROCEDUR_TEXT.get(name) or (planned.punkt.text if name == "Information" else None)
        if text:
            lines.append(f"    text: {q(one_line(text))}")
        if name in PROCEDUR_BESLUT:
            lines += ["    beslut:", f"      - {q(PROCEDUR_BESLUT[name].format(org=org.namn))}"]
    write_bytes(target, ("\n".join(lines) + "\n").encode("utf-8"))
    return target
