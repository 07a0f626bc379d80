"""The kallelse's Word documents: its template's variables and context, and the pages made from it.

``templates/docx/kallelse.docx`` is filled with ``kallelse_context`` (``KALLELSE_VARIABLES``;
``EXAMPLE_CONTEXT`` is what ``beslut templates`` tries an edited template with). The
innehållsförteckning (``render_toc``) and the public version's notice pages are made from
the rendered kallelse emptied of its body (``plain_document``), so they share its styles,
header and footer. Everything here writes .docx; ``agendapdf`` and ``agendapublic`` convert
and assemble, ``agenda`` tells the story.
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from .files import write_docx
from .render import render_docx
from .sammantrade import LoadedSammantrade, PlannedPunkt

KALLELSE_VARIABLES = frozenset({
    "organisation", "avsandare", "kallelsedatum", "datum", "tid", "plats", "ordforande", "sekreterare",
    "ledamoter", "ersattare", "punkter",
})
"""The variables the kallelse template may use; each of ``punkter`` has nummer, rubrik, arende,
diarienummer, foredragande, utelamnad, utan_handlingar and text."""

TOC_LINK = "https://sammantrade.invalid/punkt/"
"""The innehållsförteckning's links are written as these URLs and turned into links to the
point's first page when the package is put together."""


# --- the kallelse --------------------------------------------------------------------------


def kallelse_context(meeting: LoadedSammantrade) -> dict:
    """Return the kallelse template's context (``KALLELSE_VARIABLES``)."""
    s = meeting.sammantrade
    return {
        "organisation": meeting.organisation.namn,
        "avsandare": meeting.organisation.avsandare,
        "kallelsedatum": s.kallelsedatum.isoformat(),
        "datum": s.datum.isoformat(),
        "tid": s.tid,
        "plats": s.plats,
        "ordforande": s.ordforande,
        "sekreterare": s.sekreterare,
        "ledamoter": list(meeting.kallade.ledamoter),
        "ersattare": list(meeting.kallade.ersattare),
        "punkter": [
            {
                "nummer": p.nummer,
                "rubrik": p.rubrik,
                "arende": p.loaded is not None,
                "diarienummer": p.diarienummer or "-",
                "foredragande": p.punkt.foredragande,
                "utelamnad": p.utelamnad,
                "utan_handlingar": p.loaded is not None and p.punkt.handlingar == "nej",
                "text": p.punkt.text,
            }
            for p in meeting.punkter
        ],
    }


def render_kallelse(meeting: LoadedSammantrade, target: Path, template: Path) -> Path:
    """Render the kallelse with its föredragningslista into ``target``."""
    return render_docx(template, lambda markdown: kallelse_context(meeting), target,
                       title=f"Kallelse: {meeting.title}", author=meeting.sammantrade.sekreterare,
                       when=meeting.sammantrade.kallelsedatum)


EXAMPLE_CONTEXT = {
    "organisation": "Exempelnämnden", "avsandare": "Exempelförvaltningen", "kallelsedatum": "2023-10-17",
    "datum": "2023-10-24", "tid": "16.00", "plats": "Rum 1", "ordforande": "Anna Exempel",
    "sekreterare": "Per Exempel", "ledamoter": ["Anna Exempel"], "ersattare": ["Bo Exempel"],
    "punkter": [{"nummer": 1, "rubrik": "Ett ärende", "arende": True, "diarienummer": "1/23",
                 "foredragande": "Anna Exempel", "utelamnad": "OSL 19 kap. 3 §", "utan_handlingar": False,
                 "text": None}],
}
"""A kallelse's context for ``beslut templates``' trial render of an edited template."""


# --- documents made from the kallelse: innehållsförteckning and notices ---------------------


def plain_document(kallelse_docx: Path, title: str):
    """Return the rendered kallelse emptied of its body: its styles, header and footer kept."""
    doc = Document(str(kallelse_docx))
    body = doc.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)
    doc.core_properties.title = title
    for section in doc.sections:  # the footer names the document: not "kallelse" here
        for paragraph in section.footer.paragraphs:
            for run in paragraph.runs:
                run.text = run.text.replace(", kallelse ", ", sammanträdeshandlingar ")
    return doc


def add_link(paragraph, text: str, url: str) -> None:
    """Append ``text`` to ``paragraph`` as a hyperlink to ``url``, in the Hyperlink style."""
    rel = paragraph.part.relate_to(url, RT.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), rel)
    run = paragraph.add_run(text)
    run.style = "Hyperlink"
    link.append(run._r)
    paragraph._p.append(link)



TOC_WIDTHS = (1.6, 12.4, 2.0)
"""The innehållsförteckning's columns in cm: Punkt, Ärendemening, Sida (16 cm between the margins)."""


def render_toc(meeting: LoadedSammantrade, entries: list[tuple[PlannedPunkt, int | None]], kallelse_docx: Path,
               target: Path) -> Path:
    """Write the innehållsförteckning: point, ärendemening (a link) and page, as a Word table."""
    doc = plain_document(kallelse_docx, f"Innehåll: {meeting.title}")
    doc.add_paragraph("Innehåll", style="Heading 1")
    doc.add_paragraph(f"Sammanträdeshandlingar, {meeting.title}.")
    table = doc.add_table(rows=1, cols=3)
    table.style = "Tabell"
    header = table.rows[0]
    trpr = header._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    trpr.append(repeat)
    for cell, text in zip(header.cells, ("Punkt", "Ärendemening", "Sida"), strict=True):
        cell.paragraphs[0].style = "Tabelltext"
        cell.paragraphs[0].add_run(text).bold = True
    for planned, page in entries:
        row = table.add_row()
        cells = row.cells
        for cell in cells:
            cell.paragraphs[0].style = "Tabelltext"
        cells[0].paragraphs[0].add_run(str(planned.nummer))
        if page is not None:
            add_link(cells[1].paragraphs[0], planned.rubrik, f"{TOC_LINK}{planned.nummer}")
            cells[2].paragraphs[0].add_run(str(page))
        else:
            cells[1].paragraphs[0].add_run(planned.rubrik)
            cells[2].paragraphs[0].add_run("–")
    table.autofit = False
    for column, width in zip(table.columns, TOC_WIDTHS, strict=True):
        column.width = Cm(width)
        for cell in column.cells:
            cell.width = Cm(width)
    doc.add_paragraph().paragraph_format.space_after = Pt(0)
    write_docx(doc, target)
    return target
