"""Checking a .docx as Word reads it: the parts against ISO 29500 Transitional, the relationships.

Word repairs (or refuses) a file whose XML breaks the schema: an element in the wrong
place, an r:id without its relationship. Nobody here has Word, so every kind of document
the project writes is checked in the test suite with ``check_docx``, and ``beslut
templates`` checks a user's edited template the same way.

``check_docx`` runs openxml-audit (pure Python; the Open XML SDK's schemas and semantic
rules, profile Microsoft 365) and adds what the SDK lets pass but ISO 29500 requires.
Each finding names the part, the element and, in Swedish, what Word expects there::

    for finding in check_docx(Path("mall.docx")):
        print(finding.describe())
"""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from lxml import etree

from .wordxml import CORE_PROPERTIES, W

if TYPE_CHECKING:  # imported when a file is checked: every command imports this module, few check
    from openxml_audit import OpenXmlValidator, ValidationError



class Severity(StrEnum):
    """How Word takes a finding: ``FEL`` makes it repair the file, ``VARNING`` may not."""

    FEL = "fel"
    VARNING = "varning"


@dataclass(frozen=True)
class DocxFinding:
    """One place in a .docx that Word does not accept as it is."""

    part: str
    """The part (file in the package), e.g. ``/word/document.xml``."""
    element: str
    """The element concerned, with its prefix, e.g. ``w:tblBorders``."""
    message: str
    """What is wrong and what Word expects there, in Swedish."""
    severity: Severity = Severity.FEL
    where: str = ""
    """The path of the element's parent in the part, e.g. ``/document[1]/body[1]/tbl[1]/tblPr[1]``."""
    detail: str = ""
    """The validator's own (English) description."""

    @property
    def repairs(self) -> bool:
        """Return whether Word would ask to repair the file because of this finding."""
        return self.severity is Severity.FEL

    def describe(self) -> str:
        """Return the finding as one Swedish line: part, element, message."""
        where = ", ".join(name for name in (self.part.lstrip("/"), self.element) if name)
        return f"{where}: {self.message}" if where else self.message


def check_docx(path: Path) -> list[DocxFinding]:
    """Return every finding in the .docx at ``path`` (empty when Word opens it cleanly)."""
    try:
        result = _validator().validate(path)
    except Exception as e:  # the validator on a file it cannot take apart: Word cannot either
        return [DocxFinding("", "", f"filen går inte att kontrollera som Word-fil ({type(e).__name__}: {e}).",
                            detail=str(e))]
    findings = [_finding(path, error) for error in result.errors]
    return findings + _iso_findings(path)


def errors(findings: list[DocxFinding]) -> list[DocxFinding]:
    """Return the findings that make Word repair the file."""
    return [f for f in findings if f.repairs]


def _validator() -> OpenXmlValidator:
    """Return a new validator: one keeps state between files (openxml-audit 0.8.0 then
    reports footnote ids of an earlier file as missing in the next), so never reuse one."""
    from openxml_audit import FileFormat, OpenXmlValidator

    return OpenXmlValidator(file_format=FileFormat.MICROSOFT_365, max_errors=0)


_UNEXPECTED = re.compile(r"Unexpected element '([^']+)' found")
_CORE = re.compile(r"Unexpected element in core properties: '\{([^}]*)\}([^']+)'")
_MISSING_ELEMENT = re.compile(r"Required (?:element '([^']*)'|sequence content|choice element) is missing")
_ATTRIBUTE = re.compile(r"(?:Required attribute|Invalid value for attribute) '([^']+)'")
_MISSING_REL = re.compile(r"The relationship '([^']+)' referenced by attribute '([^']+)' does not exist")


def _finding(path: Path, error: ValidationError) -> DocxFinding:
    """Return the validator's ``error`` as a finding with a Swedish message."""
    severity = Severity.FEL if error.severity.value == "error" else Severity.VARNING
    part, where, node, detail = error.part_uri or "/", error.path, error.node or "", error.description
    if error.error_type.value == "package" and not error.part_uri:
        return DocxFinding("", "", f"filen är inget giltigt Word-paket ({detail}).", severity, where, detail)
    parent = _locate(path, part, where)
    if (m := _CORE.search(detail)) is not None:
        return DocxFinding(part, f"cp:{m[2]}", (
            f"egenskapen {m[2]} ligger i fel namnrymd ({m[1]}). Word väntar sig den i "
            f"namnrymden {CORE_PROPERTIES}; annars visas den inte och den riktiga är tom. "
            "Ta bort egenskapen och spara om filen i Word."), severity, where, detail)
    if (m := _UNEXPECTED.search(detail)) is not None:
        element = _qualified(parent, m[1])
        return DocxFinding(part, element, _order_message(parent, m[1], element), severity, where, detail)
    if (m := _MISSING_REL.search(detail)) is not None:
        element = _name(parent) if parent is not None else node
        rels = re.sub(r"^/?(.*/)?([^/]+)$", r"\1_rels/\2.rels", part.lstrip("/"))
        return DocxFinding(part, element, (
            f"hänvisar till relationen {m[1]}, som inte finns i {rels}. Word väntar sig att varje "
            "r:id finns bland delens relationer: gör om länken eller bilden i Word."), severity, where, detail)
    if (m := _MISSING_ELEMENT.search(detail)) is not None:
        element = _name(parent) if parent is not None else (f"w:{node}" if node else part)
        named = f"w:{m[1]}" if m[1] else "innehåll"
        order = _expected_order(etree.QName(parent).localname, []) if parent is not None else []
        expected = f" Där väntar sig Word: {', '.join(f'w:{n}' for n in order)}." if order else ""
        cell = " En tabellcell (w:tc) måste ha minst ett stycke (w:p)." if element.endswith(":tc") else ""
        return DocxFinding(part, element, f"saknar {named} som Word kräver.{cell}{expected}",
                           severity, where, detail)
    if (m := _ATTRIBUTE.search(detail)) is not None:
        element = _name(parent) if parent is not None else (f"w:{node}" if node else part)
        what = "saknas" if "missing" in detail else "har ett värde Word inte godtar"
        return DocxFinding(part, element, f"attributet {m[1]} {what} ({detail}).", severity, where, detail)
    element = _qualified(parent, node) if node else (_name(parent) if parent is not None else part)
    return DocxFinding(part, element, f"Word godtar inte detta här ({detail}).", severity, where, detail)


