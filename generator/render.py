"""Rendering Word documents from templates: the .docx stage of the pipeline.

``render_docx`` loads a template, builds its context, renders it with autoescaping and
a strict undefined (so content is always data, never template code), sets the document
properties (title, author, language sv-SE, fixed dates) and writes the file atomically
and reproducibly. Each Jinja part is compiled once per process (keyed by its text, not by
a file path), so a batch of hundreds of letters does not compile the same template
hundreds of times, and an edited template is never served from a stale cache.

Templates are untrusted: every part renders in ``sandbox.TemplateSandbox`` (checked
before it compiles, no calls, bounded output, loops and time), and every template is
opened through ``load_template``, which checks its container first
(``templatefile.read_template``: zip limits, no macros, no external links).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, datetime, time
from functools import lru_cache
from pathlib import Path

import jinja2
from docxtpl import DocxTemplate
from jinja2.sandbox import SecurityError
from lxml import etree

from .bilagor import PlannedBilaga
from .content import LoadedArende
from .context import build_context
from .errors import TemplateError
from .files import write_docx
from .markdown import HEADING_OFFSET, MarkdownRenderer
from .sandbox import RenderLimit, TemplateSandbox, render_budget
from .sandboxcheck import TemplateRefused, syntax_error_at, which_tag
from .templatefile import read_template
from .watermark import add_watermark
from .wordxml import CORE_PROPERTIES

LANGUAGE = "sv-SE"


class TemplateEnvironment(TemplateSandbox):
    """The sandbox templates render in, compiling each template part once and then reusing it."""

    def __init__(self):
        super().__init__()
        self._compiled: dict[str, jinja2.Template] = {}

    def from_string(self, source, globals=None, template_class=None):  # noqa: A002
        if globals is not None or template_class is not None or not isinstance(source, str):
            return super().from_string(source, globals, template_class)
        if source not in self._compiled:
            self._compiled[source] = super().from_string(source)
        return self._compiled[source]

    def sources(self) -> list[str]:
        """Return the source of every template part compiled so far."""
        return list(self._compiled)


@lru_cache(maxsize=1)
def jinja_environment() -> jinja2.Environment:
    """Return the Jinja environment every template is rendered with (shared, caching)."""
    return TemplateEnvironment()


def load_template(path: Path, data: bytes | None = None) -> DocxTemplate:
    """Open a Word template (its bytes ``data`` if given); raise TemplateError if it is missing or not a .docx.

    Every command opens its templates here: the container is checked and cleaned first
    (``templatefile.read_template``), so a zip bomb or a template with macros is refused
    and external links never reach a generated document.
    """
    if data is None and not path.is_file():
        raise TemplateError(
            "mallen finns inte. Kontrollera mallmappen (--mallar) eller templates/docx/.", file=path
        )
    checked = read_template(path, data)
    try:
        template = DocxTemplate(io.BytesIO(checked.data))
        template.init_docx()
    except Exception as e:  # python-docx raises several kinds for a broken package
        raise TemplateError(
            f"mallen går inte att öppna som Word-dokument ({e}). Spara den som .docx i Word.",
            file=path,
        ) from e
    return template


def render_template(template: DocxTemplate, context: dict, path: Path,
                    env: jinja2.Environment | None = None) -> None:
    """Render ``context`` into ``template`` (with ``env``, by default the shared environment).

    Raise TemplateError naming what the template lacks, or what it tried that a template
    may not (``sandbox``), with the expression.
    """
    try:
        with render_budget():
            template.render(context, jinja_env=env or jinja_environment(), autoescape=True)
    except TemplateRefused as e:
        raise TemplateError(
            f"mallen innehåller {_quoted(e.expression)}som inte är tillåtet: {e.reason}. En mall får bara "
            "skriva ut variablerna som finns (se 'beslut templates'); ta bort uttrycket i Word.",
            file=path,
        ) from e
    except (RenderLimit, SecurityError) as e:
        raise TemplateError(
            f"mallen stoppades{_at(e)}: {getattr(e, 'reason', None) or e.message}. Ta bort eller "
            "rätta uttrycket i Word och kontrollera mallen med 'beslut templates'.",
            file=path,
        ) from e
    except jinja2.UndefinedError as e:
        raise TemplateError(
            f"mallen använder en variabel som inte finns{_at(e)} ({e.message}). Rätta taggen i mallen "
            "eller se README för vilka variabler som finns.",
            file=path,
        ) from e
    except jinja2.TemplateSyntaxError as e:
        raise TemplateError(
            f"mallen har ett fel i {which_tag(syntax_error_at(e.source or '', e))}: {e.message}. "
            "Kontrollera {{ }} och {% %}.",
            file=path,
        ) from e
    except (jinja2.TemplateError, ArithmeticError, TypeError, ValueError, LookupError) as e:
        # what a template's own expression raises ({{ 1 / 0 }}, {{ rubrik + 1 }}): its fault, not ours
        raise TemplateError(
            f"mallen gick inte att fylla i{_at(e)} ({type(e).__name__}: {e}). Rätta uttrycket i Word "
            "och kontrollera mallen med 'beslut templates'.",
            file=path,
        ) from e


def set_properties(template: DocxTemplate, *, title: str, author: str, when) -> None:
    """Set title, author, language and fixed dates (no "now": the output is reproducible)."""
    props = template.docx.core_properties
    stamp = datetime.combine(when, time(0, 0))
    props.title = title
    props.author = author
    props.language = LANGUAGE
    props.created = stamp
    props.modified = stamp
    props.comments = ""
    props.subject = ""
    for name, value in (("lastModifiedBy", author), ("lastPrinted", f"{stamp.isoformat()}Z"),
                        ("revision", "1"), ("keywords", "")):
        set_core_property(props._element, name, value)


def set_core_property(core, name: str, value: str) -> None:
    """Set cp:``name`` of the core properties element ``core`` to ``value``, in the right namespace.

    python-docx writes these through its global ``cp`` prefix, which docxcompose (imported
    by docxtpl) rebinds to the custom-properties namespace (python-docx #1037, docxcompose
    #101): Word then sees an unknown element and the real one stays empty. So they are
    written here by namespace URI, and any copy in another namespace is removed.
    """
    tag = f"{{{CORE_PROPERTIES}}}{name}"
    for child in list(core):
        if isinstance(child.tag, str) and child.tag != tag and child.tag.endswith(f"}}{name}"):
            core.remove(child)
    element = core.find(tag)
    if element is None:
        element = etree.SubElement(core, tag)
    element.text = value


def render_docx(
    template_path: Path,
    build: Callable[[MarkdownRenderer], dict],
    target: Path,
    *,
    title: str,
    author: str,
    when: date,
    heading_offset: int = HEADING_OFFSET,
    utkast: bool = False,
) -> Path:
    """Render the template at ``template_path`` into ``target``; return ``target``.

    ``build`` receives the template's Markdown renderer and returns the context;
    a ``#`` heading in Markdown becomes Word's Heading ``1 + heading_offset``.
    With ``utkast`` every page gets a diagonal "UTKAST" (``watermark.add_watermark``).
    """
    document = render_document(template_path, build, title=title, author=author, when=when,
                               heading_offset=heading_offset, utkast=utkast)
    write_docx(document, target)
    return target


def render_document(
    template_path: Path,
    build: Callable[[MarkdownRenderer], dict],
    *,
    title: str,
    author: str,
    when: date,
    heading_offset: int = HEADING_OFFSET,
    utkast: bool = False,
    data: bytes | None = None,
    env: jinja2.Environment | None = None,
) -> DocxTemplate:
    """Return the rendered document of ``render_docx``, not yet written.

    ``data`` is the template's bytes when already read; ``env`` the Jinja environment.
    """
    template = load_template(template_path, data)
    context = build(MarkdownRenderer(template, heading_offset))
    render_template(template, context, template_path, env)
    set_properties(template, title=title, author=author, when=when)
    if utkast:
        add_watermark(template.docx)
    return template


def render_beslutsunderlag(
    loaded: LoadedArende, bilagor: tuple[PlannedBilaga, ...], target: Path, template: Path,
    *, utkast: bool = False
) -> Path:
    """Render ``loaded`` with the template at ``template`` into ``target``; return ``target``."""
    arende = loaded.arende
    return render_docx(
        template,
        lambda markdown: build_context(loaded, bilagor, markdown),
        target,
        title=arende.rubrik,
        author=arende.handlaggare.namn,
        when=arende.utfardat,
        utkast=utkast,
    )


def _quoted(expression: str) -> str:
    return f"'{expression}', " if expression else "något "


def _at(error: Exception) -> str:
    expression = getattr(error, "expression", "")
    return f" vid '{expression}'" if expression else ""
