"""A protokoll read and checked against its sammanträde, before anything is written.

``load_protokoll`` reads the meeting (``sammantrade.load_sammantrade``) and its
protokoll.yaml (the model in ``protokollet``) and checks what kommunallagen asks of the
record (exit 3, every problem with file and line): every ärende has a beslut; in a vote
each serving member votes once and the counted result is the one recorded (a tie needs
the chair's casting vote); a member with jäv takes no part in that §; only members who
took part in the decision reserve themselves; the justerare serve; the anslag does not go
up before the justering; only a § with a beslut is omedelbart justerad. The §§ are numbered
by ``paragrafnummer.paragraf_start``.
"""

from __future__ import annotations

import re
from pathlib import Path

from .anslag import Anslag, anslag_for
from .content import load_organisationer
from .errors import ContentError
from .model import Organisationer
from .paragrafnummer import paragraf_start
from .protokollet import (
    EXPEDIERA_GRUPPER,
    ROSTER,
    LoadedProtokoll,
    Mottagare,
    Omrostning,
    Paragraf,
    Protokoll,
    ProtokollPunkt,
    Rakning,
    display_name,
    person_key,
    resolve_protokoll_file,
)
from .sammantrade import LoadedSammantrade, PlannedPunkt, load_sammantrade
from .validation import validate_model
from .yamlfile import Loc, YamlDocument, field_name, read_yaml


def load_protokoll(path: Path, organisationer_path: Path) -> LoadedProtokoll:
    """Read and check the sammanträde at ``path`` and its protokoll; write nothing.

    Raise ContentError (exit 3) listing every problem with file and line.
    """
    organisationer = load_organisationer(organisationer_path)
    content = organisationer_path.parent
    meeting = load_sammantrade(path, organisationer, content)
    file = resolve_protokoll_file(meeting.source)
    if not file.is_file():
        raise ContentError(f"sammanträdet har inget protokoll ännu. Skapa det med 'beslut new "
                           f"{meeting.source.parent} --protokoll' och fyll i det.", file=file)
    doc = read_yaml(file)
    protokoll = validate_model(Protokoll, doc, hint="Jämför med exemplet i content/sammantraden/.")
    checker = _Checker(meeting, protokoll, doc, organisationer)
    first = paragraf_start(meeting, protokoll, doc, organisationer)
    paragrafer = checker.paragrafer(first)
    anslag = checker.anslag()
    if checker.problems:
        problems = checker.problems
        raise ContentError(f"{len(problems)} fel i protokollet:\n" + "\n".join(p.format() for p in problems)
                           if len(problems) > 1 else problems[0].format(), parts=problems)
    assert anslag is not None
    forvaring = protokoll.anslag.forvaringsplats or meeting.organisation.avsandare
    return LoadedProtokoll(meeting=meeting, protokoll=protokoll, source=file, doc=doc,
                           paragrafer=tuple(paragrafer), anslag=anslag, forvaringsplats=forvaring)


