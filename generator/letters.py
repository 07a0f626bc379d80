"""Följebrev: one cover letter per recipient, with recipient-specific merge fields.

The letter's ``rubrik`` and ``brödtext`` may use merge fields written ``{{ organisation }}``.
They are filled in by plain substitution from a fixed list (``MERGE_FIELDS``), never by
evaluating template code; a field that is not on the list is an error before any letter
is produced.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from jinja2 import nodes

from .content import LoadedUtskick
from .errors import BeslutError, ContentError
from .files import docx_entries, fingerprint_of, write_bytes, zip_entries
from .markdown import MarkdownRenderer
from .markdowncheck import parse_markdown
from .model import Organisation
from .render import TemplateEnvironment, jinja_environment, render_document, render_docx
from .templatefile import MAX_TEMPLATE_FILE
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
    return _block(merge_values(org))


def _block(values: dict[str, str]) -> list[str]:
    return [values["mottagare"], *([values["e-post"]] if values["e-post"] else [])]


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
    return _merge_plain(loaded.utskick.rubrik, merge_values(org))


def _merge_plain(text: str, values: dict[str, str]) -> str:
    return MERGE_FIELD.sub(lambda m: values[m.group(1)], text)


LETTER_VARIABLES = frozenset({"avsandare", "datum", "rubrik", "mottagare_block", "brodtext", "underskrift"})
"""The variables the följebrev template may use."""


def build_letter_context(loaded: LoadedUtskick, org: Organisation, markdown: MarkdownRenderer) -> dict:
    """Return the context for the följebrev template, for one recipient."""
    return _letter_context(loaded, merge_values(org), markdown)


def _letter_context(loaded: LoadedUtskick, values: dict[str, str], markdown: MarkdownRenderer) -> dict:
    utskick = loaded.utskick
    return {
        "avsandare": utskick.avsandare,
        "datum": utskick.datum.isoformat(),
        "rubrik": _merge_plain(utskick.rubrik, values),
        "mottagare_block": _block(values),
        "brodtext": markdown.subdoc(merge(utskick.brodtext, values)),
        "underskrift": {"namn": utskick.underskrift.namn, "titel": utskick.underskrift.titel},
    }


def render_letter(loaded: LoadedUtskick, org: Organisation, target: Path, template: Path) -> Path:
    """Render the letter to ``org`` with the template at ``template`` into ``target``.

    The letters of an utskick differ only by the recipient's values, so the letter is
    rendered once per process with a token in place of each value (``LetterSkeleton``)
    and each recipient's file is that one with the values written in. A letter whose
    values or template do not allow that is rendered on its own: the file is the same.
    """
    values = merge_values(org)
    skeleton = letter_skeleton(loaded, template, with_epost=bool(values["e-post"]))
    if skeleton is not None and skeleton.fits(values):
        write_bytes(target, skeleton.fill(values))
        return target
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


def letter_inputs(loaded: LoadedUtskick, org: Organisation, template: Path) -> str:
    """Return the fingerprint of everything the letter to ``org`` is made from.

    The utskick's file, the recipient's entry in the registry, the template's bytes and
    beslut's version (``files.fingerprint_of``): written into ``manifest.json`` with the
    letter, so ``beslut send`` knows a letter is current without rendering it again.
    """
    entry = json.dumps(org.model_dump(mode="json", by_alias=True), ensure_ascii=False, sort_keys=True)
    return fingerprint_of([(loaded.source.name, loaded.source), (f"organisation {org.id}", entry),
                           (template.name, template)])


# --- one rendering per utskick -----------------------------------------------------------

_TOKENS = {key: f"X{secrets.token_hex(6)}Z{index:02d}Q" for index, key in enumerate(MERGE_FIELDS)}
"""A placeholder per merge field: letters and digits only, so Markdown, Jinja and XML keep
it as it is; random per process, so no text contains it."""

_RECIPIENT_VARIABLES = frozenset({"rubrik", "mottagare_block", "brodtext"})
"""The template variables that differ between recipients."""

_INERT = frozenset(" !\"#$%&'()*+,-./:;<=>?@[\\]^_`|~§–—’")
"""Characters a value may hold, besides letters and digits, to be written into a skeleton."""


@dataclass(frozen=True)
class LetterSkeleton:
    """One utskick's letter as .docx zip entries, with a token where each recipient's value goes."""

    entries: tuple[tuple[str, bytes], ...]
    holding: frozenset[int]
    """The indexes of the entries that hold tokens."""
    fields: tuple[str, ...]
    """The merge fields whose tokens the letter holds."""

    def fits(self, values: dict[str, str]) -> bool:
        """Return True when every value the letter holds lands in it as plain text.

        Plain means: Markdown, docxtpl and XML treat it the same as the token it
        replaces. It starts and ends with a letter or digit (so it cannot join a Markdown
        mark or a docxtpl escape beside it), holds no braces, control characters or
        Markdown entity (``&`` only before a space), and cannot start a numbered list.
        """
        return all(_is_plain(values[field]) for field in self.fields)

    def fill(self, values: dict[str, str]) -> bytes:
        """Return the .docx bytes of the letter with ``values`` in place of the tokens."""
        pairs = [(_TOKENS[field].encode(), _xml_text(values[field]).encode()) for field in self.fields]
        entries = []
        for index, (name, blob) in enumerate(self.entries):
            if index in self.holding:
                for token, value in pairs:
                    blob = blob.replace(token, value)
            entries.append((name, blob))
        return zip_entries(entries)


def _is_plain(value: str) -> bool:
    return (value[:1].isalnum() and value[-1:].isalnum()
            and all(char.isalnum() or char in _INERT for char in value)
            and re.search(r"&(?! )|^\d+([.)]|$)", value) is None)


def _xml_text(value: str) -> str:
    """Return ``value`` escaped as lxml writes a text node (quotes stay as they are)."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_SKELETONS: dict[tuple, LetterSkeleton | None] = {}
