"""The Word templates: where they are, and checking a folder of them before it is used.

The city's templates are ordinary .docx files that a non-programmer edits in Word. They
ship inside the package (``generator.mallar``, from ``templates/docx/`` in the
repository); ``--mallar MAPP`` points every command at an edited copy, and
``check_template_dir`` (the ``beslut templates`` command) says what is wrong with one
before anything is rendered with it.
"""

from __future__ import annotations

import re
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

import jinja2
from docxtpl import DocxTemplate
from jinja2 import meta, nodes

from .arendefields import example_arende
from .bilagor import PlannedBilaga
from .content import LoadedArende, LoadedUtskick
from .context import PAPER_VARIABLES, build_context
from .docxcheck import DocxFinding, check_docx
from .docxcheck import errors as docx_errors
from .errors import TemplateError
from .files import docx_bytes
from .kallelsedocx import EXAMPLE_CONTEXT as KALLELSE_EXAMPLE
from .kallelsedocx import KALLELSE_VARIABLES
from .letters import LETTER_VARIABLES, build_letter_context
from .markdown import HEADING_OFFSET, MarkdownRenderer, required_styles
from .model import Organisation, Utskick
from .protokolldocx import PROTOKOLL_VARIABLES
from .protokolldocx import example_context as protokoll_example
from .render import jinja_environment, load_template, render_template
from .sandboxcheck import TemplateRefused, check_source, expression_at, syntax_error_at, which_tag
from .wordxml import RT_FOOTER
from .yamlfile import YamlDocument

BESLUTSUNDERLAG = "beslutsunderlag.docx"
"""The template of a beslutsunderlag (bolag) and a tjänsteutlåtande (nämnd)."""
FOLJEBREV = "foljebrev.docx"
"""The template of a följebrev."""

KALLELSE = "kallelse.docx"
"""The template of a sammanträde's kallelse with its föredragningslista (``agenda``)."""
PROTOKOLL = "protokoll.docx"
"""The template of a protokoll and of each protokollsutdrag (``minutes``)."""


@dataclass(frozen=True)
class TemplateKind:
    """What one shipped template is checked against: its variables, styles and example contexts."""

    name: str
    variables: Callable[[], frozenset[str]]
    heading_offset: int | None
    """The Markdown writer's heading offset (its styles must exist), or None: no Markdown."""
    examples: Callable[[MarkdownRenderer], list[dict]]
    """Contexts to fill the template with in a trial render (each into a fresh copy)."""


def _paper_examples(markdown: MarkdownRenderer) -> list[dict]:
    return [build_context(_example_arende(), (_example_bilaga(),), markdown)]


def _letter_examples(markdown: MarkdownRenderer) -> list[dict]:
    utskick = LoadedUtskick(utskick=_EXAMPLE_UTSKICK, source=Path("exempel.yaml"),
                            doc=YamlDocument(Path("exempel.yaml"), {}))
    return [build_letter_context(utskick, _EXAMPLE_BOLAG, markdown)]


def _protokoll_examples(markdown: MarkdownRenderer) -> list[dict]:
    return [protokoll_example(markdown, utdrag=False), protokoll_example(markdown, utdrag=True)]


KINDS = (
    TemplateKind(BESLUTSUNDERLAG, lambda: PAPER_VARIABLES, HEADING_OFFSET, _paper_examples),
    TemplateKind(FOLJEBREV, lambda: LETTER_VARIABLES, 1, _letter_examples),
    TemplateKind(KALLELSE, lambda: KALLELSE_VARIABLES, None, lambda markdown: [KALLELSE_EXAMPLE]),
    TemplateKind(PROTOKOLL, lambda: PROTOKOLL_VARIABLES, HEADING_OFFSET, _protokoll_examples),
)
"""Every template a folder given with ``--mallar`` holds, checked alike by ``beslut templates``."""
_PAGE_FIELD = re.compile(rb"(instr=\"\s*PAGE\b|<w:instrText[^>]*>\s*PAGE\b)")


SOURCE_TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "docx"
"""The templates in a checkout of the repository (an editable install uses these)."""


def default_template_dir() -> Path:
    """Return the folder of the templates that ship with the package.

    An installed wheel has them in ``generator/mallar/``; a checkout (and an editable
    install) in ``templates/docx/``.
    """
    packaged = Path(str(resources.files("generator"))) / "mallar"
    return packaged if packaged.is_dir() else SOURCE_TEMPLATES


