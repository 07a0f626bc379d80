"""The names of Office Open XML, written down once: namespaces, relationship types, ``qn``.

Every module that reads or writes raw WordprocessingML (or a spreadsheet's XML) takes its
namespace URIs from here, as python-docx keeps them in ``docx/oxml/ns.py``. Nothing is
imported: this module is a table, usable by every stage.
"""

from __future__ import annotations

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
"""WordprocessingML: ``w:p``, ``w:r``, ``w:t`` …"""
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
"""Relationship ids in a part (``r:id``, ``r:embed``)."""
R_STRICT = "http://purl.oclc.org/ooxml/officeDocument/relationships"
"""The same in Strict Open XML (ISO 29500 Strict), which Word also writes."""
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
WP = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
WPS = "http://schemas.microsoft.com/office/word/2010/wordprocessingShape"
"""Word 2010's text box shape (``wps:wsp``), also the ``uri`` of its ``a:graphicData``."""
SML = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
"""SpreadsheetML (an .xlsx bilaga's sheets)."""
PACKAGE_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
"""A package's relationship parts (``_rels/*.rels``)."""
CORE_PROPERTIES = "http://schemas.openxmlformats.org/package/2006/metadata/core-properties"
"""``cp:lastModifiedBy``, ``cp:revision`` … in docProps/core.xml."""
DC = "http://purl.org/dc/elements/1.1/"
"""Dublin Core: ``dc:title``, ``dc:creator`` in docProps/core.xml."""

NAMESPACES = {"w": W, "r": R, "mc": MC, "wp": WP, "a": A, "wps": WPS, "cp": CORE_PROPERTIES, "dc": DC}
"""Prefix -> URI, for ``qn``, ``nsdecls`` and lxml's ``namespaces=``."""

RT_HYPERLINK = f"{R}/hyperlink"
"""Relationship type of an external hyperlink."""
RT_FOOTNOTES = f"{R}/footnotes"
"""Relationship type of the footnotes part."""
RT_FOOTER = f"{R}/footer"
"""Relationship type of a header's twin, the footer part."""


def qn(tag: str) -> str:
    """Return the Clark name of a prefixed ``tag``: ``"w:p"`` -> ``"{http://…/main}p"``."""
    prefix, _, name = tag.partition(":")
    return f"{{{NAMESPACES[prefix]}}}{name}"


def nsdecls(*prefixes: str) -> str:
    """Return the ``xmlns:`` declarations of ``prefixes`` for an XML snippet: ``xmlns:w="…" …``."""
    return " ".join(f'xmlns:{prefix}="{NAMESPACES[prefix]}"' for prefix in prefixes)
