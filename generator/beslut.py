"""The program ``beslut``: the CLI's commands and the web face's ``beslut web`` in one command.

Each face owns its commands (``generator.cli``, ``generator.web.command``) and neither imports
the other; they meet here. The console script ``beslut`` (pyproject's ``[project.scripts]``)
and ``python -m generator`` run ``main``.
"""

from __future__ import annotations

import copy

import click

from . import cli
from .web.command import web


def compose() -> click.Group:
    """Return the CLI's group with ``beslut web`` added (taking the options every command takes).

    A copy: ``generator.cli.main`` itself stays the CLI's commands only.
    """
    program = copy.copy(cli.main)
    program.commands = {**cli.main.commands, web.name or "web": cli.with_common_options(web)}
    return program


main = compose()
