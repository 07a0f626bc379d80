"""The CLI's shell: the ``beslut`` group, the options its commands share, and the one exit.

The commands (``papers``, ``utskick``, ``meetings``) parse arguments and report; the work is
done by ``generator.pipeline``, the front door, and the CLI imports nothing else of
``generator`` but ``errors`` (``tests/test_front_door.py`` checks it). Every error the user
can cause is a ``BeslutError`` and is shown here, in Swedish, with its own exit code; a
traceback is shown only with ``--debug``. A command returns its exit code and
``BeslutGroup.invoke`` is the one place that exits, for every command of the program
(``beslut web`` too, which the web face owns: ``generator/beslut.py`` joins them).

A command that converts starts LibreOffice first (``pipeline.early_converter``) and lets it
start while the rest loads: ``pipeline`` imports the engine only in the functions that use it.
"""

from __future__ import annotations

import copy
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from .. import __version__, pipeline
from ..errors import (
    EXIT_BUG,
    EXIT_INTERRUPTED,
    BeslutError,
    EnvironmentProblem,
    describe_os_error,
)
from . import swedish

if TYPE_CHECKING:
    from ..pipeline import Report

swedish.install()

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


def with_common_options(command: click.Command) -> click.Command:
    """Return a copy of ``command`` (another face's) that takes, before its own, the options every command takes.

    They are --organisationer, --out and --mallar, with the same defaults and help as here;
    ``command``'s callback takes them as ``organisationer``, ``out`` and ``mallar``.
    """

    @click.command()
    @common_options
    def shared(organisationer: Path, out: Path, mallar: Path | None) -> None:
        """Only its options are used."""

    adopted = copy.copy(command)
    adopted.params = [*shared.params, *command.params]
    return adopted


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
            click.secho(f"  {outcome.org_id} ({outcome.name}): {outcome.error}", fg="red", err=True)
    return result.exit_code


class SwedishCommand(click.Command):
    """A command whose help shows Swedish placeholders."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("options_metavar", "[FLAGGOR]")
        super().__init__(*args, **kwargs)


class BeslutGroup(click.Group):
    """The ``beslut`` group: Swedish placeholders in its help, and the one place the program exits."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("options_metavar", "[FLAGGOR]")
        kwargs.setdefault("subcommand_metavar", "KOMMANDO [ARGUMENT]...")
        super().__init__(*args, **kwargs)
        self.command_class = SwedishCommand

    def invoke(self, ctx: click.Context):
        """Run the command; show every failure as a Swedish message and its exit code, a traceback only with --debug.

        Our own errors (``BeslutError``) carry their message and code; an operating-system
        error (a folder that cannot be written, a full disk) is exit 7; Ctrl-C is "Avbrutet."
        and 130; anything else is a bug in beslut, said so, and 70. A command returns its exit
        code (None is 0); this is where the program exits.
        """
        debug = ctx.params.get("debug")
        try:
            code = super().invoke(ctx)
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


@click.group(
    cls=BeslutGroup,
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
    "org_ids",
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