def template_path(folder: Path | None, name: str) -> Path:
    """Return the template ``name`` in ``folder`` (the shipped templates when None)."""
    return (folder or default_template_dir()) / name


def check_template_dir(folder: Path | None) -> list[Path]:
    """Check every template in ``folder``; return the checked files or raise TemplateError.

    A template passes when it opens as a Word document (its container within the limits,
    without macros: ``templatefile``), every Jinja part passes the sandbox's check
    (``sandboxcheck.check_source``) and uses only the variables its context has, it has the
    styles the Markdown writer needs and a page number field in its footer, and an example
    renders in the sandbox without error. All problems are reported together, each with
    the expression it concerns.
    """
    folder = folder or default_template_dir()
    if not folder.is_dir():
        raise TemplateError("mallmappen finns inte. Ange en mapp med beslutsunderlag.docx och "
                            "foljebrev.docx.", file=folder)
    problems: list[str] = []
    checked = []
    for kind in KINDS:
        path = folder / kind.name
        try:
            problems += [f"{path}: {p}" for p in _template_problems(path, kind)]
        except TemplateError as e:
            problems.append(e.format())
        else:  # only a template that opens is taken apart further
            problems += [f"{path}: Word vill reparera filen: {finding.describe()}"
                         for finding in docx_errors(template_findings(path, kind))]
        checked.append(path)
    if problems:
        raise TemplateError("\n".join(problems))
    return checked


def _template_problems(path: Path, kind: TemplateKind) -> list[str]:
    """Return what is wrong with the template at ``path`` (empty when it is fine)."""
    template = load_template(path)
    problems = _jinja_problems(template, kind.variables())
    if problems:
        return problems
    styles = {style.name for style in template.docx.styles}
    for style in required_styles(kind.heading_offset) if kind.heading_offset is not None else ():
        if style not in styles:
            problems.append(
                f"formatmallen '{style}' saknas. Markdown-texten behöver den: lägg tillbaka den i "
                "Word (Format > Formatmallar) eller kopiera den från den ursprungliga mallen."
            )
    footers = [rel.target_part.blob for rel in template.docx.part.rels.values() if rel.reltype == RT_FOOTER]
    if not any(_PAGE_FIELD.search(blob) for blob in footers):
        problems.append("sidfoten saknar fältet för sidnummer (PAGE). Infoga det i Word: "
                        "Infoga > Sidnummer.")
    if not problems:
        problems += _trial_render(path, kind)
    return problems


def _jinja_problems(template: DocxTemplate, known: frozenset[str]) -> list[str]:
    """Return what the Jinja of each part does that a template may not, or names that do not exist.

    Nothing is rendered: each part is parsed and checked as the sandbox checks it before it
    compiles, and its free variables are compared with ``known``.
    """
    env = jinja_environment()
    problems = []
    for where, source in jinja_parts(template):
        try:
            tree = check_source(env, source)
        except TemplateRefused as e:
            shown = f"'{e.expression}', som " if e.expression else "något som "
            problems.append(f"{where}: mallen innehåller {shown}inte är tillåtet: {e.reason}. "
                            "Ta bort eller rätta uttrycket i Word.")
            continue
        except jinja2.TemplateSyntaxError as e:
            problems.append(f"{where}: mallen har ett fel i {which_tag(syntax_error_at(source, e))}: {e.message}. "
                            "Kontrollera {{ }} och {% %}.")
            continue
        for variable in sorted(meta.find_undeclared_variables(tree) - known):
            node = next((n for n in tree.find_all(nodes.Name) if n.name == variable), None)
            expression = expression_at(source, node.lineno if node else None, variable)
            problems.append(
                f"{where}: mallen använder variabeln '{variable}'"
                + (f" (i '{expression}')" if expression else "")
                + f", som inte finns. Variabler som finns: {', '.join(sorted(known))}."
            )
    return problems


_PROPERTIES = ("author", "comments", "identifier", "language", "subject", "title")
"""The core properties docxtpl renders as Jinja (``DocxTemplate.render_properties``)."""


