"""The CLI face of ``beslut``: thin click commands over ``generator.pipeline``, by feature.

``shell`` is the ``beslut`` group, the options the commands share and the one place the
program exits; ``swedish`` is click's own words in Swedish; the commands are in ``papers``
(validate, render, build, review, templates, new), ``utskick`` (letters, send) and
``meetings`` (agenda, minutes). Importing the package registers every command on ``main``.
``beslut web`` is the web face's own command; ``generator/beslut.py`` joins the two faces.
"""

from . import meetings, papers, utskick
from .shell import main, with_common_options

__all__ = ["main", "with_common_options", "meetings", "papers", "utskick"]
