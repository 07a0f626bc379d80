"""A template part's Jinja checked before it compiles: what a template may do, and how large it may be.

The first layer of the sandbox (``sandbox.TemplateSandbox`` compiles nothing this refuses;
``beslut templates`` runs the same check on every part). ``check_source`` refuses, with the
expression as the user wrote it (``expression_at``): any call but ``loop.cycle(…)``
(``is_loop_cycle``), ``*``, ``**`` and ``%``, names
and attributes starting with ``_``, macros, ``include``/``import``/``extends``, blocks that
capture output, ``{% autoescape %}``, a filter not in ``ALLOWED_FILTERS``, a recursive loop,
more than ``MAX_REFERENCES`` variables in one tag, and a part larger than ``MAX_SOURCE``,
with more than ``MAX_TAGS`` tags or ``MAX_NODES`` syntax nodes (compiling is the cost).
What a render may then use (output, loop rounds, time) is ``sandbox``'s.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import unescape

import jinja2
from jinja2 import nodes
from jinja2.sandbox import SandboxedEnvironment

MAX_SOURCE = 4 * 1024 * 1024
"""Largest template part (its XML, in characters) that is compiled at all."""
MAX_TAGS = 1000
"""Most tags (``{{ }}``, ``{% %}``) in one template part: compiling costs about 1 ms and
0.1 MB a tag (100 000 tags took 30 s and 1 GB); the city's templates have about 40."""
MAX_TAG_TEXT = 64 * 1024
"""Most characters inside the tags of one part, all together."""
MAX_NODES = 20_000
"""Most syntax-tree nodes in one part (``{{ 1 or 1 or … }}`` is one tag)."""
MAX_REFERENCES = 16
"""Most variable references in one tag: ``{{ a ~ a ~ a … }}`` cannot multiply a long text."""

ALLOWED_FILTERS = frozenset({
    "capitalize", "count", "d", "default", "e", "escape", "first", "join", "last", "length",
    "lower", "reverse", "striptags", "title", "trim", "truncate", "upper", "wordcount",
})
"""The filters a template may use: each gives at most about as much text as it gets."""

_ALLOWED_NODES = (
    nodes.Template, nodes.Output, nodes.TemplateData, nodes.For, nodes.If, nodes.Assign,
    nodes.With, nodes.Name, nodes.Const, nodes.Tuple, nodes.List, nodes.Dict, nodes.Pair,
    nodes.Keyword, nodes.Getattr, nodes.Getitem, nodes.Slice, nodes.Concat, nodes.CondExpr,
    nodes.Filter, nodes.Test, nodes.Compare, nodes.Operand, nodes.And, nodes.Or, nodes.Not,
    nodes.Neg, nodes.Pos, nodes.Add, nodes.Sub, nodes.Div, nodes.FloorDiv,
)
_INTERNAL_NAMES = frozenset({"self", "caller", "varargs", "kwargs"})

_REFUSED: dict[type[nodes.Node], str] = {
    nodes.Call: "anropar en funktion eller metod, och en mall får inte anropa något (utom loop.cycle)",
    nodes.Mul: "räknar med *, som kan bygga mycket stora värden av små",
    nodes.Pow: "räknar med **, som kan bygga mycket stora värden av små",
    nodes.Mod: "använder %, som kan bygga mycket stora texter av små",
    nodes.Macro: "definierar ett makro (macro), vilket en mall inte får",
    nodes.CallBlock: "anropar ett makro (call), vilket en mall inte får",
    nodes.FilterBlock: "fångar text i ett {% filter %}-block, vilket en mall inte får",
    nodes.AssignBlock: "fångar text i ett {% set %}…{% endset %}-block, vilket en mall inte får",
    nodes.Block: "använder {% block %}, vilket en mall inte får",
    nodes.Extends: "hämtar en annan mall (extends), vilket en mall inte får",
    nodes.Include: "hämtar en annan mall (include), vilket en mall inte får",
    nodes.Import: "hämtar en annan mall (import), vilket en mall inte får",
    nodes.FromImport: "hämtar en annan mall (import), vilket en mall inte får",
    nodes.ScopedEvalContextModifier: "stänger av eller ändrar skyddet av texten (autoescape), "
                                     "vilket en mall inte får",
    nodes.EvalContextModifier: "stänger av eller ändrar skyddet av texten (autoescape), vilket en mall inte får",
}

_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)


class TemplateRefused(Exception):
    """Raised when a template part does something a template may not; names the expression."""

    def __init__(self, reason: str, expression: str = ""):
        self.reason = reason
        self.expression = expression
        super().__init__(f"{expression}: {reason}" if expression else reason)


