"""The Jinja environment Word templates are rendered in: a sandbox, since a template is untrusted.

A template is a .docx that travels by e-mail between förvaltningar; docxtpl renders the
Jinja in its XML parts (body, headers, footers, footnotes, core properties). A plain
``jinja2.Environment`` lets ``{{ cycler.__init__.__globals__.os.system('…') }}`` run a
command, and ``range(10**9)`` exhaust memory. ``TemplateSandbox`` renders templates in
layers, each enough to stop those on its own:

1. **Checked before it compiles** (``sandboxcheck.check_source``, in a room of its own with
   its limits): a template may print the documented
   variables, their fields, literals, and use ``if``, ``for`` (not recursive), ``set``,
   ``with``, comparisons, ``and``/``or``/``not``, ``~``, ``+``, ``-``, ``/`` and a few
   filters (``sandboxcheck.ALLOWED_FILTERS``), and ``loop.cycle('udda', 'jämn')`` in a loop.
   Refused, naming the expression: any other call (``x()``),
   ``*``, ``**`` and ``%`` (they build large values from small ones), names and attributes
   starting with ``_``, macros, ``include``/``import``/``extends``, blocks that capture
   output (``{% set x %}…{% endset %}``, ``{% filter %}``), ``{% autoescape %}``, more than
   ``MAX_REFERENCES`` variables in one tag, and a part larger than ``MAX_SOURCE``, with
   more than ``MAX_TAGS`` tags or ``MAX_NODES`` syntax nodes (compiling is the cost).
2. **Jinja's SandboxedEnvironment, stricter**: no globals at all (no ``range``,
   ``cycler``, ``lipsum``, ``namespace``); no calls but a real loop's ``cycle``; an attribute is read only when it is
   plain data (text, a number, a date; ``loop.index`` and friends), never a method, a
   path or a document object; only plain data and docxtpl's objects are printed
   (``printable``), never an object's repr; ``*``, ``**`` and ``%`` refused at run time too.
3. **Bounded**: one render (all parts of one document together) may write at most
   ``MAX_OUTPUT`` characters, run ``MAX_ITERATIONS`` loop rounds and take ``MAX_SECONDS``;
   a value kept by ``set``/``with`` or built by ``join``/``+`` is at most ``MAX_VALUE``
   long (so repeated ``{% set x = x ~ x %}`` cannot double a text 30 times); past that
   the render stops with ``RenderLimit``.

Problems are raised as ``sandboxcheck.TemplateRefused`` (static) or ``RenderLimit`` / Jinja's
``SecurityError`` (at run time), each carrying the template expression where it can
(``expression``); ``render.render_template`` turns them into a Swedish ``TemplateError``
(exit 4) naming the template file.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from traceback import walk_tb
from typing import Any

import jinja2
from jinja2 import nodes, pass_context, pass_eval_context
from jinja2.filters import FILTERS
from jinja2.runtime import LoopContext
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from .sandboxcheck import ALLOWED_FILTERS, TemplateRefused, check_source, expression_at

MAX_OUTPUT = 16 * 1024 * 1024
"""Most characters one render of a document may write, all its parts together (16 Mi).
An ärende is at most 500 000 bytes of YAML; as Word XML that is a few MiB."""
MAX_ITERATIONS = 100_000
"""Most loop rounds in one render (the city's templates loop over bilagor and signatures)."""
MAX_SECONDS = 10.0
"""Longest one render may take (a paper renders in about 20 ms)."""
MAX_VALUE = 1024 * 1024
"""Longest text or list a template may build and keep (``set``, ``with``, ``join``, ``+``): 1 Mi.
So one tag, at most ``sandboxcheck.MAX_REFERENCES`` values, cannot build more than a few dozen MiB."""

_TEXT_FILTERS = frozenset({
    "capitalize", "e", "escape", "lower", "reverse", "striptags", "title", "trim", "truncate", "upper",
    "wordcount",
})
"""The filters that turn their value into text: they take only printable values (``printable``)."""

LOOP_ATTRIBUTES = frozenset({
    "index", "index0", "revindex", "revindex0", "first", "last", "length", "depth", "depth0",
})
"""What a template may read of ``loop`` inside a for loop."""

_LOOP_FILTER = "beslut_loop"
"""The filter put around every loop's iterable when a part is compiled (counts rounds)."""
_VALUE_FILTER = "beslut_value"
"""The filter put around every value a ``set`` or ``with`` keeps (checks its length)."""


def _counted(value: nodes.Node, lineno: int) -> nodes.Filter:
    return nodes.Filter(value, _VALUE_FILTER, [], [], None, None, lineno=lineno)


class RenderLimit(jinja2.TemplateRuntimeError):
    """Raised when a render writes, loops or runs longer than the limits allow."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


# --- the budget of one render ----------------------------------------------------------------


class Budget:
    """What one render may still use: output characters, loop rounds, time."""

    def __init__(self) -> None:
        self.deadline = time.monotonic() + MAX_SECONDS
        self.output = 0
        self.iterations = 0

    def tick(self) -> None:
        """Raise RenderLimit if the render has run out of time."""
        if time.monotonic() > self.deadline:
            raise RenderLimit(f"ifyllningen tog mer än {MAX_SECONDS:.0f} sekunder")

    def iterate(self) -> None:
        """Count one loop round; raise RenderLimit past ``MAX_ITERATIONS``."""
        self.iterations += 1
        if self.iterations > MAX_ITERATIONS:
            raise RenderLimit(f"mallens loopar gick mer än {MAX_ITERATIONS:,} varv"
                              .replace(",", " "))
        if not self.iterations % 256:
            self.tick()

    def written(self, size: int) -> None:
        """Count ``size`` characters of output; raise RenderLimit past ``MAX_OUTPUT``."""
        self.output += size
        if self.output > MAX_OUTPUT:
            raise RenderLimit(f"mallen skrev mer än {MAX_OUTPUT // (1024 * 1024)} miljoner tecken")
        self.tick()

    def chunks(self, parts: Iterator[str]) -> Iterator[str]:
        """Yield ``parts`` (a template's output), counting each one (the clock every 64th)."""
        for index, part in enumerate(parts):
            self.output += len(part)
            if self.output > MAX_OUTPUT or not index % 64:
                self.written(0)
            yield part


_BUDGET: ContextVar[Budget | None] = ContextVar("beslut_render_budget", default=None)


@contextmanager
def render_budget() -> Iterator[Budget]:
    """Give the renders inside the block one shared budget (one document's parts together)."""
    budget = _BUDGET.get()
    if budget is not None:
        yield budget
        return
    budget = Budget()
    token = _BUDGET.set(budget)
    try:
        yield budget
    finally:
        _BUDGET.reset(token)


def _budget() -> Budget:
    return _BUDGET.get() or Budget()


# --- the environment -------------------------------------------------------------------------


class BoundedTemplate(jinja2.Template):
    """A compiled template part whose render counts its output against the render's budget."""

    beslut_source: str = ""

    def render(self, *args: Any, **kwargs: Any) -> str:
        ctx = self.new_context(dict(*args, **kwargs))
        with render_budget() as budget:
            parts = self.root_render_func(ctx)
            try:
                return self.environment.concat(budget.chunks(parts))
            except Exception as e:
                _locate(e, self, getattr(parts, "gi_frame", None))
                self.environment.handle_exception()
        raise AssertionError("unreachable")  # handle_exception always raises


@pass_context
def _bounded_loop(context: Any, iterable: Any) -> Iterator[Any]:
    """Yield the items of a loop's iterable, counting each round against the budget."""
    budget = _budget()
    for item in iterable:
        budget.iterate()
        yield item


@pass_eval_context
def _bounded_join(eval_ctx: Any, value: Any, d: str = "", attribute: Any = None) -> str:
    """Jinja's ``join``, refused before it builds a text larger than ``MAX_OUTPUT``."""
    items = list(value)
    if attribute is None and not printable(items):
        raise _not_printable(next(item for item in items if not printable(item)))
    if len(str(d)) * max(len(items) - 1, 0) > MAX_VALUE:
        raise RenderLimit("join skulle bygga en för stor text")
    result = FILTERS["join"](eval_ctx, items, d, attribute)
    _check_value(result)
    return result


def _check_value(value: Any) -> None:
    """Raise RenderLimit if ``value`` is a text or collection longer than ``MAX_VALUE``."""
    if isinstance(value, (str, list, tuple, dict)) and len(value) > MAX_VALUE:
        raise RenderLimit(f"mallen byggde ett värde med mer än {MAX_VALUE // (1024 * 1024)} miljon tecken "
                          "eller delar")


@pass_context
def _bounded_value(context: Any, value: Any) -> Any:
    """Return ``value``, which a ``set`` or ``with`` keeps, if it is not too long (``MAX_VALUE``)."""
    _check_value(value)
    return value


def printable(value: Any, depth: int = 0) -> bool:
    """Return True if a template may print ``value``: plain data, or what docxtpl prints.

    Text, numbers, dates, None, what writes itself as markup (``__html__``: the Markdown
    fields, docxtpl's Subdoc and RichText), and lists and dicts of those. Not an object's
    repr: a bilaga's would show the server's path.
    """
    if value is None or isinstance(value, (str, int, float, date)):
        return True
    if hasattr(type(value), "__html__"):
        return True  # writes itself as markup: a Markdown field (MarkdownBlock), docxtpl's objects
    if depth < 3 and isinstance(value, (list, tuple)):
        return all(printable(item, depth + 1) for item in value)
    if depth < 3 and isinstance(value, dict):
        return all(isinstance(k, str) and printable(v, depth + 1) for k, v in value.items())
    return False


def _not_printable(value: Any) -> SecurityError:
    error = SecurityError(f"en mall kan inte skriva ut ett värde av typen {type(value).__name__}; skriv "
                          "ut dess fält, t.ex. {{ bilaga.titel }}")
    if isinstance(value, jinja2.Undefined):  # its name finds the tag (``_hints``)
        error.undefined_name = getattr(value, "_undefined_name", None) or ""  # type: ignore[attr-defined]
    return error


def _finalize(value: Any) -> Any:
    """Return ``value`` for printing; raise SecurityError unless it is ``printable``."""
    if not printable(value):
        raise _not_printable(value)
    return value


def _text_input(func: Any) -> Any:
    """Return the filter ``func`` refusing a value that is not ``printable``."""
    passes = hasattr(func, "jinja_pass_arg")

    @functools.wraps(func)
    def checked(*args: Any, **kwargs: Any) -> Any:
        value = args[1] if passes else args[0]
        if not printable(value):
            raise _not_printable(value)
        return func(*args, **kwargs)

    return checked


class TemplateSandbox(SandboxedEnvironment):
    """Jinja's sandbox made stricter for Word templates (see the module's docstring)."""

    template_class = BoundedTemplate
    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self) -> None:
        super().__init__(autoescape=True, undefined=jinja2.StrictUndefined, finalize=_finalize)
        self.globals = {}
        self.filters = {name: _text_input(FILTERS[name]) if name in _TEXT_FILTERS else FILTERS[name]
                        for name in ALLOWED_FILTERS}
        self.filters["join"] = _bounded_join
        self.filters[_LOOP_FILTER] = _bounded_loop
        self.filters[_VALUE_FILTER] = _bounded_value

    def compile(self, source, name=None, filename=None, raw=False, defer_init=False):
        """Check ``source`` (``check_source``), bound its loops, then compile it as Jinja does."""
        if isinstance(source, str):
            tree = check_source(self, source)
            for loop in tree.find_all(nodes.For):
                loop.iter = nodes.Filter(loop.iter, _LOOP_FILTER, [], [], None, None, lineno=loop.lineno)
            for assign in tree.find_all(nodes.Assign):
                assign.node = _counted(assign.node, assign.lineno)
            for scope in tree.find_all(nodes.With):
                scope.values = [_counted(value, scope.lineno) for value in scope.values]
            source = tree
        try:
            return super().compile(source, name, filename, raw, defer_init)
        except RecursionError as e:
            raise TemplateRefused("ett uttryck i mallen är för djupt nästlat") from e

    def from_string(self, source, globals=None, template_class=None):  # noqa: A002
        template = super().from_string(source, globals, template_class)
        if isinstance(source, str) and isinstance(template, BoundedTemplate):
            template.beslut_source = source
        return template

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        _budget().tick()
        if attr.startswith("_"):
            return False
        if isinstance(obj, LoopContext):
            return attr in LOOP_ATTRIBUTES or attr == "cycle"  # called only as loop.cycle(…) (``call``)
        return isinstance(value, (str, int, float, date)) or value is None

    def is_safe_callable(self, obj: Any) -> bool:
        return False

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 (Jinja's own signature)
        if (isinstance(getattr(__obj, "__self__", None), LoopContext)
                and getattr(__obj, "__func__", None) is LoopContext.cycle and args
                and set(kwargs) <= {"_loop_vars", "_block_vars"}):  # what Jinja's compiled code passes
            _budget().tick()
            return __obj(*args)  # loop.cycle(a, b, …): one of its arguments, nothing else
        raise SecurityError("en mall får inte anropa något (utom loop.cycle)")

    def call_binop(self, context, operator, left, right):
        _budget().tick()
        if operator != "+":
            raise SecurityError(f"en mall får inte räkna med {operator}")
        result = left + right
        _check_value(result)
        return result

    def unsafe_undefined(self, obj: Any, attribute: str) -> jinja2.Undefined:
        return self.undefined(
            f"en mall får inte läsa '{attribute}' hos ett värde av typen {type(obj).__name__}: bara "
            "variablerna som finns och deras textfält",
            name=attribute, obj=obj, exc=SecurityError)


_OPERATORS: tuple[tuple[type[BaseException], tuple[str, ...]], ...] = (
    (ZeroDivisionError, ("//", "/", "%")),
    (OverflowError, ("**", "*")),
    (TypeError, ("+", "-", "*", "/", "%")),
    (jinja2.UndefinedError, ("[",)),
    (LookupError, ("[",)),
    (ValueError, ("%",)),
)
"""The operators that raise each error a template's expression may raise, most likely first."""


def _hints(error: BaseException) -> list[str]:
    """Return what ``error`` is about, for finding its tag in the paragraph (``expression_at``).

    The name of an undefined value that was printed, every name the message quotes
    (a variable, an attribute), then the operators that raise such an error.
    """
    hints = [getattr(error, "undefined_name", "")]
    hints += re.findall(r"'([^']+)'", str(error))
    hints += next((ops for kind, ops in _OPERATORS if isinstance(error, kind)), ())
    return [h for h in hints if h]


def _locate(error: BaseException, template: BoundedTemplate, suspended: Any = None) -> None:
    """Attach the template expression where ``error`` happened, as ``error.expression``.

    The place is the deepest frame of the template's code in the traceback, or else where
    its output stopped (``suspended``, the frame of the render at its last ``yield``: an
    output limit is raised outside the template's code).
    """
    if getattr(error, "expression", "") or not template.beslut_source:
        return
    lineno = None
    for frame, python_line in walk_tb(error.__traceback__):
        if frame.f_globals.get("environment") is template.environment and "root" in frame.f_globals:
            lineno = template.get_corresponding_lineno(python_line)
    if lineno is None and suspended is not None:
        lineno = template.get_corresponding_lineno(suspended.f_lineno)
    try:
        error.expression = expression_at(template.beslut_source, lineno, _hints(error))  # type: ignore[attr-defined]
    except AttributeError:  # an exception type with slots
        pass
