"""The ``beslut`` command: thin click commands over ``pipeline``.

This module parses arguments and reports; the work is done by ``generator.pipeline``, the
front door, and this module imports nothing else of ``generator`` but ``errors`` (and
``clisv``; ``tests/test_front_door.py`` checks it). Every error the user can cause is a
``BeslutError`` and is shown here, in Swedish, with its own exit code; a traceback is
shown only with ``--debug``. A command returns its exit code and ``reports_errors`` is the
one place that exits.
"""

from __future__ import annotations

import json
import os
import sys
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from . import __version__, clisv, pipeline
from .errors import (
    EXIT_BUG,
    EXIT_INTERRUPTED,
    BeslutError,
    EnvironmentProblem,
    ReviewError,
    UsageProblem,
    describe_os_error,
)

if TYPE_CHECKING:
    from .pipeline import Finding, LoadedArende, Report

# ``pipeline`` imports the engine (jobs, runner and what they need) only in the functions that
# use it, so that a command that converts can start LibreOffice first (``early_converter``)
# and let it start while the rest loads.
early_converter = pipeline.early_converter

clisv.install()

EXIT_CODES = """\b
Slutkoder:
  0  klart
  1  några mottagare i en körning misslyckades (de listas)
  2  fel i kommandoraden
  3  fel i innehållet (YAML, organisation, bilaga saknas)
  4  fel i en Word-mall
  5  PDF-konverteringen misslyckades (LibreOffice)
  6  en bilaga går inte att lägga i handlingarna
  7  datorn stoppade körningen (mappen går inte att skriva i, disken är full)
  8  granskningen hittade stopp (review; build och render utan --utkast)
  9  e-post: inställningar saknas, breven saknas eller är inaktuella, servern svarar inte
  70 ett programfel i beslut (rapportera det)
  130 avbrutet (Ctrl-C)"""

arende_argument = click.argument("arende", metavar="ÄRENDE", type=click.Path(path_type=Path))


def _default_registry(ctx, param, value: Path | None) -> Path:
    """Return --organisationer, or content/organisationer.yaml found from here upwards."""
    return value if value is not None else pipeline.find_registry(Path("."))


def _default_out(ctx, param, value: Path | None) -> Path:
    """Return --out, or out/ beside the registry's folder (content/, found from here upwards).

    The registry is the one in use: --organisationer when given (click handles it first),
    so a content folder of another name, or the current folder, gets its out/ beside it,
    never inside it.
    """
    if value is not None:
        return value
    registry = ctx.params.get("organisationer") or pipeline.find_registry(Path("."))
    return Path(os.path.relpath(registry.resolve().parent.parent / "out"))


registry_option = click.option(
    "--organisationer",
    "organisationer",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FIL",
    callback=_default_registry,
    help="Organisationsregistret (YAML) där organisationer och mottagare slås upp. "
    "Standard: content/organisationer.yaml i aktuell mapp eller närmaste mapp ovanför.",
)


def common_options(command):
    """Add --organisationer, --out and --mallar, which every command takes."""
    command = click.option(
        "--mallar",
        "mallar",
        type=click.Path(file_okay=False, path_type=Path),
        metavar="MAPP",
        default=None,
        help="Mapp med egna (redigerade) Word-mallar: beslutsunderlag.docx och foljebrev.docx. "
        "Kontrollera dem först med 'beslut templates MAPP'. Standard: mallarna som följer med.",
    )(command)
    command = click.option(
        "--out",
        "out",
        type=click.Path(file_okay=False, path_type=Path),
        metavar="MAPP",
        callback=_default_out,
        help="Mapp där dokumenten skrivs. Varje ärende och utskick får en egen undermapp. "
        "Standard: out/ bredvid mappen content/ (den mapp där organisationsregistret ligger).",
    )(command)
    return registry_option(command)


