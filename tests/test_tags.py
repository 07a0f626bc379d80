"""handlingar.pdf keeps the tags (logical structure) of its parts when all of them have tags."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pikepdf
import pytest
from conftest import PDF_SAMPLES, SAMPLE, render_paper

from generator.bundle import write_bundle
from generator.bundleparts import BundlePart

TAGGED_BILAGA = SAMPLE / "bilagor" / "3-plan-tystnadskulturer.pdf"


@pytest.fixture(scope="module")
def paper_pdf(tmp_path_factory, converter) -> Path:
    out = tmp_path_factory.mktemp("out")
    return render_paper(SAMPLE, out, org_ids=["gota-lejon"], pdf=True, converter=converter).files[-1]


def parts(paper: Path, bilaga: Path) -> list[BundlePart]:
    return [
        BundlePart(pdf=paper, bookmark="Beslutsunderlag", label=None, stamp=None),
        BundlePart(pdf=bilaga, bookmark="Bilaga 1 – Planen", label="Bilaga 1:", stamp="Bilaga 1", nummer=1),
    ]


def mcid_kinds(pdf: pikepdf.Pdf, pages: range) -> list[list[tuple[int, str]]]:
    """Return, per page, each marked-content id with the structure type it belongs to."""
    tree = pdf.Root.StructTreeRoot.ParentTree.Nums
    parents = {int(tree[i]): tree[i + 1] for i in range(0, len(tree), 2)}
    result = []
    for index in pages:
        page = pdf.pages[index].obj
        contents = page.Contents if isinstance(page.Contents, pikepdf.Array) else [page.Contents]
        data = b"".join(stream.read_bytes() for stream in contents)
        ids = sorted({int(m) for m in re.findall(rb"/MCID (\d+)", data)})
        array = parents[int(page.StructParents)]
        result.append([(m, str(array[m].S)) for m in ids])
    return result


def structure_text(pdf: Path) -> str:
    raw = subprocess.run(["pdfinfo", "-enc", "UTF-8", "-struct-text", str(pdf)],
                         capture_output=True, check=True).stdout
    return raw.decode("utf-8", errors="replace")


def test_bundle_of_tagged_parts_is_tagged_part_by_part(paper_pdf: Path, tmp_path: Path):
    out = tmp_path / "handlingar.pdf"
    assert write_bundle(parts(paper_pdf, TAGGED_BILAGA), out, title="T") == []

    with pikepdf.open(out) as bundle, pikepdf.open(paper_pdf) as paper, pikepdf.open(TAGGED_BILAGA) as bilaga:
        assert bundle.Root.MarkInfo.Marked is True
        document = bundle.Root.StructTreeRoot.K[0]
        assert document.S == "/Document" and str(document.Lang) == "sv-SE"
        assert [str(p.T) for p in document.K] == ["Beslutsunderlag", "Bilaga 1 – Planen"]
        assert all(p.S == "/Part" for p in document.K)

        n = len(paper.pages)
        keys = [int(page.obj.StructParents) for page in bundle.pages]
        assert len(set(keys)) == len(keys), "varje sida har egna nycklar i strukturträdet"
        assert int(bundle.Root.StructTreeRoot.ParentTreeNextKey) > max(keys)
        # Every piece of marked text still belongs to the same kind of element as in its part.
        assert mcid_kinds(bundle, range(n)) == mcid_kinds(paper, range(n))
        assert mcid_kinds(bundle, range(n, len(bundle.pages))) == mcid_kinds(bilaga, range(len(bilaga.pages)))

    tags = structure_text(out)
    assert "Information om handlingsplaner" in tags
    assert "Göteborgs Stads styrsystem" in tags
    assert '"Bilaga 1"' not in tags, "stämpeln är en artefakt, inte innehåll"
    with pikepdf.open(out) as bundle:
        stamped = bundle.pages[n].obj.Contents
        data = b"".join(s.read_bytes() for s in (stamped if isinstance(stamped, pikepdf.Array) else [stamped]))
        artifact = data.rindex(b"/Artifact")
        assert b"(Bilaga 1)" in data[artifact:data.index(b"EMC", artifact)]
    page_text = subprocess.run(["pdftotext", "-f", str(n + 1), "-l", str(n + 1), str(out), "-"],
                               capture_output=True, text=True, check=True).stdout
    assert "Bilaga 1" in page_text


def test_one_untagged_part_leaves_the_bundle_untagged(paper_pdf: Path, tmp_path: Path):
    out = tmp_path / "handlingar.pdf"
    warnings = write_bundle(parts(paper_pdf, PDF_SAMPLES / "minimal-document.pdf"), out, title="T")
    assert len(warnings) == 1 and "saknar taggar: Bilaga 1 – Planen." in warnings[0]
    with pikepdf.open(out) as bundle:
        assert "/StructTreeRoot" not in bundle.Root
        assert "/MarkInfo" not in bundle.Root or bundle.Root.MarkInfo.get("/Marked") is not True
