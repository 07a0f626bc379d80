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
from .content import DEFAULT_ORGANISATIONER, is_utskick
from .errors import BeslutError
from .runner import Report
from .templates import check_template_dir
from .wording import wording_for

clisv.install()

EXIT_CODES = """\b
Slutkoder:
  0  klart
  1  några mottagare i en körning misslyckades (de listas)
  2  fel i kommandoraden
  3  fel i innehållet (YAML, organisation, bilaga saknas)
  4  fel i en Word-mall
  5  PDF-konverteringen misslyckades (LibreOffice)
  6  en bilaga går inte att lägga i handlingarna"""

arende_argument = click.argument("arende", metavar="ÄRENDE", type=click.Path(path_type=Path))


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


def report(result: Report) -> int:
    """Print what a run did (files, warnings, removed files, failures); return its exit code."""
    for outcome in result.outcomes:
        for warning in outcome.warnings:
            click.secho(f"Varning ({outcome.recipient}): {warning}", fg="yellow", err=True)
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
def validate(arende: Path, organisationer: Path, out: Path, mallar: Path | None,
             only: tuple[str, ...]) -> None:
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
    for loaded in pipeline.validate_arende(arende, organisationer, list(only) or None):
        kind = wording_for(loaded.organisation)["dokumenttyp"].lower()
        changed = f"; ändrar: {', '.join(loaded.overrides)}" if loaded.overrides else ""
        click.echo(
            f"OK: {loaded.source} ({kind} för {loaded.organisation.namn}, "
            f"{len(loaded.arende.bilagor)} bilagor{changed})."
        )


def run_arende(arende: Path, organisationer: Path, out: Path, mallar: Path | None,
               only: tuple[str, ...], workers: int | None, *, pdf: bool, bundle: bool) -> None:
    """Plan and run one ärende (or each organisation's version of a shared one); exit."""
    plan = pipeline.plan_arende(arende, organisationer, out, only=list(only) or None, pdf=pdf,
                                bundle=bundle, templates=mallar)
    sys.exit(report(pipeline.run(plan, workers=workers, show_progress=sys.stderr.isatty())))


@main.command()
@arende_argument
@common_options
@organisation_option
@workers_option
@click.option("--pdf", is_flag=True, help="Skriv också en PDF/A (taggad, sv-SE) bredvid .docx-filen.")
@reports_errors
def render(arende: Path, organisationer: Path, out: Path, mallar: Path | None,
           only: tuple[str, ...], workers: int | None, pdf: bool) -> None:
    """Skapa beslutsunderlaget (bolag) eller tjänsteutlåtandet (nämnd) som Word-fil.

    Skriver OUT/<ärendets mapp>/beslutsunderlag.docx eller tjänsteutlåtande.docx; för ett
    gemensamt ärende OUT/<ärendets mapp>/<id>/… per organisation. En manifest.json
    listar filerna. Andra filer i mappen lämnas orörda.
    """
    run_arende(arende, organisationer, out, mallar, only, workers, pdf=pdf, bundle=False)


@main.command()
@arende_argument
@common_options
@organisation_option
@workers_option
@reports_errors
def build(arende: Path, organisationer: Path, out: Path, mallar: Path | None,
          only: tuple[str, ...], workers: int | None) -> None:
    """Allt i ett: kontrollera, skapa Word-fil och PDF/A, och sätt ihop handlingar.pdf.

    handlingar.pdf är beslutsunderlaget följt av alla bilagor. Bilagor i Word-,
    OpenDocument-, PowerPoint-, Excel- och bildformat görs om till PDF (en gång per
    filinnehåll: en oförändrad bilaga återanvänds från OUT/.cache/). Varje del får ett
    bokmärke och egna sidnummer, och varje bilagesida märks "Bilaga N" uppe till höger.
    Filerna byts ut först när allt lyckats, så ett misslyckat bygge lämnar det förra
    helt. ("beslut bundle" är samma kommando.)

    För ett gemensamt ärende (en mapp med organisationer/<id>.yaml) görs detta för
    varje organisation, och en manifest.json listar resultatet.
    """
    run_arende(arende, organisationer, out, mallar, only, workers, pdf=True, bundle=True)


main.add_command(build, name="bundle")


