"""The CLI's commands for a paper: validate, render, build (and its old name bundle), review, templates, new.

Each one parses its arguments, calls one function of ``generator.pipeline`` and prints what it
got; ``shell`` reports the errors and exits.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .. import pipeline
from ..errors import ReviewError, UsageProblem
from .shell import (
    SwedishCommand,
    arende_argument,
    common_options,
    main,
    organisation_option,
    registry_option,
    report,
    workers_option,
)

if TYPE_CHECKING:
    from ..pipeline import Finding, LoadedArende


@main.command()
@arende_argument
@common_options
@organisation_option
def validate(arende: Path, organisationer: Path, out: Path, mallar: Path | None,
             org_ids: tuple[str, ...]) -> None:
    """Kontrollera ett ärende (eller ett utskick) utan att skriva något.

    Läser arende.yaml, kontrollerar alla fält, att organisationen finns i registret och
    att varje bilaga finns. Felen skrivs ut med fil, rad och fält. För ett gemensamt
    ärende kontrolleras varje organisations version, och det som var och en ändrar visas.
    Är ÄRENDE ett utskick (en mapp med utskick.yaml) kontrolleras fält, mottagare och
    kopplingsfält; är det ett sammanträde (sammantrade.yaml) kontrolleras det som
    "beslut agenda" kontrollerar innan något skrivs.
    """
    if pipeline.is_sammantrade(arende):
        meeting = pipeline.validate_sammantrade(arende, organisationer)
        click.echo(f"OK: {meeting.source} (sammanträde {meeting.sammantrade.datum.isoformat()}, "
                   f"{len(meeting.punkter)} punkter).")
        return
    if pipeline.is_utskick(arende):
        utskick, recipients = pipeline.validate_utskick(arende, organisationer)
        click.echo(f"OK: {utskick.source} (följebrev till {len(recipients)} mottagare).")
        return
    for loaded in pipeline.validate_arende(arende, organisationer, list(org_ids) or None):
        kind = pipeline.dokumenttyp(loaded.organisation)
        changed = f"; ändrar: {', '.join(loaded.overrides)}" if loaded.overrides else ""
        click.echo(
            f"OK: {loaded.source} ({kind} för {loaded.organisation.namn}, "
            f"{len(loaded.arende.bilagor)} bilagor{changed})."
        )


def run_arende(arende: Path, organisationer: Path, out: Path, mallar: Path | None,
               org_ids: tuple[str, ...], workers: int | None, *, pdf: bool, bundle: bool,
               utkast: bool) -> int:
    """Plan and run one ärende (or each organisation's version of a shared one); return the exit code."""
    with pipeline.early_converter(pdf or bundle) as converters:
        plan = pipeline.plan_arende(arende, organisationer, out, org_ids=list(org_ids) or None, pdf=pdf,
                                    bundle=bundle, templates=mallar, utkast=utkast)
        if plan.findings:
            stopp = pipeline.count_stopp(plan.findings)
            click.secho(f"Granskning: {stopp} stopp, {len(plan.findings) - stopp} varningar (visa dem med "
                        f"'beslut review {arende}').", fg="yellow", err=True)
        code = report(pipeline.run(plan, workers=workers, show_progress=sys.stderr.isatty(),
                                   converter_factory=converters))
    return code


utkast_option = click.option(
    "--utkast",
    is_flag=True,
    help="Skapa ett utkast: \"UTKAST\" på varje sida, och stopp i granskningen hindrar inte. "
         "Utkastet skrivs i OUT/arenden/<ärende>/utkast/, bredvid de färdiga handlingarna.",
)


@main.command()
@arende_argument
@common_options
@organisation_option
@workers_option
@click.option("--pdf", is_flag=True, help="Skriv också en PDF/A (taggad, sv-SE) bredvid .docx-filen.")
@utkast_option
def render(arende: Path, organisationer: Path, out: Path, mallar: Path | None,
           org_ids: tuple[str, ...], workers: int | None, pdf: bool, utkast: bool) -> int:
    """Skapa beslutsunderlaget (bolag) eller tjänsteutlåtandet (nämnd) som Word-fil.

    Skriver OUT/arenden/<ärendets mapp>/beslutsunderlag.docx eller tjänsteutlåtande.docx;
    för ett gemensamt ärende OUT/arenden/<ärendets mapp>/<id>/… per organisation. Ett
    utkast (--utkast) skrivs i undermappen utkast/ och ersätter aldrig de färdiga
    handlingarna. En manifest.json listar filerna. Andra filer i mappen lämnas
    orörda. Ärendet granskas först (se
    "beslut review"): finns det stopp skrivs inget, utom med --utkast.
    """
    return run_arende(arende, organisationer, out, mallar, org_ids, workers, pdf=pdf, bundle=False, utkast=utkast)


@main.command()
@arende_argument
@common_options
@organisation_option
@workers_option
@utkast_option
def build(arende: Path, organisationer: Path, out: Path, mallar: Path | None,
          org_ids: tuple[str, ...], workers: int | None, utkast: bool) -> int:
    """Allt i ett: kontrollera, skapa Word-fil och PDF/A, och sätt ihop handlingar.pdf.

    handlingar.pdf är beslutsunderlaget följt av alla bilagor. Bilagor i Word-,
    OpenDocument-, PowerPoint-, Excel- och bildformat görs om till PDF (en gång per
    filinnehåll: en oförändrad bilaga återanvänds från OUT/.cache/). Varje del får ett
    bokmärke och egna sidnummer, och varje bilagesida märks "Bilaga N" uppe till höger.
    Filerna skrivs i OUT/arenden/<ärendets mapp>/ och byts ut först när allt lyckats,
    så ett misslyckat bygge lämnar det förra helt. ("beslut bundle" är samma kommando.)

    För ett gemensamt ärende (en mapp med organisationer/<id>.yaml) görs detta för
    varje organisation, och en manifest.json listar resultatet.

    Ärendet granskas först (se "beslut review"): finns det stopp skrivs inget, utom
    med --utkast, som märker varje sida UTKAST och skriver i undermappen utkast/, så
    att de färdiga handlingarna aldrig ersätts av ett utkast.
    """
    return run_arende(arende, organisationer, out, mallar, org_ids, workers, pdf=True, bundle=True, utkast=utkast)


@main.command()
@arende_argument
@common_options
@organisation_option
@click.option("--json", "as_json", is_flag=True, help="Skriv fynden som JSON (för verktyg).")
def review(arende: Path, organisationer: Path, out: Path, mallar: Path | None, org_ids: tuple[str, ...],
           as_json: bool) -> int:
    """Granska ett ärende som en registrator eller nämndsekreterare gör, utan att skriva något.

    Letar efter det som brukar skickas tillbaka: en dimension utan bedömning, en
    hänvisning till en bilaga som inte finns, platshållare som XXX eller [namn],
    personnummer, och svår text (LIX och myndighetsord). Varje fynd visas under sitt
    fält med fil och rad och är antingen stopp (måste rättas innan handlingen skapas
    med build eller render) eller varning (bör ses över). För ett gemensamt ärende
    granskas varje organisations version. Slutkod 8 om något är stopp, annars 0.
    """
    if pipeline.is_sammantrade(arende):
        return review_sammantrade(arende, organisationer, as_json)
    reviewed = pipeline.review_arenden(arende, organisationer, list(org_ids) or None)
    if as_json:
        click.echo(json.dumps(pipeline.review_json(reviewed), ensure_ascii=False, indent=2))
    else:
        for loaded, findings in reviewed:
            print_review(loaded, findings)
    stopp = sum(pipeline.count_stopp(findings) for _, findings in reviewed)
    return ReviewError.exit_code if stopp else 0


def review_sammantrade(path: Path, organisationer: Path, as_json: bool) -> int:
    """Review every ärende of a sammanträde and, when it has one, its protokoll; return the exit code."""
    result = pipeline.review_sammantrade(path, organisationer)
    protokoll, found = result.protokoll, result.protokoll_findings
    if as_json:
        click.echo(json.dumps(result.as_json(), ensure_ascii=False, indent=2))
    else:
        for loaded, findings in result.reviewed:
            print_review(loaded, findings)
        if protokoll is not None:
            click.secho(f"{protokoll.source} (protokoll, {protokoll.paragraf_range})", bold=True)
            for f in found:
                click.echo("    " + _severity(f) + f" {f.located()}")
            stopp = pipeline.count_stopp(found)
            click.echo(f"  Summa: {stopp} stopp, {len(found) - stopp} varningar.\n")
        else:
            click.echo("Sammanträdet har inget protokoll ännu (skapa det med 'beslut new "
                       f"{result.meeting.source.parent} --protokoll').")
    return ReviewError.exit_code if result.stopp else 0


def _severity(finding: Finding) -> str:
    """Return a finding's severity, padded and coloured (stopp red, varning yellow)."""
    colour = "red" if pipeline.count_stopp([finding]) else "yellow"
    return click.style(f"{finding.severity:<7}", fg=colour)


def print_review(loaded: LoadedArende, findings: list[Finding]) -> None:
    """Print one ärende's findings grouped by field, then its LIX per text."""
    kind = pipeline.dokumenttyp(loaded.organisation)
    click.secho(f"{loaded.source} ({kind} för {loaded.organisation.namn})", bold=True)
    for field in dict.fromkeys(f.field for f in findings):
        click.echo(f"  {field}")
        for f in (f for f in findings if f.field == field):
            click.echo("    " + _severity(f) + f" {f.located(with_field=False)}")
    lix = ", ".join(f"{name} {value} ({label})" for name, (value, label) in pipeline.readability(loaded).items())
    if lix:
        click.echo(f"  Läsbarhet (LIX): {lix}")
    stopp = pipeline.count_stopp(findings)
    click.echo(f"  Summa: {stopp} stopp, {len(findings) - stopp} varningar.\n")


main.add_command(SwedishCommand("bundle", callback=build.callback, params=build.params, help=build.help,
                                hidden=True))  # the old name of build, kept working but not listed


@main.command()
@click.argument("mapp", metavar="MAPP", required=False,
                type=click.Path(file_okay=False, path_type=Path))
def templates(mapp: Path | None) -> None:
    """Kontrollera Word-mallar innan de används.

    MAPP är en mapp med beslutsunderlag.docx och foljebrev.docx (utan MAPP: mallarna
    som följer med). Kontrollerar att varje mall går att öppna, bara använder variabler
    som finns, har formatmallarna som texten behöver och sidnummer i sidfoten, och att
    ett exempel går att fylla i. Kontrollerar också XML:en mot standarden för Word-filer
    (ISO 29500): det som får Word att vilja reparera filen är ett fel, resten varningar.
    Slutkod 4 och en lista över felen om något inte stämmer.

    \b
    Så ändrar du en mall:
      1. Kopiera templates/docx/ till en egen mapp, t.ex. mina-mallar/.
      2. Ändra i Word: text, formatmallar, sidhuvud, sidfot. Låt {{ … }} stå kvar.
      3. beslut templates mina-mallar
      4. beslut build ÄRENDE --mallar mina-mallar
    """
    checked = pipeline.check_templates(mapp)
    for path, cleaning in checked.files:
        click.echo(f"OK: {path}")
        for warning in cleaning:
            click.secho(f"Varning: {warning} Det tas bort ur varje dokument som skapas med mallen; "
                        "ta bort det i Word så försvinner varningen.", fg="yellow", err=True)
    for warning in checked.warnings:
        click.echo(f"Varning: {warning}", err=True)


@main.command()
@click.argument("mapp", metavar="MAPP", type=click.Path(path_type=Path))
@click.option("--organisation", "org_ids", multiple=True, metavar="ID",
              help="Organisationens id i registret. Upprepa flaggan för ett gemensamt ärende.")
@click.option("--sammantrade", "sammantrade", is_flag=True,
              help="Skapa ett sammanträde (sammantrade.yaml med de vanliga punkterna) i stället för ett ärende.")
@click.option("--protokoll", "protokoll", is_flag=True,
              help="Skapa protokoll.yaml i sammanträdet MAPP, med varje ärendes förslag till beslut ifyllt.")
@registry_option
def new(mapp: Path, org_ids: tuple[str, ...], organisationer: Path, sammantrade: bool = False,
        protokoll: bool = False) -> None:
    """Skapa ett nytt ärende att fylla i, utan att kopiera ett gammalt.

    Skriver MAPP/arende.yaml med en kommentar vid varje fält (vilken rubrik det blir i
    dokumentet) och text inom hakparenteser där du skriver, samt mappen MAPP/bilagor/.
    Ärendet går igenom "beslut validate" direkt; byt sedan ut allt inom hakparenteser.
    Med flera --organisation blir ärendet gemensamt: arende.yaml har det som är lika för
    alla och MAPP/organisationer/<id>.yaml det som varje organisation ändrar.
    Finns MAPP redan skrivs ingenting.

    \b
    Exempel:
      beslut new content/arenden/2024-03-budget --organisation gota-lejon
      beslut new content/arenden/2024-03-gemensamt --organisation gota-lejon --organisation forskolenamnden
      beslut new content/sammantraden/2023-10-forskolenamnden --protokoll
    """
    if protokoll:
        path = pipeline.create_protokoll(mapp, organisationer)
        click.echo(f"Skrev {path}")
        click.echo(f"Fyll i närvarande, justerare och besluten och bygg sedan med: beslut minutes {mapp}")
        return
    if not org_ids:
        ctx = click.get_current_context()
        raise click.MissingParameter(ctx=ctx, param=next(p for p in ctx.command.params if p.name == "org_ids"))
    if sammantrade:
        if len(org_ids) != 1:
            raise UsageProblem("ett sammanträde hålls av en organisation: ange en --organisation.")
        for path in pipeline.create_sammantrade(mapp, org_ids[0], organisationer):
            click.echo(f"Skrev {path}")
        click.echo(f"Lägg till ärendena under 'punkter' och bygg sedan med: beslut agenda {mapp}")
        return
    files = pipeline.create_arende(mapp, list(org_ids), organisationer)
    for path in files:
        click.echo(f"Skrev {path}")
    click.echo(f"Byt ut texten inom hakparenteser och kontrollera sedan med: beslut validate {mapp}")