_MAX_SKELETONS = 8


def letter_skeleton(loaded: LoadedUtskick, template: Path, *, with_epost: bool) -> LetterSkeleton | None:
    """Return the skeleton of ``loaded``'s letter in ``template`` (made once per process), or None.

    None when the letter cannot be one: a merge field outside plain text (in a link
    target, a code span, a footnote label), a template that does more than print a
    recipient's value (a filter, a test, a condition), or a template that fails to render
    (the letter is then rendered on its own and reports the error).
    """
    if not template.is_file() or template.stat().st_size > MAX_TEMPLATE_FILE:
        return None  # rendered alone, which reports it
    data = template.read_bytes()
    key = (str(template), data, loaded.utskick.model_dump_json(), with_epost)
    if key not in _SKELETONS:
        if len(_SKELETONS) >= _MAX_SKELETONS:
            _SKELETONS.clear()
        _SKELETONS[key] = _make_skeleton(loaded, template, data, with_epost)
    return _SKELETONS[key]


def _make_skeleton(loaded: LoadedUtskick, template: Path, data: bytes, with_epost: bool) -> LetterSkeleton | None:
    utskick = loaded.utskick
    tokens = dict(_TOKENS, **({} if with_epost else {"e-post": ""}))
    if not _fields_in_plain_text(merge(utskick.brodtext, tokens), tokens):
        return None
    env = TemplateEnvironment()
    try:
        document = render_document(
            template, lambda markdown: _letter_context(loaded, tokens, markdown),
            title=_merge_plain(utskick.rubrik, tokens), author=utskick.underskrift.namn,
            when=utskick.datum, heading_offset=1, data=data, env=env)
    except BeslutError:
        return None
    if not all(_prints_values_only(source) for source in env.sources()):
        return None
    entries = tuple(docx_entries(document))
    fields = tuple(field for field, token in tokens.items()
                   if token and any(token.encode() in blob for _, blob in entries))
    holding = frozenset(index for index, (_, blob) in enumerate(entries)
                        if any(tokens[field].encode() in blob for field in fields))
    return LetterSkeleton(entries, holding, fields)


def _fields_in_plain_text(text: str, tokens: dict[str, str]) -> bool:
    """Return True when every token in the Markdown ``text`` is in a plain text node."""
    def count(content: str) -> int:
        return sum(content.count(token) for token in tokens.values() if token)

    in_text = sum(count(child.content) for token in parse_markdown(text) if token.type == "inline"
                  for child in token.children or [] if child.type == "text")
    return in_text == count(text)


def _prints_values_only(source: str) -> bool:
    """Return True when the Jinja ``source`` only prints the recipient's variables.

    ``{{ rubrik }}`` and ``{% for rad in mottagare_block %}{{ rad }}{% endfor %}`` do;
    a filter, a test, a condition or an assignment on them makes the letter depend on the
    values in a way a token cannot stand for.
    """
    tree = jinja_environment().parse(source)
    names, allowed = set(_RECIPIENT_VARIABLES), set()
    for loop in tree.find_all(nodes.For):
        if isinstance(loop.iter, nodes.Name) and loop.iter.name in _RECIPIENT_VARIABLES:
            if loop.test is not None or loop.recursive or not isinstance(loop.target, nodes.Name):
                return False
            names.add(loop.target.name)
            allowed |= {id(loop.iter), id(loop.target)}
    for output in tree.find_all(nodes.Output):
        allowed |= {id(node) for node in output.nodes if isinstance(node, nodes.Name)}
    return all(node.name not in names or id(node) in allowed for node in tree.find_all(nodes.Name))


def validate_utskick(utskick_path: Path, organisationer_path: Path,
                     org_ids: list[str] | None = None) -> tuple[LoadedUtskick, list[Organisation]]:
    """Load and check an utskick: fields, recipients and merge fields; write nothing.

    ``pipeline.validate_utskick`` is this; ``send`` calls it here, below the front door.
    """
    from .content import load_organisationer, load_utskick, select_mottagare

    organisationer = load_organisationer(organisationer_path)
    loaded = load_utskick(utskick_path)
    check_merge_fields(loaded)
    return loaded, select_mottagare(loaded, organisationer, org_ids)
