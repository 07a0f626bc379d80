"""The ``beslut`` command: thin click commands over ``pipeline``.

This module parses arguments and reports; the work is done by library functions. Every
error the user can cause is a ``BeslutError`` and is shown here, in Swedish, with its own
exit code; a traceback is shown only with ``--debug``.
"""

from __future__ import annotations

import sys
from functools import wraps
from pathlib import Path

import click

from . import __version__, clisv, pipeline
from .content import DEFAULT_ORGANISATIONER, is_shared_arende, is_utskick
from .errors import BeslutError

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
  7  e-post: inställningar saknas, breven saknas eller är inaktuella"""

arende_argument = click.argument("arende", metavar="ÄRENDE", type=click.Path(path_type=Path))


def common_options(command):
    """Add --organisationer and --out, which every command takes."""
    command = click.option(
        "--out",
        "out",
        type=click.Path(file_okay=False, path_type=Path),
        metavar="MAPP",
        default=Path("out"),
        show_default=True,
        help="Mapp där dokumenten skrivs. Varje ärende och utskick får en egen undermapp.",
    )(command)
    command = click.option(
        "--organisationer",
        "organisationer",
        type=click.Path(dir_okay=False, path_type=Path),
        metavar="FIL",
        default=DEFAULT_ORGANISATIONER,
        show_default=True,
        help="Organisationsregistret (YAML) där organisationer och mottagare slås upp.",
    )(command)
    return command


def reports_errors(command):
    """Turn a BeslutError into a Swedish message on stderr and its exit code."""

    @wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except BeslutError as e:
            if click.get_current_context().find_root().params.get("debug"):
                raise
            click.secho(f"Fel: {e.format()}", fg="red", err=True)
            sys.exit(e.exit_code)

    return wrapper


def report(result: pipeline.Result) -> None:
    """Print the files written and any warnings."""
    for warning in result.warnings:
        click.secho(f"Varning: {warning}", fg="yellow", err=True)
    for path in result.files:
        click.echo(f"Skrev {path}")


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


organisation_option = click.option(
    "--organisation",
    "only",
    multiple=True,
    metavar="ID",
    help="För ett gemensamt ärende: bara denna organisation (flaggan kan upprepas).",
)
workers_option = click.option(
    "--workers",
    type=click.IntRange(1, 16),
    default=None,
    metavar="ANTAL",
    help="Antal parallella arbetare i en körning för många mottagare (standard: en per kärna).",
)


@main.command()
@arende_argument
@common_options
@organisation_option
@reports_errors
def validate(arende: Path, organisationer: Path, out: Path, only: tuple[str, ...]) -> None:
    """Kontrollera ett ärende (eller ett utskick) utan att skriva något.

    Läser arende.yaml, kontrollerar alla fält, att organisationen finns i registret och
    att varje bilaga finns. Felen skrivs ut med fil, rad och fält. För ett gemensamt
    ärende kontrolleras varje organisations version, och det som var och en ändrar visas.
    Är ÄRENDE ett utskick (en mapp med utskick.yaml) kontrolleras fält, mottagare och
    kopplingsfält.
    """
    if is_utskick(arende):
        loaded, recipients = pipeline.validate_utskick(arende, organisationer)
        click.echo(f"OK: {loaded.source} (följebrev till {len(recipients)} mottagare).")
        return
    for loaded in pipeline.validate_all(arende, organisationer, list(only) or None):
        kind = loaded.organisation.dokumenttyp.lower()
        changed = f"; ändrar: {', '.join(loaded.overrides)}" if loaded.overrides else ""
        click.echo(
            f"OK: {loaded.source} ({kind} för {loaded.organisation.namn}, "
            f"{len(loaded.arende.bilagor)} bilagor{changed})."
        )


def run_arende(arende: Path, organisationer: Path, out: Path, only: tuple[str, ...], workers,
               *, pdf: bool, with_bundle: bool) -> None:
    """Produce one ärende (or each organisation's version of a shared one) and report."""
    if is_shared_arende(arende):
        outcome = pipeline.run_shared(arende, organisationer, out, only=list(only) or None, pdf=pdf,
                                      with_bundle=with_bundle, workers=workers,
                                      show_progress=sys.stderr.isatty())
        sys.exit(summarise(outcome))
    loaded = pipeline.validate_all(arende, organisationer, list(only) or None)[0]
    if with_bundle:
        report(pipeline.bundle(loaded, out))
    else:
        report(pipeline.render(loaded, out, pdf=pdf))


@main.command()
@arende_argument
@common_options
@organisation_option
@workers_option
@click.option("--pdf", is_flag=True, help="Skriv också en PDF/A (taggad, sv-SE) bredvid .docx-filen.")
@reports_errors
def render(arende: Path, organisationer: Path, out: Path, only: tuple[str, ...], workers, pdf: bool) -> None:
    """Skapa beslutsunderlaget (bolag) eller tjänsteutlåtandet (nämnd) som Word-fil.

    Skriver OUT/<ärendets mapp>/beslutsunderlag.docx eller tjänsteutlåtande.docx; för ett
    gemensamt ärende OUT/<ärendets mapp>/<id>/… per organisation, med en manifest.json.
    Andra filer i mappen lämnas orörda.
    """
    run_arende(arende, organisationer, out, only, workers, pdf=pdf, with_bundle=False)


@main.command()
@arende_argument
@common_options
@organisation_option
@workers_option
@reports_errors
def build(arende: Path, organisationer: Path, out: Path, only: tuple[str, ...], workers) -> None:
    """Allt i ett: kontrollera, skapa Word-fil och PDF/A, och sätt ihop handlingar.pdf.

    handlingar.pdf är beslutsunderlaget följt av alla bilagor. Bilagor i Word-,
    OpenDocument-, PowerPoint-, Excel- och bildformat görs om till PDF. Varje del får ett
    bokmärke och egna sidnummer, och varje bilagesida märks "Bilaga N" uppe till höger.
    ("beslut bundle" är samma kommando.)

    För ett gemensamt ärende (en mapp med organisationer/<id>.yaml) görs detta för
    varje organisation, och en manifest.json listar resultatet.
    """
    run_arende(arende, organisationer, out, only, workers, pdf=True, with_bundle=True)


main.add_command(build, name="bundle")


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
def letters(utskick: Path, organisationer: Path, out: Path, till: tuple[str, ...], pdf: bool, eml: bool,
            workers: int | None) -> None:
    """Skapa ett följebrev per mottagare.

    UTSKICK är utskickets mapp eller dess utskick.yaml. Breven skrivs till
    OUT/<utskick>/<id>.docx (och .pdf), med en manifest.json som listar varje fil,
    mottagare, antal sidor och kontrollsumma. Om ett brev misslyckas görs de andra
    ändå; felen listas på slutet och slutkoden blir 1.
    """
    if eml and not pdf:
        raise click.UsageError("--eml kräver --pdf: e-postmeddelandet har brevets PDF som bilaga.")
    outcome = pipeline.letters(utskick, organisationer, out, till=list(till) or None, pdf=pdf, eml=eml,
                               workers=workers, show_progress=sys.stderr.isatty())
    sys.exit(summarise(outcome))


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
def send(utskick: Path, organisationer: Path, out: Path, till: tuple[str, ...], skarpt: bool, igen: bool,
         smtp_konfig: Path | None, per_minut: float | None, tidsgrans: float | None) -> None:
    """Skicka följebreven med e-post, ett meddelande per mottagare med brevet som PDF.

    Skickar bara brev som redan skapats med 'beslut letters UTSKICK --pdf'; saknas ett
    brev eller har något ändrats sedan dess skickas inget. Utan --skarpt visas bara vad
    som skulle skickas. Varje försök skrivs i OUT/<utskick>/utskick-logg.json, så en ny
    körning skickar bara till dem som inte redan fått brevet. E-postservern anges i
    miljövariabler (BESLUT_SMTP_HOST, _PORT, _SAKERHET, _ANVANDARE, _LOSENORD) eller i
    en inställningsfil, aldrig på kommandoraden.
    """
    from . import send as mailing

    plan = mailing.plan_send(utskick, organisationer, out, till=list(till) or None, igen=igen)
    try:
        settings, warnings = mailing.load_smtp_settings(smtp_konfig, per_minut=per_minut, tidsgrans=tidsgrans)
        problem = None
    except BeslutError as e:
        if skarpt:
            raise
        settings, warnings, problem = None, [], e.message
    for warning in warnings:
        click.secho(f"Varning: {warning}", fg="yellow", err=True)
    for line in mailing.format_plan(plan, settings, problem):
        click.echo(line)
    count = len(plan.having(mailing.SKICKA))
    if not skarpt:
        click.echo(f"Provkörning: inget skickades. Lägg till --skarpt för att skicka "
                   f"{mailing.count_messages(count)}.")
        return
    report = mailing.run_send(plan, settings, on_attempt=lambda d: click.echo(mailing.format_attempt(d)))
    lines, errors = mailing.format_report(report)
    for line in lines:
        click.echo(line)
    for line in errors:
        click.secho(line, fg="red", err=True)
    sys.exit(1 if errors else 0)


def summarise(report) -> int:
    """Print a batch's summary and failures; return the exit code (1 if any failed)."""
    for outcome in report.outcomes:
        for warning in outcome.warnings:
            click.secho(f"Varning ({outcome.recipient}): {warning}", fg="yellow", err=True)
    ok = len(report.outcomes) - len(report.failed)
    files = len(report.files)
    click.echo(f"Klart: {ok} av {len(report.outcomes)} mottagare, {files} filer. Manifest: {report.manifest}")
    if report.failed:
        click.secho(f"{len(report.failed)} misslyckades:", fg="red", err=True)
        for outcome in report.failed:
            click.secho(f"  {outcome.recipient} ({outcome.name}): {outcome.error}", fg="red", err=True)
        return 1
    return 0


if __name__ == "__main__":
    main()