def reports_errors(command):
    """Show every failure as a Swedish message and its exit code; a traceback only with --debug.

    Our own errors (``BeslutError``) carry their message and code; an operating-system
    error (a folder that cannot be written, a full disk) is exit 7; Ctrl-C is "Avbrutet."
    and 130; anything else is a bug in beslut, said so, and 70. A command returns its exit
    code (None is 0); this is where the CLI exits.
    """

    @wraps(command)
    def wrapper(*args, **kwargs):
        debug = click.get_current_context().find_root().params.get("debug")
        try:
            code = command(*args, **kwargs)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise  # click reports these itself (a usage error is exit 2)
        except BeslutError as e:
            if debug:
                raise
            fail(e.format(), e.exit_code)
        except OSError as e:
            if debug:
                raise
            where = f"{e.filename}: " if e.filename else ""
            fail(pipeline.describe_temp_error(e) or f"{where}{describe_os_error(e)}", EnvironmentProblem.exit_code)
        except KeyboardInterrupt:
            click.secho("Avbrutet.", fg="red", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except Exception as e:
            if debug:
                raise
            fail(f"ett oväntat fel inträffade ({type(e).__name__}). Det är ett programfel i beslut: "
                 "kör kommandot igen med 'beslut --debug …' och skicka utskriften till förvaltarna.",
                 EXIT_BUG)
        if code:
            sys.exit(code)

    return wrapper


def fail(message: str, code: int) -> NoReturn:
    """Print ``message`` as an error and exit with ``code``."""
    click.secho(f"Fel: {message}", fg="red", err=True)
    sys.exit(code)


def report(result: Report) -> int:
    """Print what a run did (files, warnings, removed files, failures); return its exit code."""
    for notice in result.notices:
        click.secho(notice, fg="cyan", err=True)
    for warning, recipients in result.warnings_by_text().items():
        who = "alla" if len(recipients) == len(result.outcomes) > 1 else ", ".join(recipients)
        click.secho(f"Varning ({who}): {warning}", fg="yellow", err=True)
    if len(result.outcomes) == 1:
        for path in result.files:
            click.echo(f"Skrev {path}")
    if result.removed:
        click.echo(f"Tog bort {len(result.removed)} filer från en tidigare körning, för mottagare "
                   "som inte är med nu:")
        for path in result.removed:
            click.echo(f"  {path}")
    ok = len(result.outcomes) - len(result.failed)
    click.echo(f"Klart: {ok} av {len(result.outcomes)} mottagare, {len(result.files)} filer. "
               f"Manifest: {result.manifest}")
    if result.failed:
        click.secho(f"{len(result.failed)} misslyckades:", fg="red", err=True)
        for outcome in result.failed:
            click.secho(f"  {outcome.recipient} ({outcome.name}): {outcome.error}", fg="red", err=True)
    return result.exit_code


class SwedishGroup(click.Group):
    """A command group whose help shows Swedish placeholders."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("options_metavar", "[FLAGGOR]")
        kwargs.setdefault("subcommand_metavar", "KOMMANDO [ARGUMENT]...")
        super().__init__(*args, **kwargs)
        self.command_class = SwedishCommand


class SwedishCommand(click.Command):
    """A command whose help shows Swedish placeholders."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("options_metavar", "[FLAGGOR]")
        super().__init__(*args, **kwargs)


@click.group(
    cls=SwedishGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=EXIT_CODES,
)
@click.version_option(__version__, prog_name="beslut", message="%(prog)s %(version)s")
@click.option("--debug", is_flag=True, help="Visa hela felspårningen (för utvecklare).")
def main(debug: bool) -> None:
    """Skapa beslutsunderlag, tjänsteutlåtanden, följebrev och handlingar för Göteborgs Stad.

    Innehållet skrivs i YAML (ett ärende är en mapp med arende.yaml) och fogas in i
    stadens Word-mallar. ÄRENDE är ärendets mapp eller dess arende.yaml.

    \b
    Exempel:
      beslut validate content/arenden/2023-10-handlingsplaner
      beslut build content/arenden/2023-10-handlingsplaner
    """
    pipeline.run_dir()  # here, in the main thread: its SIGTERM cleanup needs that
    route_library_logs(debug)


LIBRARY_LOGGERS = ("pypdf", "pikepdf", "PIL", "fontTools", "unoserver", "py.warnings")
"""Libraries that log in English about the files they read ("Xref table invalid …"), and
Python warnings (pikepdf's "missing some specialized decoders"), logged as ``py.warnings``."""


def route_library_logs(debug: bool) -> None:
    """Send the libraries' log lines to stderr with ``--debug``, and nowhere otherwise.

    Our own messages say in Swedish what a repaired or refused file means; the libraries'
    English lines are for the maintainers.
    """
    import logging

    logging.captureWarnings(True)
    if debug:
        logging.basicConfig(level=logging.WARNING, format="logg (%(name)s): %(message)s")
        return
    for name in LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        logger.addHandler(logging.NullHandler())
        logger.propagate = False


organisation_option = click.option(
    "--organisation",
    "only",
    multiple=True,
    metavar="ID",
    help="För ett gemensamt ärende: bara denna organisation (flaggan kan upprepas).",
)
workers_option = click.option(
    "--workers",
    type=click.IntRange(1, os.cpu_count() or 1, clamp=True),  # each one runs a LibreOffice
    default=None,
    metavar="ANTAL",
    help="Antal parallella arbetare i en körning för många mottagare (standard och högst: en per kärna).",
)


@main.command()
@arende_argument
@common_options
@organisation_option
@reports_errors
def validate(arende: Path, organisationer: Path, out: Path, mallar: Path | None,
             only: tuple[str, ...]) -> None:
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
    for loaded in pipeline.validate_arende(arende, organisationer, list(only) or None):
        kind = pipeline.dokumenttyp(loaded.organisation)
        changed = f"; ändrar: {', '.join(loaded.overrides)}" if loaded.overrides else ""
        click.echo(
            f"OK: {loaded.source} ({kind} för {loaded.organisation.namn}, "
            f"{len(loaded.arende.bilagor)} bilagor{changed})."
        )


def run_arende(arende: Path, organisationer: Path, out: Path, mallar: Path | None,
               only: tuple[str, ...], workers: int | None, *, pdf: bool, bundle: bool,
               utkast: bool) -> int:
    """Plan and run one ärende (or each organisation's version of a shared one); return the exit code."""
    with early_converter(pdf or bundle) as converters:
        plan = pipeline.plan_arende(arende, organisationer, out, only=list(only) or None, pdf=pdf,
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
@reports_errors
def render(arende: Path, organisationer: Path, out: Path, mallar: Path | None,
           only: tuple[str, ...], workers: int | None, pdf: bool, utkast: bool) -> int:
    """Skapa beslutsunderlaget (bolag) eller tjänsteutlåtandet (nämnd) som Word-fil.

    Skriver OUT/arenden/<ärendets mapp>/beslutsunderlag.docx eller tjänsteutlåtande.docx;
    för ett gemensamt ärende OUT/arenden/<ärendets mapp>/<id>/… per organisation. Ett
    utkast (--utkast) skrivs i undermappen utkast/ och ersätter aldrig de färdiga
    handlingarna. En manifest.json listar filerna. Andra filer i mappen lämnas
    orörda. Ärendet granskas först (se
    "beslut review"): finns det stopp skrivs inget, utom med --utkast.
    """
    return run_arende(arende, organisationer, out, mallar, only, workers, pdf=pdf, bundle=False, utkast=utkast)


@main.command()
@arende_argument
@common_options
@organisation_option
@workers_option
@utkast_option
@reports_errors
def build(arende: Path, organisationer: Path, out: Path, mallar: Path | None,
          only: tuple[str, ...], workers: int | None, utkast: bool) -> int:
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
    return run_arende(arende, organisationer, out, mallar, only, workers, pdf=True, bundle=True, utkast=utkast)


@main.command()
@arende_argument
@common_options
@organisation_option
@click.option("--json", "as_json", is_flag=True, help="Skriv fynden som JSON (för verktyg).")
@reports_errors
def review(arende: Path, organisationer: Path, out: Path, mallar: Path | None, only: tuple[str, ...],
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
    reviewed = pipeline.review_arenden(arende, organisationer, list(only) or None)
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


utskick_argument = click.argument("utskick", metavar="UTSKICK", type=click.Path(path_type=Path))
till_option = click.option(
    "--till",
    "till",
    multiple=True,
    metavar="MOTTAGARE",
    help="Skicka bara till 'bolag', 'nämnder', 'alla' eller angivna id (flaggan kan upprepas). "
    "Utan flaggan gäller utskickets egen 'mottagare'.",
)


@main.command()
@utskick_argument
@common_options
@till_option
@click.option("--pdf", is_flag=True, help="Skriv också varje brev som PDF/A.")
@click.option("--eml", is_flag=True, help="Skriv också e-postmeddelandet till varje mottagare (<id>.eml, "
              "med brevets PDF som bilaga). Kräver --pdf.")
@workers_option
@reports_errors
def letters(utskick: Path, organisationer: Path, out: Path, mallar: Path | None,
            till: tuple[str, ...], pdf: bool, eml: bool, workers: int | None) -> int:
    """Skapa ett följebrev per mottagare.

    UTSKICK är utskickets mapp eller dess utskick.yaml. Breven skrivs till
    OUT/utskick/<utskick>/<id>.docx (och .pdf), med en manifest.json som listar varje fil,
    mottagare, antal sidor och kontrollsumma. Mappen speglar den senaste körningen:
    brev från en tidigare körning till mottagare som inte är med nu tas bort (de
    listas). Om ett brev misslyckas görs de andra ändå; felen listas på slutet och
    slutkoden blir 1.
    """
    if eml and not pdf:
        raise click.UsageError("--eml kräver --pdf: e-postmeddelandet har brevets PDF som bilaga.")
    with early_converter(pdf) as converters:
        plan = pipeline.plan_utskick(utskick, organisationer, out, till=list(till) or None, pdf=pdf,
                                     eml=eml, templates=mallar)
        code = report(pipeline.run(plan, workers=workers, show_progress=sys.stderr.isatty(),
                                   converter_factory=converters))
    return code


@main.command()
@click.argument("sammantrade", metavar="SAMMANTRÄDE", type=click.Path(path_type=Path))
@common_options
@reports_errors
def agenda(sammantrade: Path, organisationer: Path, out: Path, mallar: Path | None) -> None:
    """Skapa kallelse och föredragningslista, och sammanträdeshandlingarna.

    SAMMANTRÄDE är mappen med sammantrade.yaml (content/sammantraden/<namn>/). Skriver
    OUT/sammantraden/<namn>/: kallelse.docx och kallelse.pdf (med föredragningslistan),
    sammantradeshandlingar.pdf (kallelsen, innehållsförteckning och varje ärendes
    handlingar i dagordningens ordning) och sammantradeshandlingar-offentlig.pdf (där
    utelämnade punkter ersätts av en sida som anger lagrummet), samt en
    tillgänglighetsrapport och manifest.json.

    Allt kontrolleras först: att ärendena finns, hör till organisationen och saknar stopp i
    granskningen, att diarienumren är unika, att ärendena är utfärdade före sammanträdet och
    att kallelsen går ut i tid. Hittas personnummer i den offentliga versionen skrivs inget
    (slutkod 8). Ett ärendes handlingar återanvänds om inget i ärendet har ändrats.

    \b
    Exempel:
      beslut agenda content/sammantraden/2023-10-forskolenamnden
    """
    with early_converter(True) as converters:
        def progress(text: str) -> None:
            click.echo(f"  {text}", err=True)

        result = pipeline.build_agenda(sammantrade, organisationer, out, templates=mallar,
                              converter_factory=converters, on_progress=progress)
    for warning in result.warnings:
        click.secho(f"Varning: {warning}", fg="yellow", err=True)
    for name in result.reused:
        click.echo(f"Återanvände handlingarna för {name} (oförändrat).")
    for path in result.files:
        click.echo(f"Skrev {path}")
    click.echo(f"Klart. Manifest: {result.manifest}")


@main.command()
@click.argument("sammantrade", metavar="SAMMANTRÄDE", type=click.Path(path_type=Path))
@common_options
@reports_errors
def minutes(sammantrade: Path, organisationer: Path, out: Path, mallar: Path | None) -> None:
    """Skapa protokoll och protokollsutdrag efter ett sammanträde.

    SAMMANTRÄDE är mappen med sammantrade.yaml och protokoll.yaml
    (content/sammantraden/<namn>/; skapa protokoll.yaml med 'beslut new SAMMANTRÄDE
    --protokoll'). Skriver OUT/sammantraden/<namn>/: protokoll.docx och protokoll.pdf
    (närvarande, justering, en paragraf per punkt, underskrifter och anslag med sista dag att
    överklaga) och protokollsutdrag-§N.docx och .pdf för varje paragraf, samt
    protokoll-manifest.json.

    Allt kontrolleras först: att varje ärende har ett beslut, att varje tjänstgörande
    ledamot röstar en gång och att rösterna ger det utfall som står, att den som anmält jäv
    inte deltar, att bara den som deltagit i beslutet reserverar sig, att justerarna
    tjänstgör, att anslaget inte sätts upp före justeringen och att paragraferna fortsätter
    årets numrering. Fel ger slutkod 3 och inget skrivs; personnummer i protokollet slutkod 8.

    \b
    Exempel:
      beslut minutes content/sammantraden/2023-10-forskolenamnden
    """
    with early_converter(True) as converters:
        def progress(text: str) -> None:
            click.echo(f"  {text}", err=True)

        result = pipeline.build_minutes(sammantrade, organisationer, out, templates=mallar,
                               converter_factory=converters, on_progress=progress)
    assert result.loaded is not None
    for p in result.loaded.paragrafer:
        if p.rakning is not None:
            click.echo(f"Omröstning {p.label} ({p.rubrik}): {p.rakning.summary()}; utfall {p.rakning.utfall}"
                       + (" (ordförandens utslagsröst)" if p.rakning.utslagsrost else "") + ".")
    anslag = result.loaded.anslag
    assert anslag is not None
    click.echo(f"Paragrafer {result.loaded.paragraf_range}. Anslaget sätts upp {anslag.uppsatt.isoformat()} "
               f"och tas ned {anslag.nedtas.isoformat()}; sista dag att överklaga är "
               f"{anslag.sista_dag.isoformat()}.")
    for warning in result.warnings:
        click.secho(f"Varning: {warning}", fg="yellow", err=True)
    for path in result.files:
        click.echo(f"Skrev {path}")
    for path in result.removed:
        click.echo(f"Tog bort {path} (paragrafen finns inte längre i protokollet)")
    passed = sum(not any(v.values()) for v in result.conformance.values())
    click.echo(f"PDF/A-2a och PDF/UA-1 enligt kontrollen: {passed} av {len(result.conformance)} PDF-filer.")
    click.echo(f"Klart. Manifest: {result.manifest}")


@main.command()
@click.argument("mapp", metavar="MAPP", required=False,
                type=click.Path(file_okay=False, path_type=Path))
@reports_errors
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
@reports_errors
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


@main.command()
@common_options
@click.option("--innehall", "content", type=click.Path(file_okay=False, path_type=Path), metavar="MAPP",
              default=None,
              help="Innehållsmappen med arenden/ och utskick/. Standard: mappen där "
              "organisationsregistret ligger (content/).")
@click.option("--host", default="127.0.0.1", show_default=True, metavar="ADRESS",
              help="Adress att lyssna på. Annat än den egna datorn kräver inloggning.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, metavar="PORT",
              help="Port att lyssna på.")
@click.option("--anvandare", "users", type=click.Path(dir_okay=False, path_type=Path), metavar="FIL",
              help="Användarfil med hashade lösenord (inloggning med användarnamn och lösenord).")
@click.option("--betrott-huvud", "trusted_header", metavar="NAMN",
              help="HTTP-huvud där stadens omvända proxy anger inloggad användare, t.ex. X-Remote-User.")
@click.option("--betrodd-proxy", "proxies", multiple=True, metavar="ADRESS",
              help="Adress eller nät (CIDR) för stadens omvända proxy; kan upprepas. Bara därifrån godtas "
              "--betrott-huvud och X-Forwarded-For/-Proto. Standard: den egna datorn. Krävs för "
              "--betrott-huvud om servern lyssnar på annat än den egna datorn.")
@click.option("--vardnamn", multiple=True, metavar="NAMN",
              help="Serverns namn i webbläsaren, t.ex. beslut.goteborg.se; kan upprepas. Sidan svarar bara "
              "på 127.0.0.1, localhost och sina egna namn.")
@click.option("--tillstand", "state", type=click.Path(file_okay=False, path_type=Path), metavar="MAPP",
              help="Mapp för serverns nyckel, inloggningar och händelselogg (inte i innehållsmappen). "
              "Standard: OUT/.beslut-web.")
@click.option("--ny-anvandare", "new_user", metavar="NAMN",
              help="Lägg till eller byt lösenord för NAMN i --anvandare-filen och avsluta.")
@click.option("--omvandlare", "converters", type=click.IntRange(1, 8), default=1, show_default=True,
              metavar="ANTAL", help="Antal varma LibreOffice-omvandlare (ca 200 MB minne var).")
@reports_errors
def web(organisationer: Path, out: Path, mallar: Path | None, content: Path | None, host: str, port: int,
        users: Path | None, trusted_header: str | None, proxies: tuple[str, ...], vardnamn: tuple[str, ...],
        state: Path | None, new_user: str | None, converters: int) -> None:
    """Starta webbsidan där handläggare skriver, kontrollerar och skapar ärenden i webbläsaren.

    Sidan nås på http://ADRESS:PORT/. Som standard lyssnar den bara på den egna datorn;
    för att andra ska nå den krävs --anvandare eller --betrott-huvud (se docs/web.md).
    Nya lösenord ska ha minst 12 tecken och får inte vara vanliga.
    """
    from .web.server import serve

    content = content or organisationer.parent

    if new_user:
        from .web.security import add_user

        if users is None:
            raise click.UsageError("Ange användarfilen med --anvandare FIL.")
        add_user(users, new_user, click.prompt("Lösenord", hide_input=True, confirmation_prompt="Upprepa lösenordet"))
        click.echo(f"Sparade {new_user} i {users}.")
        return
    serve(content=content, organisationer=organisationer, out=out, host=host, port=port, users=users,
          trusted_header=trusted_header, converters=converters, templates=mallar, vardnamn=vardnamn,
          proxies=proxies, state=state)


@main.command()
@utskick_argument
@common_options
@till_option
@click.option("--skarpt", is_flag=True, help="Skicka på riktigt. Utan flaggan visas bara vad som skulle skickas.")
@click.option("--igen", is_flag=True, help="Skicka även till dem som redan fått brevet (använd med --till).")
@click.option("--smtp-konfig", "smtp_konfig", type=click.Path(dir_okay=False, path_type=Path), metavar="FIL",
              help="Inställningsfil för e-postservern (TOML). Standard: ~/.config/beslut/smtp.toml.")
@click.option("--per-minut", type=click.FloatRange(0.1, 10000), metavar="ANTAL",
              help="Högst så många meddelanden per minut (standard 30).")
@click.option("--tidsgrans", type=click.FloatRange(1, 600), metavar="SEKUNDER",
              help="Så länge väntas på varje svar från servern (standard 60).")
@reports_errors
def send(utskick: Path, organisationer: Path, out: Path, mallar: Path | None, till: tuple[str, ...],
         skarpt: bool, igen: bool,
         smtp_konfig: Path | None, per_minut: float | None, tidsgrans: float | None) -> int:
    """Skicka följebreven, eller ett sammanträdes protokollsutdrag, med e-post.

    UTSKICK är ett utskick eller ett sammanträde. För ett sammanträde får varje mottagare
    under 'expedieras' i protokoll.yaml ett meddelande med utdragen för sina paragrafer
    (skapade med 'beslut minutes'); mottagare utan e-post listas. Loggen är då
    OUT/sammantraden/<namn>/expediering-logg.json.

    Följebreven: ett meddelande per mottagare med brevet som PDF.

    Skickar bara brev som redan skapats med 'beslut letters UTSKICK --pdf'; saknas ett
    brev eller har något ändrats sedan dess skickas inget. Utan --skarpt visas bara vad
    som skulle skickas. Varje försök skrivs i OUT/utskick/<utskick>/utskick-logg.json, så en ny
    körning skickar bara till dem som inte redan fått brevet. E-postservern anges i
    miljövariabler (BESLUT_SMTP_HOST, _PORT, _SAKERHET, _ANVANDARE, _LOSENORD) eller i
    en inställningsfil, aldrig på kommandoraden.
    """
    mailing = pipeline.plan_mailing(utskick, organisationer, out, till=list(till) or None, igen=igen,
                                    templates=mallar)
    return _mail(mailing, skarpt=skarpt, smtp_konfig=smtp_konfig, per_minut=per_minut, tidsgrans=tidsgrans)


def _mail(mailing: pipeline.Mailing, *, skarpt: bool, smtp_konfig: Path | None,
          per_minut: float | None, tidsgrans: float | None) -> int:
    """Show what ``mailing`` (letters or protokollsutdrag) would send; with ``skarpt`` send it. Return the exit code.

    Without ``--skarpt`` a problem with the SMTP settings is shown in the plan, not raised.
    """
    try:
        settings, warnings = pipeline.load_smtp_settings(smtp_konfig, per_minut=per_minut, tidsgrans=tidsgrans)
        problem = None
    except BeslutError as e:
        if skarpt:
            raise
        settings, warnings, problem = None, [], e.message
    for notice in mailing.notices:
        click.secho(notice, fg="cyan", err=True)
    for warning in warnings:
        click.secho(f"Varning: {warning}", fg="yellow", err=True)
    for line in mailing.format_plan(mailing.plan, settings, problem):
        click.echo(line)
    if not skarpt:
        click.echo(f"Provkörning: inget skickades. Lägg till --skarpt för att skicka "
                   f"{pipeline.count_to_send(mailing)}.")
        return 0
    assert settings is not None  # with --skarpt a settings problem was raised above
    report = mailing.send(mailing.plan, settings, on_attempt=lambda d: click.echo(mailing.format_attempt(d)))
    lines, errors = mailing.format_report(report)
    for line in lines:
        click.echo(line)
    for line in errors:
        click.secho(line, fg="red", err=True)
    return report.exit_code


if __name__ == "__main__":
    main()