def check_source(env: jinja2.Environment, source: str) -> nodes.Template:
    """Return the parsed ``source``, or raise TemplateRefused for the first thing it may not do.

    A syntax error is raised as Jinja's ``TemplateSyntaxError``.
    """
    if len(source) > MAX_SOURCE:
        raise TemplateRefused(f"en del av mallen är {len(source) // 1024} KiB; högst "
                              f"{MAX_SOURCE // (1024 * 1024)} MiB tillåts")
    tags = source.count("{{") + source.count("{%")
    if tags > MAX_TAGS:
        raise TemplateRefused(f"en del av mallen har {tags} taggar ({{{{ }}}} och {{% %}}); högst {MAX_TAGS} tillåts")
    if sum(len(tag) for tag in _TAG.findall(source)) > MAX_TAG_TEXT:
        raise TemplateRefused(f"taggarna i en del av mallen är tillsammans längre än {MAX_TAG_TEXT // 1024} KiB")
    try:
        tree = env.parse(source)
    except RecursionError as e:
        raise TemplateRefused("ett uttryck i mallen är för djupt nästlat") from e
    except ValueError as e:  # Python's own limits while reading a literal (an int of 5 000 digits)
        raise TemplateRefused(f"ett värde i mallen går inte att läsa ({e})"[:300]) from e
    if sum(1 for _ in tree.find_all(nodes.Node)) > MAX_NODES:
        raise TemplateRefused(f"uttrycken i en del av mallen är för stora (mer än {MAX_NODES:,} delar)"
                              .replace(",", " "))
    problem = find_problem(tree, env)
    if problem is not None:
        node, reason, hint = problem
        raise TemplateRefused(reason, expression_at(source, node.lineno, hint))
    return tree


def is_loop_cycle(node: nodes.Node) -> bool:
    """Return True if ``node`` is ``loop.cycle(a, b, …)``: the one call a template may make.

    Jinja's loop helper returns one of its arguments by the loop's round and does nothing
    else. Only plain positional arguments (no ``*args``, ``**kwargs`` or keywords); at run
    time ``sandbox.TemplateSandbox.call`` checks that ``loop`` is a real loop.
    """
    return (isinstance(node, nodes.Call) and isinstance(node.node, nodes.Getattr) and node.node.attr == "cycle"
            and isinstance(node.node.node, nodes.Name) and node.node.node.name == "loop"
            and bool(node.args) and not node.kwargs and node.dyn_args is None and node.dyn_kwargs is None)


def find_problem(tree: nodes.Template, env: jinja2.Environment) -> tuple[nodes.Node, str, str] | None:
    """Return (node, reason, a word of the expression) for the first refused thing in ``tree``."""
    for node in tree.find_all(nodes.Node):
        if is_loop_cycle(node):
            continue  # its arguments are checked as nodes of their own
        refused = _REFUSED.get(type(node))
        if refused is not None:
            return node, refused, _hint(node)
        if not isinstance(node, _ALLOWED_NODES):
            return node, f"använder något som inte är tillåtet i en mall ({type(node).__name__})", ""
        if isinstance(node, nodes.Name) and (node.name.startswith("_") or node.name in _INTERNAL_NAMES):
            return node, f"använder det interna namnet '{node.name}', vilket en mall inte får", node.name
        if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
            return node, f"läser det interna attributet '{node.attr}', vilket en mall inte får", node.attr
        if (isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const)
                and isinstance(node.arg.value, str) and node.arg.value.startswith("_")):
            return node, f"läser det interna fältet '{node.arg.value}', vilket en mall inte får", node.arg.value
        if isinstance(node, nodes.Filter) and node.name not in ALLOWED_FILTERS:
            return node, (f"använder filtret '{node.name}', som inte är tillåtet. Tillåtna filter: "
                          f"{', '.join(sorted(ALLOWED_FILTERS))}"), node.name
        if isinstance(node, nodes.For) and node.recursive:
            return node, "använder en rekursiv loop, vilket en mall inte får", "recursive"
        for expression in _tag_expressions(node):
            names = sum(1 for _ in expression.find_all(nodes.Name)) + isinstance(expression, nodes.Name)
            if names > MAX_REFERENCES:
                return node, (f"uttrycket använder {names} variabler; högst {MAX_REFERENCES} tillåts "
                              "i en tagg"), ""
    return None


def _tag_expressions(node: nodes.Node) -> list[nodes.Node]:
    """Return the expressions of one tag: what an Output prints, a loop's iterable, a test."""
    if isinstance(node, nodes.Output):
        return [n for n in node.nodes if not isinstance(n, nodes.TemplateData)]
    if isinstance(node, nodes.For):
        return [node.iter] + ([node.test] if node.test is not None else [])
    if isinstance(node, nodes.If):
        return [node.test]
    if isinstance(node, nodes.Assign):
        return [node.node]
    if isinstance(node, nodes.With):
        return list(node.values)
    return []


