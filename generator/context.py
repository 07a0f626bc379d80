"""The template context: what the Word template may use, built from a validated ärende.

The keys of ``build_context`` are the only names the beslutsunderlag template can use
(``PAPER_VARIABLES``); ``render`` renders with a strict undefined, and
``templates.check_template_dir`` reports any other name as an error.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel

from .arendefields import fields_of
from .bilagor import PlannedBilaga
from .content import LoadedArende
from .markdown import MarkdownRenderer
from .model import ID, MARKDOWN
from .wording import wording_for

ORGANISATION_VARIABLES = ("dokumenttyp", "avsandare", "organisation", "beslutsinstans", "bedomning_rubrik")
"""The variables that come from the organisation (``wording``), not from the ärende."""



def paper_variables(model: type[BaseModel] | None = None) -> frozenset[str]:
    """Return the variables of the paper: the organisation's words and each field of the ärende
    (``arendefields``, ``model`` if given) by its attribute name."""
    return frozenset({*ORGANISATION_VARIABLES, *(f.name for f in fields_of(model) if f.spec.kind != ID)})


PAPER_VARIABLES = paper_variables()
"""The variables the beslutsunderlag template may use."""


def build_context(
    loaded: LoadedArende, bilagor: tuple[PlannedBilaga, ...], markdown: MarkdownRenderer
) -> dict:
    """Return the context for the beslutsunderlag template."""
    arende, org = loaded.arende, loaded.organisation
    words = wording_for(org)
    context: dict[str, Any] = {
        "dokumenttyp": words["dokumenttyp"],
        "avsandare": org.avsandare,
        "organisation": org.namn,
        "beslutsinstans": words["beslutsinstans"],
        "bedomning_rubrik": words["bedomning_rubrik"],
    }
    context.update(_values(arende, markdown))
    context["bilagor"] = list(bilagor)  # as planned: numbered, and each with its file found
    return context


def _values(part: BaseModel, markdown: MarkdownRenderer) -> dict[str, Any]:
    """Return each declared field of ``part`` as the template uses it, by attribute name.

    Running text becomes a Word subdocument (a list of texts a numbered list), a date
    ÅÅÅÅ-MM-DD, an empty optional field "-", a part a dict (a list of parts a list).
    """
    values: dict[str, Any] = {}
    for field in fields_of(type(part)):
        value = getattr(part, field.name)
        if field.spec.kind == ID:
            continue  # the organisation is its name, from the registry
        if field.part is not None:
            values[field.name] = ([_values(item, markdown) for item in value] if field.is_list
                                  else _values(value, markdown))
        elif field.spec.kind == MARKDOWN:
            values[field.name] = (markdown.numbered_list(value) if field.is_list else markdown.subdoc(value))
        elif value is None:
            values[field.name] = "-"
        else:
            values[field.name] = value.isoformat() if isinstance(value, date) else value
    return values
