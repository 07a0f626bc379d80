"""Tests of generator.sanitize through write_bundle: hostile PDFs made with pikepdf, reopened after."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pikepdf
import pytest
from hostile_files import hostile_pdf, text_pdf

from generator.bundle import write_bundle
from generator.bundleparts import BundlePart
from generator.sanitize import sanitize_pdf


def part(pdf: Path, nummer: int | None = None) -> BundlePart:
    if nummer is None:
        return BundlePart(pdf=pdf, bookmark="Beslutsunderlag", label=None, stamp=None)
    return BundlePart(pdf=pdf, bookmark=f"Bilaga {nummer} – Enkät", label=f"Bilaga {nummer}:",
                      stamp=f"Bilaga {nummer}", nummer=nummer)


def all_objects_text(path: Path) -> bytes:
    """Return the uncompressed bytes of every object (qpdf --qdf), to grep for leftovers."""
    out = path.with_suffix(".qdf")
    subprocess.run(["qpdf", "--qdf", "--object-streams=disable", str(path), str(out)], check=True)
    return out.read_bytes()


@pytest.fixture
def bundled(tmp_path):
    paper = tmp_path / "paper.pdf"
    paper.write_bytes(text_pdf(1, "Beslutsunderlag"))
    out = tmp_path / "handlingar.pdf"
    warnings = write_bundle([part(paper), part(hostile_pdf(tmp_path / "enkat.pdf"), 2)], out, title="T")
    return out, warnings


def test_active_content_is_removed_and_named_in_swedish(bundled):
    out, warnings = bundled

    (warning,) = [w for w in warnings if "tog bort" in w]
    assert warning.startswith("Bilaga 2 – Enkät (")
    for words in ("JavaScript", "en länk som startar ett program", "2 bifogade filer", "en länk till en annan fil",
                  "otillåten adress", "medieobjekt", "ett XFA-formulär", "ett formulärfält till vanligt sidinnehåll"):
        assert words in warning
    assert "Launch" not in warning and "attachment" not in warning.lower()

    raw = all_objects_text(out)
    for needle in (b"/JavaScript", b"/JS", b"/Launch", b"/bin/sh", b"/EmbeddedFile", b"/FileAttachment",
                   b"echo pwned", b"/XFA", b"/AcroForm", b"/Widget", b"/RichMedia", b"/GoToR", b"file:///",
                   b"/OpenAction", b"/AA "):  # (/AAAAAA+ is a font subset)
        assert needle not in raw, needle


def test_safe_links_and_field_value_stay(bundled):
    out, _ = bundled
    with pikepdf.open(out) as pdf:
        page = pdf.pages[1]  # the bilaga's first page
        actions = [a.A for a in page.obj.Annots if a.Subtype == "/Link"]
        uris = sorted(str(a.URI) for a in actions if a.S == "/URI")
        assert uris == ["https://goteborg.se/", "mailto:diarium@goteborg.se"]
        (goto,) = [a for a in actions if a.S == "/GoTo"]
        assert goto.D[0].objgen == pdf.pages[2].obj.objgen  # still to its own second page
    text = subprocess.run(["pdftotext", "-f", "2", "-l", "2", str(out), "-"], capture_output=True, text=True).stdout
    assert "Ifyllt svar" in text  # the flattened field still shows its value


def test_structured_report_for_the_manifest(bundled):
    _, warnings = bundled
    (entry,) = warnings.cleaned
    assert entry["del"] == "Bilaga 2 – Enkät"
    assert entry["fil"].endswith("enkat.pdf")
    assert entry["borttaget"]["javascript"] >= 4 and entry["borttaget"]["attachment"] == 2
    assert entry["borttaget"]["launch"] == 1 and entry["formularfalt_plattade"] == 1


def test_clean_pdf_has_nothing_removed(tmp_path):
    with pikepdf.open(__import__("io").BytesIO(text_pdf(3))) as pdf:
        assert not sanitize_pdf(pdf)
    paper = tmp_path / "p.pdf"
    paper.write_bytes(text_pdf(1))
    warnings = write_bundle([part(paper), part(paper, 1)], tmp_path / "h.pdf", title="T")
    assert not [w for w in warnings if "tog bort" in w] and warnings.cleaned == []