def _hint(node: nodes.Node) -> str:
    """Return a word that marks the tag ``node`` stands in (for ``expression_at``); a call's ends in "("."""
    if isinstance(node, nodes.Call):
        target = node.node
        name = getattr(target, "attr", None) or getattr(target, "name", None)
        return f"{name}(" if name else "("
    return {nodes.Mul: "*", nodes.Pow: "**", nodes.Mod: "%", nodes.Macro: "macro", nodes.CallBlock: "call",
            nodes.FilterBlock: "filter", nodes.AssignBlock: "set", nodes.Block: "block",
            nodes.Extends: "extends", nodes.Include: "include", nodes.Import: "import",
            nodes.FromImport: "import"}.get(type(node), "autoescape")


def expression_at(source: str, lineno: int | None, hint: str | Sequence[str] = "") -> str:
    """Return the tag on line ``lineno`` of ``source`` (the ones holding ``hint``), as the user wrote it.

    docxtpl puts every paragraph of the XML on a line of its own, so a line is a paragraph,
    and an error names only its line. ``hint`` is what the error is about (a variable,
    filter or attribute name, an operator, ``name(`` for a call), or several such in order:
    the tags holding the first hint that any tag holds are given (``holds``); only when
    none does, every tag of the paragraph. The XML markup inside the tags is dropped and
    the text shortened to 200 characters.
    """
    if not lineno:
        return ""
    lines = source.splitlines()
    if lineno > len(lines):
        return ""
    tags = [unescape(re.sub(r"<[^>]*>", "", tag)) for tag in _TAG.findall(lines[lineno - 1])]
    if not tags:
        text = unescape(re.sub(r"<[^>]*>", "", lines[lineno - 1])).strip()
        return text[:200]
    hints = [hint] if isinstance(hint, str) else list(hint)
    chosen = next((found for h in hints if h for found in [[t for t in tags if holds(t, h)]] if found), tags)
    tag = " … ".join(chosen)
    return tag if len(tag) <= 200 else tag[:199] + "…"


def holds(tag: str, hint: str) -> bool:
    """Return True if ``tag`` holds ``hint`` as a whole: a name not inside a longer name
    (``rubrik`` is not in ``{{ rubrikk }}``), a call ``name(`` before its parenthesis, an
    operator anywhere between the tag's own braces (the ``%`` of ``{% … %}`` is no operator)."""
    inner = tag[2:-2]
    if hint.endswith("(") and len(hint) > 1:
        return re.search(_whole(hint[:-1]) + r"\s*\(", inner) is not None
    return re.search(_whole(hint), inner) is not None


def _whole(word: str) -> str:
    """Return a pattern for ``word`` that does not match inside a longer name."""
    pattern = re.escape(word)
    if re.match(r"\w", word):
        pattern = r"(?<!\w)" + pattern
    if re.search(r"\w$", word):
        pattern += r"(?!\w)"
    return pattern


def syntax_error_at(source: str, error: jinja2.TemplateSyntaxError) -> str:
    """Return the tag(s) of the paragraph at ``error``'s line that the syntax error is about, or "".

    A name the message quotes (``unknown tag 'foo'``) finds its tag; else the ``{{ … }}`` tags
    that do not parse on their own. Nothing is given when neither tells (an unclosed
    ``{% for %}`` is reported at the end of the part, where its tag is not).
    """
    lines = source.splitlines()
    if not error.lineno or error.lineno > len(lines):
        return ""
    tags = [unescape(re.sub(r"<[^>]*>", "", tag)) for tag in _TAG.findall(lines[error.lineno - 1])]
    chosen = next((found for h in re.findall(r"'([^']+)'", error.message or "")
                   for found in [[t for t in tags if holds(t, h)]] if found), None)
    if chosen is None:
        chosen = [t for t in tags if t.startswith("{{") and not _parses(t)]
    tag = " … ".join(chosen)
    return tag if len(tag) <= 200 else tag[:199] + "…"


def which_tag(expression: str) -> str:
    """Return "taggen '…'" for a syntax error's tag (``syntax_error_at``), or "en tagg" when it is not known."""
    return f"taggen '{expression}'" if expression else "en tagg"


def _parses(tag: str) -> bool:
    """Return True if ``tag`` alone is valid Jinja (it is parsed, never compiled or run)."""
    try:
        SandboxedEnvironment().parse(tag)
    except (jinja2.TemplateSyntaxError, RecursionError, ValueError):
        return False
    return True
