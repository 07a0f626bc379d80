"""Swedish for click's own words: help headings, usage line and usage errors.

click translates its messages through ``gettext``; no Swedish catalogue ships with it,
so the strings our users can meet are given here and installed into click's modules.
"""

from __future__ import annotations

import click.core
import click.decorators
import click.exceptions
import click.formatting
import click.parser
import click.types

SWEDISH = {
    "Usage:": "Användning:",
    "Options": "Flaggor",
    "Commands": "Kommandon",
    "Show this message and exit.": "Visa den här hjälpen och avsluta.",
    "Show the version and exit.": "Visa versionen och avsluta.",
    "Error: {message}": "Fel: {message}",
    "Try '{command} {option}' for help.": "Skriv '{command} {option}' för hjälp.",
    "Missing argument": "Argument saknas",
    "Missing option": "Flagga saknas",
    "Missing parameter": "Parameter saknas",
    "Missing {param_type}": "{param_type} saknas",
    "Missing parameter: {param_name}": "Parameter saknas: {param_name}",
    "No such command {name!r}.": "Kommandot {name!r} finns inte.",
    "No such option: {name}": "Flaggan finns inte: {name}",
    "Did you mean {possibility}?": "Menade du {possibility}?",
    "(Possible options: {possibilities})": "(Möjliga flaggor: {possibilities})",
    "Got unexpected extra argument ({args})": "Oväntat extra argument ({args})",
    "Got unexpected extra arguments ({args})": "Oväntade extra argument ({args})",
    "Option {name!r} requires an argument.": "Flaggan {name!r} behöver ett värde.",
    "Invalid value for {param_hint}: {message}": "Ogiltigt värde för {param_hint}: {message}",
    "Invalid value: {message}": "Ogiltigt värde: {message}",
    "{value!r} is not one of {choices}.": "{value!r} är inte ett av {choices}.",
    "{value!r} is not {choice}.": "{value!r} är inte {choice}.",
    "argument": "argument",
    "option": "flagga",
    "parameter": "parameter",
    "default: {default}": "standard: {default}",
    "required": "krävs",
}


def _(message: str) -> str:
    """Return the Swedish for one of click's messages, or the message itself."""
    return SWEDISH.get(message, message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """Return the Swedish for the singular or plural form of one of click's messages."""
    return _(singular if count == 1 else plural)


def install() -> None:
    """Make click speak Swedish in every module that has user-visible strings."""
    for module in (click.core, click.decorators, click.exceptions, click.formatting, click.parser, click.types):
        if hasattr(module, "_"):
            module._ = _
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext
