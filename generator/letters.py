"""Följebrev: one cover letter per recipient, with recipient-specific merge fields.

The letter's ``rubrik`` and ``brödtext`` may use merge fields written ``{{ organisation }}``.
They are filled in by plain substitution from a fixed list (``MERGE_FIELDS``), never by
evaluating template code; a field that is not on the list is an error before any letter
is produced.
"""

from __future__ import annotations

import re
from pathlib import Path

from .content import LoadedUtskick
from .errors import ContentError
from .markdown import MarkdownRenderer
from .model import Organisation
from .render import render_docx
from .wording import wording_for

MERGE_FIELD = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")

MERGE_FIELDS = {
    "organisation": "organisationens namn, t.ex. 'Förskolenämnden' eller 'Liseberg AB'",
    "mottagare": "den som tar emot brevet: förvaltningen för en nämnd, bolaget för ett bolag",
    "förvaltning": "förvaltningen (för ett bolag: bolagets namn)",
    "beslutsorgan": "'nämnden' eller 'styrelsen'",
    "e-post": "organisationens funktionsbrevlåda",
    "id": "organisationens id i registret",
}
"""The merge fields a letter may use, with what each one becomes."""


def merge_values(org: Organisation) -> dict[str, str]:
    """Return the value of every merge field for ``org``."""
    return {
        "organisation": org.namn,
        "mottagare": org.avsandare,
        "förvaltning": org.avsandare,
        "beslutsorgan": wording_for(org)["beslutsorgan"],
        "e-post": org.epost or "",
        "id": org.id,
    }


def mottagare_block(org: Organisation) -> list[str]:
    """Return the lines of the recipient block."""
    lines = [org.avsandare]
    if org.epost:
        lines.append(org.epost)
    return lines


def check_merge_fields(loaded: LoadedUtskick) -> None:
    """Raise ContentError if the rubrik or brödtext uses a merge field that does not exist."""
    for key in ("rubrik", "brödtext"):
        text = loaded.doc.data.get(key, "")
        for match in MERGE_FIELD.finditer(text):
            name = match.group(1)
            if name not in MERGE_FIELDS:
                offset = text[: match.start()].count("\n") + (1 if key == "brödtext" else 0)
                line = (loaded.doc.line_of((key,)) or 0) + offset
                known = ", ".join("{{ " + f + " }}" for f in MERGE_FIELDS)
                raise ContentError(
                    f"okänt kopplingsfält '{{{{ {name} }}}}'. Kopplingsfält som finns: {known}.",
                    file=loaded.source,
                    line=line or None,
                    field=key,
                )


def merge(text: str, values: dict[str, str]) -> str:
    """Return ``text`` with every merge field replaced by its (Markdown-escaped) value."""
    return MERGE_FIELD.sub(lambda m: _escape_markdown(values[m.group(1)]), text)


def _escape_markdown(value: str) -> str:
    return re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", value)


def letter_rubrik(loaded: LoadedUtskick, org: Organisation) -> str:
    """Return the letter's rubrik for ``org``, merge fields filled in (plain text, no Markdown)."""
    values = merge_values(org)
    return MERGE_FIELD.sub(lambda m: values[m.group(1)], loaded.utskick.rubrik)


LETTER_VARIABLES = frozenset({"avsandare", "datum", "rubrik", "mottagare_block", "brodtext", "underskrift"})
"""The variables the följebrev template may use."""


def build_letter_context(loaded: LoadedUtskick, org: Organisation, markdown: MarkdownRenderer) -> dict:
    """Return the context for the följebrev template, for one recipient."""
    utskick = loaded.utskick
    values = merge_values(org)
    return {
        "avsandare": utskick.avsandare,
        "datum": utskick.datum.isoformat(),
        "rubrik": letter_rubrik(loaded, org),
        "mottagare_block": mottagare_block(org),
        "brodtext": markdown.subdoc(merge(utskick.brodtext, values)),
        "underskrift": {"namn": utskick.underskrift.namn, "titel": utskick.underskrift.titel},
    }


def render_letter(loaded: LoadedUtskick, org: Organisation, target: Path, template: Path) -> Path:
    """Render the letter to ``org`` with the template at ``template`` into ``target``."""
    utskick = loaded.utskick
    return render_docx(
        template,
        lambda markdown: build_letter_context(loaded, org, markdown),
        target,
        title=letter_rubrik(loaded, org),
        author=utskick.underskrift.namn,
        when=utskick.datum,
        heading_offset=1,
    )