class _Checker:
    """The checks of one protokoll against its meeting; problems are collected, not raised."""

    def __init__(self, meeting: LoadedSammantrade, protokoll: Protokoll, doc: YamlDocument,
                 organisationer: Organisationer):
        self.meeting = meeting
        self.protokoll = protokoll
        self.doc = doc
        self.organisationer = organisationer
        self.problems: list[ContentError] = []
        n = protokoll.narvarande
        self.serving = {person_key(p): p for p in (*n.ledamoter, *n.tjanstgorande_ersattare)}
        self.ersattare = {person_key(p): p for p in n.ersattare}
        self.present = {**self.serving, **self.ersattare}

    def problem(self, text: str, loc: Loc) -> None:
        self.problems.append(ContentError(text, file=self.doc.path, line=self.doc.line_of(loc),
                                          field=field_name(loc)))

    # -- the whole protokoll

    def paragrafer(self, first: int) -> list[Paragraf]:
        self.check_narvarande()
        self.check_justerare()
        planned = self.meeting.punkter
        punkter = self.protokoll.punkter
        if len(punkter) != len(planned):
            self.problem(f"protokollet har {len(punkter)} punkter men sammanträdet "
                         f"({self.meeting.source}) har {len(planned)}. Varje punkt i föredragningslistan får "
                         "en paragraf, i samma ordning: lägg till eller ta bort punkter.", ("punkter",))
            return []
        result = []
        for index, (plan, punkt) in enumerate(zip(planned, punkter, strict=True)):
            if not self.same_point(index, plan, punkt):
                continue
            result.append(self.paragraf(first + index, index, plan, punkt))
        return result

    def check_narvarande(self) -> None:
        kallade = self.meeting.kallade
        ledamoter = {person_key(p) for p in kallade.ledamoter}
        ersattare = {person_key(p) for p in kallade.ersattare}
        n = self.protokoll.narvarande
        seen: dict[str, str] = {}
        for key, people, allowed, what in (
            ("ledamöter", n.ledamoter, ledamoter | ersattare, "kallade ledamöter"),
            ("tjänstgörande_ersättare", n.tjanstgorande_ersattare, ersattare, "kallade ersättare"),
            ("ersättare", n.ersattare, ersattare, "kallade ersättare"),
        ):
            for i, person in enumerate(people):
                name = person_key(person)
                if name not in allowed:
                    self.problem(f"'{display_name(person)}' finns inte bland sammanträdets {what} "
                                 f"({self.meeting.source}). Kontrollera stavningen.", ("närvarande", key, i))
                if name in seen:
                    self.problem(f"'{display_name(person)}' står redan under närvarande.{seen[name]}. "
                                 "Varje person står en gång.", ("närvarande", key, i))
                seen.setdefault(name, key)

    def check_justerare(self) -> None:
        for i, person in enumerate(self.protokoll.justerare):
            if person.startswith("["):
                self.problem(f"fyll i justeraren i stället för '{person}': en tjänstgörande ledamot.",
                             ("justerare", i))
            elif person_key(person) not in self.serving:
                self.problem(f"justeraren '{display_name(person)}' är inte tjänstgörande ledamot eller "
                             "ersättare på sammanträdet. Justerare väljs bland dem som tjänstgör.",
                             ("justerare", i))
        if person_key(self.meeting.sammantrade.ordforande) not in self.serving:
            self.problem(f"ordföranden ({self.meeting.sammantrade.ordforande}) finns inte bland de "
                         "tjänstgörande under 'närvarande'. Lägg till ordföranden eller ändra i sammanträdet.",
                         ("närvarande", "ledamöter"))

    def anslag(self) -> Anslag | None:
        justering = self.protokoll.justering
        if justering.datum < self.meeting.sammantrade.datum:
            self.problem(f"protokollet kan inte justeras ({justering.datum.isoformat()}) före sammanträdet "
                         f"({self.meeting.sammantrade.datum.isoformat()}).", ("justering", "datum"))
        try:
            return anslag_for(justering.datum, self.protokoll.anslag.uppsatt)
        except ValueError as e:
            self.problem(f"{e}. Anslaget sätts upp samma dag som protokollet justeras eller senare.",
                         ("anslag", "uppsatt"))
            return None

    def same_point(self, index: int, plan: PlannedPunkt, punkt: ProtokollPunkt) -> bool:
        mine = ("ärende", punkt.arende) if punkt.arende is not None else ("punkt", punkt.punkt)
        theirs = ("ärende", plan.punkt.arende) if plan.punkt.arende is not None else ("punkt", plan.punkt.punkt)
        if mine == theirs:
            return True
        self.problem(f"punkt {index + 1} är '{mine[0]}: {mine[1]}' i protokollet men '{theirs[0]}: {theirs[1]}' "
                     f"i sammanträdet ({self.meeting.source}, punkt {index + 1}). Punkterna ska komma i samma "
                     "ordning som i föredragningslistan.", ("punkter", index, mine[0]))
        return False

    # -- one §

    def paragraf(self, nummer: int, index: int, plan: PlannedPunkt, punkt: ProtokollPunkt) -> Paragraf:
        at = ("punkter", index)
        label = f"§ {nummer} ({plan.rubrik})"
        serving = dict(self.serving)
        javiga: dict[str, str] = {}
        for key_name, people, what in (("jäv", punkt.jav, "som anmält jäv"),
                                       ("frånvarande", punkt.franvarande, "som inte deltar i paragrafen")):
            for i, jav in enumerate(people):
                key = person_key(jav.namn)
                if key not in self.present:
                    self.problem(f"{label}: '{display_name(jav.namn)}' {what} finns inte under närvarande.",
                                 (*at, key_name, i, "namn"))
                    continue
                if key_name == "jäv":
                    javiga[key] = jav.namn
                serving.pop(key, None)
                if jav.ersatts_av is not None:
                    sub = person_key(jav.ersatts_av)
                    if sub not in self.ersattare or sub in serving:
                        self.problem(f"{label}: '{display_name(jav.ersatts_av)}' finns inte bland de närvarande "
                                     "ersättare som inte redan tjänstgör (närvarande.ersättare).",
                                     (*at, key_name, i, "ersätts_av"))
                    else:
                        serving[sub] = self.ersattare[sub]

        def takes_part(who: str, loc: Loc, what: str, *, ersattare_ok: bool = False) -> bool:
            key = person_key(who)
            if key in javiga:
                self.problem(f"{label}: '{display_name(who)}' har anmält jäv i paragrafen och deltar inte i "
                             f"handläggningen, så {what} kan inte komma från hen.", loc)
                return False
            if key in serving or (ersattare_ok and key in self.present):
                return True
            self.problem(f"{label}: '{display_name(who)}' tjänstgör inte i paragrafen, så {what} kan inte komma "
                         "från hen. Kontrollera namnet mot 'närvarande'.", loc)
            return False

        for i, yrkande in enumerate(punkt.yrkanden):
            takes_part(yrkande.av, (*at, "yrkanden", i, "av"), "ett yrkande")
        beslut = self.beslut(label, at, plan, punkt)
        rakning = None
        if punkt.omrostning is not None:
            rakning = self.omrostning(label, (*at, "omröstning"), punkt.omrostning, serving, javiga)
        for i, reservation in enumerate(punkt.reservationer):
            loc = (*at, "reservationer", i, "av")
            if takes_part(reservation.av, loc, "en reservation") and rakning is not None:
                if person_key(reservation.av) in {person_key(p) for p in rakning.avstar}:
                    self.problem(f"{label}: '{display_name(reservation.av)}' avstod från att rösta och deltog "
                                 "alltså inte i beslutet. Bara den som deltagit i beslutet kan reservera sig "
                                 "(kommunallagen 4 kap. 27 §).", loc)
        for i, anteckning in enumerate(punkt.protokollsanteckningar):
            takes_part(anteckning.av, (*at, "protokollsanteckningar", i, "av"), "en protokollsanteckning",
                       ersattare_ok=True)
        if not beslut and plan.loaded is not None:
            self.problem(f"{label}: ärendet har inget beslut. Skriv beslutet under 'beslut:' (en rad per "
                         "beslutspunkt) eller 'beslut: enligt förslag'.", at)
        if punkt.omedelbart_justerad and not beslut:
            self.problem(f"{label}: paragrafen har inget beslut och kan inte förklaras omedelbart justerad. "
                         "Skriv beslutet under 'beslut:' eller ta bort 'omedelbart_justerad'.",
                         (*at, "omedelbart_justerad"))
        return Paragraf(nummer=nummer, planned=plan, punkt=punkt, index=index, beslut=beslut,
                        expedieras=self.expedieras(label, at, punkt), tjanstgorande=tuple(serving.values()),
                        rakning=rakning)

    def beslut(self, label: str, at: Loc, plan: PlannedPunkt, punkt: ProtokollPunkt) -> tuple[str, ...]:
        if punkt.enligt_forslag:
            assert plan.loaded is not None
            return tuple(plan.loaded.arende.forslag_till_beslut)
        return tuple(punkt.beslut or ())

    def omrostning(self, label: str, at: Loc, vote: Omrostning, serving: dict[str, str],
                   javiga: dict[str, str]) -> Rakning:
        votes: dict[str, tuple[str, str]] = {}
        for name, value in vote.roster.items():
            key = person_key(name)
            loc = (*at, "röster", name)
            if key in javiga:
                self.problem(f"{label}: '{display_name(name)}' har anmält jäv i paragrafen och får inte rösta.", loc)
            elif key not in serving:
                self.problem(f"{label}: '{display_name(name)}' tjänstgör inte i paragrafen och kan inte rösta. "
                             "Bara tjänstgörande ledamöter och ersättare röstar.", loc)
            elif key in votes:
                self.problem(f"{label}: '{display_name(name)}' röstar två gånger (också som "
                             f"'{votes[key][0]}'). Varje tjänstgörande ledamot har en röst.", loc)
            else:
                votes[key] = (name, value)
        missing = [display_name(serving[k]) for k in serving if k not in votes]
        if missing:
            self.problem(f"{label}: {', '.join(missing)} tjänstgör men har ingen röst i omröstningen. Skriv "
                         "varje tjänstgörandes röst (ja, nej eller avstår).", (*at, "röster"))
        by = {v: tuple(display_name(serving.get(k, name)) for k, (name, value) in votes.items() if value == v)
              for v in ROSTER}
        ja, nej = len(by["ja"]), len(by["nej"])
        counted = f"{ja} ja, {nej} nej, {len(by['avstår'])} avstår"
        chair = person_key(self.meeting.sammantrade.ordforande)
        if ja == nej:
            if vote.utslagsrost is None:
                self.problem(f"{label}: omröstningen slutade lika ({counted}). Ordföranden har utslagsröst: "
                             "skriv 'utslagsröst: ja' eller 'utslagsröst: nej' under omröstning.", at)
            else:
                own = votes.get(chair, ("", None))[1]
                if own not in ("ja", "nej"):
                    self.problem(f"{label}: utslagsrösten är ordförandens, men ordföranden har inte röstat ja "
                                 "eller nej.", (*at, "utslagsröst"))
                elif own != vote.utslagsrost:
                    self.problem(f"{label}: ordföranden röstade {own} men utslagsrösten är {vote.utslagsrost}. "
                                 "Utslagsrösten är ordförandens egen röst.", (*at, "utslagsröst"))
            result = vote.utslagsrost or vote.utfall
        else:
            if vote.utslagsrost is not None:
                self.problem(f"{label}: utslagsröst gäller bara när det blir lika ({counted}). Ta bort raden.",
                             (*at, "utslagsröst"))
            result = "ja" if ja > nej else "nej"
        if not missing and vote.utfall != result:
            self.problem(f"{label}: rösterna ({counted}) ger {result}, men utfallet är skrivet som {vote.utfall}. "
                         "Rätta rösterna eller utfallet.", (*at, "utfall"))
        return Rakning(ja=by["ja"], nej=by["nej"], avstar=by["avstår"], utfall=vote.utfall,
                       utslagsrost=vote.utslagsrost)

    def expedieras(self, label: str, at: Loc, punkt: ProtokollPunkt) -> tuple[Mottagare, ...]:
        found: dict[str, Mottagare] = {}
        for i, item in enumerate(punkt.expedieras):
            group = EXPEDIERA_GRUPPER.get(item.strip().lower())
            if group is not None:
                for org in self.organisationer.organisationer:
                    if group == "alla" or org.typ == group:
                        found.setdefault(org.id, Mottagare(org.namn, org))
            elif re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", item):
                known = self.organisationer.find(item)
                if known is None:
                    self.problem(f"{label}: okänd organisation '{item}'. {self.organisationer.did_you_mean(item)} "
                                 f"Grupper: {', '.join(EXPEDIERA_GRUPPER)}. Annan mottagare skrivs med namn, "
                                 "t.ex. 'Akten'.", (*at, "expedieras", i))
                else:
                    found.setdefault(known.id, Mottagare(known.namn, known))
            else:
                found.setdefault(item.casefold(), Mottagare(item))
        return tuple(found.values())
