"""The CLI's commands for an utskick: letters (one följebrev per mottagare) and send (e-post).

``send`` also sends a sammanträde's protokollsutdrag (``pipeline.plan_mailing`` tells them
apart); ``shell`` reports the errors and exits.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import pipeline
from ..errors import BeslutError
from .shell import common_options, main, report, workers_option

utskick_argument = click.argument("utskick", metavar="UTSKICK", type=click.Path(path_type=Path))
till_option = click.option(
    "--till",
    "org_ids",
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
def letters(utskick: Path, organisationer: Path, out: Path, mallar: Path | None,
            org_ids: tuple[str, ...], pdf: bool, eml: bool, workers: int | None) -> int:
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
    with pipeline.early_converter(pdf) as converters:
        plan = pipeline.plan_utskick(utskick, organisationer, out, org_ids=list(org_ids) or None, pdf=pdf,
                                     eml=eml, templates=mallar)
        code = report(pipeline.run(plan, workers=workers, show_progress=sys.stderr.isatty(),
                                   converter_factory=converters))
    return code


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
def send(utskick: Path, organisationer: Path, out: Path, mallar: Path | None, org_ids: tuple[str, ...],
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
    mailing = pipeline.plan_mailing(utskick, organisationer, out, org_ids=list(org_ids) or None, igen=igen,
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

