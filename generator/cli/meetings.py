"""The CLI's commands for a sammanträde: agenda (kallelse and sammanträdeshandlingar) and minutes (protokoll).

``shell`` reports the errors and exits.
"""

from __future__ import annotations

from pathlib import Path

import click

from .. import pipeline
from .shell import common_options, main


@main.command()
@click.argument("sammantrade", metavar="SAMMANTRÄDE", type=click.Path(path_type=Path))
@common_options
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
    with pipeline.early_converter(True) as converters:
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
    with pipeline.early_converter(True) as converters:
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
    for p in result.loaded.omedelbart_justerade:
        own = result.loaded.anslag_for(p)
        click.echo(f"{p.label} ({p.rubrik}) är omedelbart justerad {own.justerat.isoformat()}: anslaget sätts upp "
                   f"{own.uppsatt.isoformat()}; sista dag att överklaga är {own.sista_dag.isoformat()}.")
    for warning in result.warnings:
        click.secho(f"Varning: {warning}", fg="yellow", err=True)
    for path in result.files:
        click.echo(f"Skrev {path}")
    for path in result.removed:
        click.echo(f"Tog bort {path} (paragrafen finns inte längre i protokollet)")
    passed = sum(not any(v.values()) for v in result.conformance.values())
    click.echo(f"PDF/A-2a och PDF/UA-1 enligt kontrollen: {passed} av {len(result.conformance)} PDF-filer.")
    click.echo(f"Klart. Manifest: {result.manifest}")