@main.command()
@click.argument("utskick", metavar="UTSKICK", type=click.Path(path_type=Path))
@common_options
@click.option(
    "--till",
    "till",
    multiple=True,
    metavar="MOTTAGARE",
    help="Skicka bara till 'bolag', 'nämnder', 'alla' eller angivna id (flaggan kan upprepas). "
    "Utan flaggan gäller utskickets egen 'mottagare'.",
)
@click.option("--pdf", is_flag=True, help="Skriv också varje brev som PDF/A.")
@workers_option
@reports_errors
def letters(utskick: Path, organisationer: Path, out: Path, mallar: Path | None,
            till: tuple[str, ...], pdf: bool, workers: int | None) -> None:
    """Skapa ett följebrev per mottagare.

    UTSKICK är utskickets mapp eller dess utskick.yaml. Breven skrivs till
    OUT/<utskick>/<id>.docx (och .pdf), med en manifest.json som listar varje fil,
    mottagare, antal sidor och kontrollsumma. Mappen speglar den senaste körningen:
    brev från en tidigare körning till mottagare som inte är med nu tas bort (de
    listas). Om ett brev misslyckas görs de andra ändå; felen listas på slutet och
    slutkoden blir 1.
    """
    plan = pipeline.plan_utskick(utskick, organisationer, out, till=list(till) or None, pdf=pdf,
                                 templates=mallar)
    sys.exit(report(pipeline.run(plan, workers=workers, show_progress=sys.stderr.isatty())))


@main.command()
@click.argument("mapp", metavar="MAPP", required=False,
                type=click.Path(file_okay=False, path_type=Path))
@reports_errors
def templates(mapp: Path | None) -> None:
    """Kontrollera Word-mallar innan de används.

    MAPP är en mapp med beslutsunderlag.docx och foljebrev.docx (utan MAPP: mallarna
    som följer med). Kontrollerar att varje mall går att öppna, bara använder variabler
    som finns, har formatmallarna som texten behöver och sidnummer i sidfoten, och att
    ett exempel går att fylla i. Slutkod 4 och en lista över felen om något inte stämmer.

    \b
    Så ändrar du en mall:
      1. Kopiera templates/docx/ till en egen mapp, t.ex. mina-mallar/.
      2. Ändra i Word: text, formatmallar, sidhuvud, sidfot. Låt {{ … }} stå kvar.
      3. beslut templates mina-mallar
      4. beslut build ÄRENDE --mallar mina-mallar
    """
    for path in check_template_dir(mapp):
        click.echo(f"OK: {path}")


@main.command()
@common_options
@click.option("--innehall", "content", type=click.Path(file_okay=False, path_type=Path), metavar="MAPP",
              default=Path("content"), show_default=True,
              help="Innehållsmappen med arenden/ och utskick/.")
@click.option("--host", default="127.0.0.1", show_default=True, metavar="ADRESS",
              help="Adress att lyssna på. Annat än den egna datorn kräver inloggning.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, metavar="PORT",
              help="Port att lyssna på.")
@click.option("--anvandare", "users", type=click.Path(dir_okay=False, path_type=Path), metavar="FIL",
              help="Användarfil med hashade lösenord (inloggning med användarnamn och lösenord).")
@click.option("--betrott-huvud", "trusted_header", metavar="NAMN",
              help="HTTP-huvud där stadens omvända proxy anger inloggad användare, t.ex. X-Remote-User.")
@click.option("--ny-anvandare", "new_user", metavar="NAMN",
              help="Lägg till eller byt lösenord för NAMN i --anvandare-filen och avsluta.")
@click.option("--omvandlare", "converters", type=click.IntRange(1, 8), default=1, show_default=True,
              metavar="ANTAL", help="Antal varma LibreOffice-omvandlare (ca 200 MB minne var).")
@reports_errors
def web(organisationer: Path, out: Path, mallar: Path | None, content: Path, host: str, port: int, users: Path | None,
        trusted_header: str | None, new_user: str | None, converters: int) -> None:
    """Starta webbsidan där handläggare skriver, kontrollerar och skapar ärenden i webbläsaren.

    Sidan nås på http://ADRESS:PORT/. Som standard lyssnar den bara på den egna datorn;
    för att andra ska nå den krävs --anvandare eller --betrott-huvud (se docs/web.md).
    """
    from .web.server import serve

    if new_user:
        from .web.security import add_user

        if users is None:
            raise click.UsageError("Ange användarfilen med --anvandare FIL.")
        add_user(users, new_user, click.prompt("Lösenord", hide_input=True, confirmation_prompt="Upprepa lösenordet"))
        click.echo(f"Sparade {new_user} i {users}.")
        return
    serve(content=content, organisationer=organisationer, out=out, host=host, port=port, users=users,
          trusted_header=trusted_header, converters=converters, templates=mallar)


if __name__ == "__main__":
    main()
