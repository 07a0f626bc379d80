"""Rendering a Word document from a template and a validated ärende.

``render_beslutsunderlag`` is the .docx stage of the pipeline: it loads the template,
builds the context, renders it with autoescaping and a strict undefined (so content is
always data, never template code), sets the document properties (title, author,
language sv-SE, fixed dates) and writes the file atomically and reproducibly.
"""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path

import jinja2
from docxtpl import DocxTemplate

from .content import LoadedArende
from .context import build_context
from .errors import TemplateError
from .files import write_docx
from .markdown import MarkdownRenderer

TEMPLATE_DIR = Path(__file__).resolve().parents[1] / "templates" / "docx"
BESLUTSUNDERLAG_TEMPLATE = "beslutsunderlag.docx"
LANGUAGE = "sv-SE"


def jinja_environment() -> jinja2.Environment:
    """Return the Jinja environment every template is rendered with."""
    return jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)


def load_template(path: Path) -> DocxTemplate:
    """Open a Word template; raise TemplateError if it is missing or not a .docx."""
    if not path.is_file():
        raise TemplateError("mallen finns inte. Kontrollera mappen templates/docx/.", file=path)
    try:
        template = DocxTemplate(path)
        template.init_docx()
    except Exception as e:  # python-docx raises several kinds for a broken package
        raise TemplateError(
            f"mallen går inte att öppna som Word-dokument ({e}). Spara den som .docx i Word.",
            file=path,
        ) from e
    return template


def render_template(template: DocxTemplate, context: dict, path: Path) -> None:
    """Render ``context`` into ``template``; raise TemplateError naming what the template lacks."""
    try:
        template.render(context, jinja_env=jinja_environment(), autoescape=True)
    except jinja2.UndefinedError as e:
        raise TemplateError(
            f"mallen använder en variabel som inte finns ({e.message}). Rätta taggen i mallen "
            "eller se README för vilka variabler som finns.",
            file=path,
        ) from e
    except jinja2.TemplateSyntaxError as e:
        raise TemplateError(
            f"mallen har ett fel i en tagg: {e.message}. Kontrollera {{{{ }}}} och {{% %}}.",
            file=path,
        ) from e


def set_properties(template: DocxTemplate, *, title: str, author: str, when) -> None:
    """Set title, author, language and fixed dates (no "now": the output is reproducible)."""
    props = template.docx.core_properties
    stamp = datetime.combine(when, time(0, 0))
    props.title = title
    props.author = author
    props.last_modified_by = author
    props.language = LANGUAGE
    props.created = stamp
    props.modified = stamp
    props.last_printed = stamp
    props.revision = 1
    props.comments = ""
    props.keywords = ""
    props.subject = ""


def output_name(loaded: LoadedArende) -> str:
    """Return the document's file name: beslutsunderlag.docx or tjänsteutlåtande.docx."""
    return f"{loaded.organisation.dokumenttyp.lower()}.docx"


def render_beslutsunderlag(
    loaded: LoadedArende, target: Path, template_dir: Path = TEMPLATE_DIR
) -> Path:
    """Render ``loaded`` into ``target`` (a .docx), atomically; return ``target``."""
    path = template_dir / BESLUTSUNDERLAG_TEMPLATE
    template = load_template(path)
    context = build_context(loaded, MarkdownRenderer(template))
    render_template(template, context, path)
    arende = loaded.arende
    set_properties(template, title=arende.rubrik, author=arende.handlaggare.namn, when=arende.utfardat)
    write_docx(template, target)
    return target
