"""Swedish for click's own words: help headings, usage line, usage errors and type names.

click translates its messages through ``gettext``; no Swedish catalogue ships with it,
so every message click can show (``SWEDISH``, one entry per string click passes to
``gettext``) is given here and installed into click's modules. ``tests/test_cli_swedish.py``
reads click's source and fails if a click upgrade brings a message without an entry.
"""

from __future__ import annotations

import click.core
import click.decorators
import click.exceptions
import click.formatting
import click.parser
import click.termui
import click.types
import click.utils

MODULES = (
    click.core, click.decorators, click.exceptions, click.formatting, click.parser,
    click.termui, click.types, click.utils,
)
"""click's modules whose user-visible strings go through ``gettext``."""

SWEDISH = {
    # help
    "Usage:": "Användning:",
    "Options": "Flaggor",
    "Positional arguments": "Argument",
    "Commands": "Kommandon",
    "Show this message and exit.": "Visa den här hjälpen och avsluta.",
    "Show the version and exit.": "Visa versionen och avsluta.",
    "%(prog)s, version %(version)s": "%(prog)s, version %(version)s",
    "default: {default}": "standard: {default}",
    "env var: {var}": "miljövariabel: {var}",
    "required": "krävs",
    "(dynamic)": "(beräknas)",
    "deprecated": "utgår",
    "DeprecationWarning: The command {name!r} is deprecated.{extra_message}":
        "Varning: kommandot {name!r} utgår.{extra_message}",
    "DeprecationWarning: The {param_type} {name!r} is deprecated.{extra_message}":
        "Varning: {param_type} {name!r} utgår.{extra_message}",
    "Do you want to continue?": "Vill du fortsätta?",
    "Confirm the action without prompting.": "Bekräfta utan att fråga.",
    # errors around the message
    "Error: {message}": "Fel: {message}",
    "Try '{command} {option}' for help.": "Skriv '{command} {option}' för hjälp.",
    "Aborted!": "Avbrutet.",
    "unknown error": "okänt fel",
    # usage errors
    "Missing command.": "Kommando saknas. Välj ett av kommandona nedan.",
    "Missing argument": "Argument saknas:",
    "Missing option": "Flagga saknas:",
    "Missing parameter": "Parameter saknas:",
    "Missing {param_type}": "{param_type} saknas:",
    "Missing parameter: {param_name}": "Parameter saknas: {param_name}",
    "No such command {name!r}.": "Kommandot {name!r} finns inte.",
    "No such option {name!r}.": "Flaggan {name!r} finns inte.",
    "Did you mean {possibility}?": "Menade du {possibility}?",
    "(Did you mean one of: {possibilities}?)": "(Menade du någon av: {possibilities}?)",
    "Got unexpected extra argument ({args})": "Oväntat extra argument ({args}).",
    "Got unexpected extra arguments ({args})": "Oväntade extra argument ({args}).",
    "Option {name!r} requires an argument.": "Flaggan {name!r} behöver ett värde.",
    "Option {name!r} requires {nargs} arguments.": "Flaggan {name!r} behöver {nargs} värden.",
    "Option {name!r} does not take a value.": "Flaggan {name!r} tar inget värde.",
    "Argument {name!r} takes {nargs} values.": "Argumentet {name!r} tar {nargs} värden.",
    "Takes {nargs} values but 1 was given.": "Tar {nargs} värden men fick 1.",
    "Takes {nargs} values but {len} were given.": "Tar {nargs} värden men fick {len}.",
    "Value must be an iterable.": "Värdet ska vara en lista.",
    "Invalid start character for option ({option})": "Ogiltigt första tecken i flaggan ({option})",
    "Invalid value for {param_hint}: {message}": "Ogiltigt värde för {param_hint}: {message}",
    "Invalid value: {message}": "Ogiltigt värde: {message}",
    "Could not open file {filename!r}: {message}": "Kunde inte öppna filen {filename!r}: {message}",
    # values of a type
    "{value!r} is not one of {choices}.": "{value!r} är inte ett av {choices}.",
    "{value!r} is not {choice}.": "{value!r} är inte {choice}.",
    "Choose from:\n\t{choices}": "Välj bland:\n\t{choices}",
    "Choice({choices})": "Val({choices})",
    "{value} is not in the range {range}.": "{value} ligger utanför det tillåtna intervallet {range}.",
    "{value!r} is not a valid {number_type}.": "{value!r} är inget giltigt {number_type}.",
    "{value!r} is not a valid boolean. Recognized values: {states}":
        "{value!r} är inget giltigt ja/nej-värde. Giltiga värden: {states}",
    "{value!r} is not a valid UUID.": "{value!r} är inget giltigt UUID.",
    "{value!r} does not match the format {format}.": "{value!r} har inte formen {format}.",
    "{value!r} does not match the formats {formats}.": "{value!r} har inte någon av formerna {formats}.",
    "{len_type} values are required, but {len_value} was given.":
        "{len_type} värden krävs, men {len_value} gavs.",
    "{len_type} values are required, but {len_value} were given.":
        "{len_type} värden krävs, men {len_value} gavs.",
    # paths
    "file": "fil",
    "directory": "mapp",
    "path": "sökväg",
    "{name} {filename!r} does not exist.": "{name} {filename!r} finns inte.",
    "{name} {filename!r} is a file.": "{name} {filename!r} är en fil, inte en mapp.",
    "{name} {filename!r} is a directory.": "{name} {filename!r} är en mapp, inte en fil.",
    "{name} {filename!r} is not readable.": "{name} {filename!r} går inte att läsa (behörighet saknas).",
    "{name} {filename!r} is not writable.": "{name} {filename!r} går inte att skriva till (behörighet saknas).",
    "{name} {filename!r} is not executable.": "{name} {filename!r} går inte att köra.",
    # prompts and terminal
    "Press any key to continue...": "Tryck på valfri tangent för att fortsätta …",
    "Repeat for confirmation": "Upprepa för att bekräfta",
    "Error: The two entered values do not match.": "Fel: de två värdena är inte lika.",
    "Error: invalid input": "Fel: ogiltig inmatning",
    # mistakes in the program itself, not the user's (translated so nothing is English)
    "Could not determine name for option with declarations {decls!r}":
        "Programfel: flaggan {decls!r} saknar namn",
    "No options defined but a name was passed ({name}). Did you mean to declare an argument "
    "instead? Did you mean to pass '--{name}'?":
        "Programfel: namnet ({name}) gavs utan flaggor. Ska det vara ett argument, eller '--{name}'?",
    "Name '{name}' defined twice": "Programfel: namnet '{name}' finns två gånger",
    "Boolean option {decl!r} cannot use the same flag for true/false.":
        "Programfel: ja/nej-flaggan {decl!r} har samma namn för ja och nej.",
    "Arguments take exactly one parameter declaration, got {length}: {decls}.":
        "Programfel: ett argument har exakt ett namn, fick {length}: {decls}.",
    "Unknown standard stream '{name}'": "Programfel: okänd standardström '{name}'",
    "Unknown color {colour!r}": "Programfel: okänd färg {colour!r}",
    # words click puts into other messages
    "argument": "argument",
    "option": "flagga",
    "parameter": "parameter",
}

TYPE_NAMES = {
    click.types.StringParamType: "text",
    click.types.IntParamType: "heltal",
    click.types.IntRange: "heltal",
    click.types.FloatParamType: "decimaltal",
    click.types.FloatRange: "decimaltal",
    click.types.BoolParamType: "ja/nej-värde",
    click.types.UUIDParameterType: "UUID",
    click.types.DateTime: "datum och tid",
    click.types.File: "filnamn",
}
"""click's parameter types and their Swedish names (in messages and default metavars)."""


def _(message: str) -> str:
    """Return the Swedish for one of click's messages, or the message itself."""
    return SWEDISH.get(message, message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """Return the Swedish for the singular or plural form of one of click's messages."""
    return _(singular if count == 1 else plural)


def install() -> None:
    """Make click speak Swedish in every module that has user-visible strings."""
    for module in MODULES:
        if hasattr(module, "_"):
            vars(module)["_"] = _
        if hasattr(module, "ngettext"):
            vars(module)["ngettext"] = ngettext
    for cls, name in TYPE_NAMES.items():
        cls.name = name