def _order_message(parent, local: str, element: str) -> str:
    """Return what is wrong with child ``local`` of ``parent`` and the order Word expects."""
    if parent is None:
        return "elementet står där Word inte väntar sig det. Flytta eller ta bort det i Word."
    parent_name = _name(parent)
    children = [etree.QName(c).localname for c in parent if isinstance(c.tag, str)]
    order = _expected_order(etree.QName(parent).localname, children) if etree.QName(parent).namespace == W else []
    listed = ", ".join(f"w:{name}" for name in order)
    if local not in order:
        expected = f" Där väntar sig Word: {listed}." if listed else ""
        return f"{element} hör inte hemma i {parent_name}.{expected}"
    rank = {name: i for i, name in enumerate(order)}
    before = children[:children.index(local)] if local in children else []
    wrong = next((name for name in before if rank.get(name, -1) > rank[local]), None)
    where = f"{element} står efter w:{wrong} men ska stå före den. " if wrong else f"{element} står på fel plats. "
    return f"{where}Word väntar sig barnen i {parent_name} i ordningen {listed}."


@lru_cache(maxsize=1)
def _word_schema() -> dict[str, list[dict]]:
    """Return the WordprocessingML element types of the validator's schema data, by element name."""
    name = "data/openxml/schemas/schemas_openxmlformats_org_wordprocessingml_2006_main.json"
    try:
        data = json.loads((resources.files("openxml_audit") / name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    types: dict[str, list[dict]] = {}
    for entry in data.get("Types", []):
        element = entry.get("Name", "").rpartition("/")[2]
        if element.startswith("w:") and "Particle" in entry:
            types.setdefault(element[2:], []).append(entry["Particle"])
    return types


def _expected_order(parent: str, children: list[str]) -> list[str]:
    """Return the child elements of w:``parent`` in schema order (the type that fits ``children`` best)."""
    best: list[str] = []
    for particle in _word_schema().get(parent, []):
        names = list(dict.fromkeys(_flatten(particle)))
        if sum(c in names for c in children) > sum(c in best for c in children):
            best = names
    return best


def _flatten(particle: dict) -> list[str]:
    if "Name" in particle:
        return [particle["Name"].rpartition("/")[2].removeprefix("w:")]
    return [name for item in particle.get("Items", []) for name in _flatten(item)]


def _locate(path: Path, part: str, where: str):
    """Return the element at ``where`` (``/document[1]/body[1]/…``) in ``part``, or None."""
    steps = re.findall(r"([\w.-]+)\[(\d+)\]", where)
    if not steps:
        return None
    try:
        with zipfile.ZipFile(path) as zf:
            root = etree.fromstring(zf.read(part.lstrip("/")))
    except (KeyError, OSError, zipfile.BadZipFile, etree.XMLSyntaxError):
        return None
    xpath = "".join(f"/*[local-name()='{name}'][{index}]" for name, index in steps)
    found = root.getroottree().xpath(xpath)
    return found[0] if found else None


def _name(element) -> str:
    qname = etree.QName(element)
    return f"{element.prefix}:{qname.localname}" if element.prefix else qname.localname


def _qualified(parent, local: str) -> str:
    """Return child ``local`` of ``parent`` with its prefix (``w:`` when it cannot be found)."""
    if parent is not None:
        for child in parent:
            if isinstance(child.tag, str) and etree.QName(child).localname == local:
                return _name(child)
    return f"w:{local}"


def _iso_findings(path: Path) -> list[DocxFinding]:
    """Return what ISO 29500 requires but the Open XML SDK's rules let pass."""
    findings = []
    try:
        with zipfile.ZipFile(path) as zf:
            settings = zf.read("word/settings.xml") if "word/settings.xml" in zf.namelist() else None
    except (OSError, zipfile.BadZipFile):
        return []
    if settings is not None:
        try:
            root = etree.fromstring(settings)
        except etree.XMLSyntaxError:
            return []
        zoom = root.find(f"{{{W}}}zoom")
        if zoom is not None and zoom.get(f"{{{W}}}percent") is None:
            findings.append(DocxFinding("/word/settings.xml", "w:zoom", (
                "saknar w:percent, som ISO 29500 kräver. Word väntar sig t.ex. "
                '<w:zoom w:percent="100"/>: ändra zoomen i Word och spara om mallen.'),
                Severity.VARNING, "/settings[1]"))
    return findings