def jinja_parts(template: DocxTemplate) -> list[tuple[str, str]]:
    """Return (where, Jinja source) of every part docxtpl renders, as it hands them to Jinja.

    The body, each header and footer, the footnotes and the core properties; the XML is
    split into lines at paragraphs as docxtpl does, so line numbers match its renders.
    """
    def prepared(xml: str) -> str:
        return re.sub(r"<w:p([ >])", r"\n<w:p\1", template.patch_xml(xml))

    parts = [("brödtexten", prepared(template.get_xml()))]
    for label, uri in (("sidhuvudet", template.HEADER_URI), ("sidfoten", template.FOOTER_URI)):
        for _, part in template.get_headers_footers(uri):
            parts.append((f"{label} ({part.partname.lstrip('/')})", prepared(template.get_part_xml(part))))
    for part in template.docx.part.package.parts:
        if part.content_type.endswith(".footnotes+xml"):
            blob = part.blob.decode("utf-8") if isinstance(part.blob, bytes) else part.blob
            parts.append(("fotnoterna", prepared(blob)))
    properties = template.docx.core_properties
    for name in _PROPERTIES:
        value = getattr(properties, name) or ""
        if value:
            parts.append((f"dokumentegenskapen '{name}'", value))
    return parts


def _trial_render(path: Path, kind: TemplateKind) -> list[str]:
    """Render each example into a fresh copy of the template in memory; return the problem, if any."""
    for index in range(len(kind.examples(MarkdownRenderer(load_template(path), kind.heading_offset or 1)))):
        try:
            _render_example(path, kind, index)
        except TemplateError as e:
            return [e.message]
        except Exception as e:  # python-docx / lxml on a template that renders into broken XML
            return [f"mallen ger ett trasigt dokument när den fylls i ({type(e).__name__}). "
                    "Kontrollera att varje {%p … %} står ensam i sitt stycke."]
    return []


def _render_example(path: Path, kind: TemplateKind, index: int) -> bytes:
    """Return the .docx of ``kind``'s example ``index`` rendered into the template at ``path``."""
    template = load_template(path)
    context = kind.examples(MarkdownRenderer(template, kind.heading_offset or 1))[index]
    render_template(template, context, path)
    return docx_bytes(template)


_EXAMPLE_BOLAG = Organisation.model_validate({"id": "exempel", "namn": "Exempel AB", "typ": "bolag"})
_TEXT = "Exempeltext med **fet** stil.\n\n- en punkt\n- en till\n\n# Underrubrik\n\n1. ett\n2. två"
_EXAMPLE_ARENDE = example_arende(_TEXT)  # a value in every field of the model (arendefields)
_EXAMPLE_UTSKICK = Utskick.model_validate({
    "avsändare": "Stadsledningskontoret", "datum": "2023-08-01", "rubrik": "Exempel",
    "brödtext": _TEXT, "underskrift": {"namn": "Anna Exempel", "titel": "Direktör"},
    "mottagare": "alla",
})


def _example_arende() -> LoadedArende:
    return LoadedArende(arende=_EXAMPLE_ARENDE, organisation=_EXAMPLE_BOLAG,
                        source=Path("exempel.yaml"), folder=Path("."))


def _example_bilaga() -> PlannedBilaga:
    return PlannedBilaga(nummer=1, titel="Exempelbilaga", fil="bilaga.pdf", source=Path("bilaga.pdf"))


def template_findings(path: Path, kind: TemplateKind) -> list[DocxFinding]:
    """Return what Word would repair or warn about in the template at ``path`` and in an example rendered from it.

    The checks of ``docxcheck.check_docx``: the template as saved, and, when that is clean,
    the example document (a tag in the wrong place can render into XML Word repairs).
    Empty for a file that is not a .docx at all (``_template_problems`` reports that).
    """
    if not zipfile.is_zipfile(path):
        return []
    findings = check_docx(path)
    if not docx_errors(findings):
        findings += [f for f in _example_findings(path, kind) if f.repairs]
    return findings


def template_warnings(folder: Path | None) -> list[str]:
    """Return the warnings (not errors) of ``template_findings`` for every template in ``folder``."""
    folder = folder or default_template_dir()
    return [f"{folder / kind.name}: {finding.describe()}" for kind in KINDS
            for finding in template_findings(folder / kind.name, kind) if not finding.repairs]


def _example_findings(path: Path, kind: TemplateKind) -> list[DocxFinding]:
    """Return the findings of ``check_docx`` in the first example document rendered from the template."""
    try:
        data = _render_example(path, kind, 0)
    except Exception:  # the trial render reports why the example does not render
        return []
    with tempfile.TemporaryDirectory(prefix="beslut-mall-") as tmp:
        example = Path(tmp) / "exempel.docx"
        example.write_bytes(data)
        return [replace(f, message=f"{f.message} (i ett exempel ifyllt med mallen)") for f in check_docx(example)]
