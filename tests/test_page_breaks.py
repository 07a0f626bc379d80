"""Page breaks in the PDF (real LibreOffice): blocks a reader expects on one page stay there.

Each test pushes a block over the bottom of page 1 by padding the text before it with
one-line paragraphs, over a range of paddings. With the old template (keep-with-next on
every Bilagor item), paddings 8-10 split the Bilagor list and 25-27 split the signatures:
LibreOffice 7.4 does not honour keep-with-next chains longer than about two paragraphs.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import PDF_SAMPLES, VALID_ARENDE, render_paper, write_arende

BILAGOR = [{"titel": f"Bilaga nummer {i}", "fil": f"bilaga{i}.pdf"} for i in range(1, 5)]
UNDERSKRIFTER = [{"namn": "Anna Andersson", "titel": "Förvaltningsdirektör"},
                 {"namn": "Bo Berg", "titel": "Avdelningschef"}]


def padding(lines: int) -> str:
    """Return ``lines`` one-line Markdown paragraphs."""
    return "\n\n".join(f"Rad {i}." for i in range(lines))


@pytest.fixture(scope="module")
def render_pages(tmp_path_factory, converter):
    """Return a function rendering an ärende (VALID_ARENDE with changes) to its PDF page texts."""
    root = tmp_path_factory.mktemp("brytning")
    count = 0

    def render(**changes) -> list[str]:
        nonlocal count
        count += 1
        folder = write_arende(root / f"a{count}", {**VALID_ARENDE, "bilagor": BILAGOR,
                                                   "underskrifter": UNDERSKRIFTER, **changes})
        for bilaga in BILAGOR:
            shutil.copy(PDF_SAMPLES / "minimal-document.pdf", folder / bilaga["fil"])
        report = render_paper(folder, root / f"ut{count}", pdf=True, converter=converter)
        pdf = next(path for path in report.files if path.suffix == ".pdf")
        return pdf_pages(pdf)

    return render


def pdf_pages(pdf: Path) -> list[str]:
    """Return the text of each page of ``pdf`` (pdftotext -f/-l per page)."""
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    pages = int(next(line.split()[1] for line in info.splitlines() if line.startswith("Pages:")))
    return [subprocess.run(["pdftotext", "-f", str(n), "-l", str(n), str(pdf), "-"],
                           check=True, capture_output=True, text=True).stdout for n in range(1, pages + 1)]


HEADINGS = {"Förslag till beslut", "Sammanfattning", "Bedömning ur ekonomisk dimension",
            "Bedömning ur ekologisk dimension", "Bedömning ur social dimension", "Samverkan",
            "Bilagor", "Ärendet", "Beskrivning av ärendet", "Bolagets bedömning"}
"""The template's section headings (bolag)."""


def last_lines(pages: list[str]) -> list[str]:
    """Return the last line of body text on each page (the line above the footer)."""
    return [[line for line in page.splitlines() if line.strip()][-2] for page in pages]


def pages_of(pages: list[str], texts: list[str]) -> list[list[int]]:
    """Return, for each of ``texts``, the numbers of the pages it is printed on."""
    return [[n for n, page in enumerate(pages, 1) if text in page] for text in texts]


def test_bilagor_heading_and_list_are_never_split(render_pages):
    block = ["Bilagor"] + [bilaga["titel"] for bilaga in BILAGOR]
    seen = set()
    for lines in range(7, 12):
        pages = render_pages(samverkan=padding(lines))
        assert not HEADINGS & set(last_lines(pages)), (lines, last_lines(pages))
        found = pages_of(pages, block)
        assert all(len(where) == 1 for where in found), (lines, found)
        assert len({where[0] for where in found}) == 1, (lines, found)
        seen.add(found[0][0])
    assert seen == {1, 2}  # the range does cross the page break


def test_signatures_are_never_split(render_pages):
    block = [text for underskrift in UNDERSKRIFTER for text in underskrift.values()]
    seen = set()
    for lines in range(22, 27):
        pages = render_pages(bedömning=padding(lines))
        # The old template also left "Bolagets bedömning" alone at the bottom of page 1 here.
        assert not HEADINGS & set(last_lines(pages)), (lines, last_lines(pages))
        found = pages_of(pages, block)
        assert all(len(where) == 1 for where in found), (lines, found)
        assert len({where[0] for where in found}) == 1, (lines, found)
        seen.add(found[0][0])
    assert seen == {2, 3}


def test_list_intro_and_short_list_are_never_split(render_pages):
    block = ["Styrelsen ska göra följande:", "punkt alfa", "punkt beta", "punkt gamma"]
    seen = set()
    for lines in range(8, 12):
        text = padding(lines) + "\n\nStyrelsen ska göra följande:\n\n- punkt alfa\n- punkt beta\n- punkt gamma\n"
        pages = render_pages(samverkan=text)
        assert not HEADINGS & set(last_lines(pages)), (lines, last_lines(pages))
        found = pages_of(pages, block)
        assert all(where == found[0] for where in found) and len(found[0]) == 1, (lines, found)
        seen.add(found[0][0])
    assert seen == {1, 2}
