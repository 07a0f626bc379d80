"""Tests of what is kept by content in out/.cache/bilagor: the validator's findings on a bilaga."""

from __future__ import annotations

import json
import shutil

from conftest import PDF_SAMPLES

from generator import cache as cache_module
from generator.accessibility import check_parts
from generator.bundleparts import BundlePart
from generator.cache import BilagaCache
from generator.conformance import validate_pdf


def test_findings_are_kept_by_content_and_reused(tmp_path):
    pdf = tmp_path / "bilaga.pdf"
    shutil.copy(PDF_SAMPLES / "pdflatex-4-pages.pdf", pdf)
    cache = BilagaCache(tmp_path / "out")

    fresh = validate_pdf(pdf, "ua1")
    assert fresh  # untagged: fails PDF/UA-1
    assert cache.failures_of(pdf, "ua1") == fresh
    [kept] = cache.folder.glob("*.json")
    kept.write_text(json.dumps([["KEPT-001", "from the cache"]]), encoding="utf-8")
    assert cache.failures_of(pdf, "ua1") == [("KEPT-001", "from the cache")]  # not validated again


def test_kept_findings_are_never_reused_for_another_pdf_profile_or_validator(tmp_path, monkeypatch):
    pdf = tmp_path / "bilaga.pdf"
    shutil.copy(PDF_SAMPLES / "pdflatex-4-pages.pdf", pdf)
    cache = BilagaCache(tmp_path / "out")
    cache.failures_of(pdf, "ua1")
    for kept in cache.folder.glob("*.json"):  # poison every entry: any reuse would show
        kept.write_text(json.dumps([["STALE-001", "stale"]]), encoding="utf-8")

    assert cache.failures_of(pdf, "2b") == validate_pdf(pdf, "2b")  # another profile
    shutil.copy(PDF_SAMPLES / "002-trivial-libre-office-writer.pdf", pdf)  # the same name, other bytes
    assert cache.failures_of(pdf, "ua1") == validate_pdf(pdf, "ua1")
    shutil.copy(PDF_SAMPLES / "pdflatex-4-pages.pdf", pdf)
    monkeypatch.setattr(cache_module, "VALIDATOR_KEY", b"page-validation 99.0; beslut-validate-v1")
    assert cache.failures_of(pdf, "ua1") == validate_pdf(pdf, "ua1")  # another validator


def test_damaged_entry_is_validated_again(tmp_path):
    pdf = PDF_SAMPLES / "pdflatex-4-pages.pdf"
    cache = BilagaCache(tmp_path / "out")
    cache.failures_of(pdf, "ua1")
    [kept] = cache.folder.glob("*.json")
    kept.write_bytes(b'[["half')
    assert cache.failures_of(pdf, "ua1") == validate_pdf(pdf, "ua1")
    assert json.loads(kept.read_bytes())  # and kept again, whole


def test_report_keeps_the_findings_of_bilagor_not_of_the_paper(tmp_path):
    cache = BilagaCache(tmp_path / "out")
    paper = BundlePart(pdf=PDF_SAMPLES / "002-trivial-libre-office-writer.pdf", bookmark="Beslutsunderlag",
                       label=None, stamp=None)
    bilaga = BundlePart(pdf=PDF_SAMPLES / "pdflatex-4-pages.pdf", bookmark="Bilaga 1 – Plan",
                        label="Bilaga 1:", stamp="Bilaga 1", nummer=1)
    uncached = check_parts([paper, bilaga])
    cached = check_parts([paper, bilaga], cache=cache)
    assert [r.as_dict() for r in cached] == [r.as_dict() for r in uncached]
    assert not cached[1].ok
    assert len(list(cache.folder.glob("*.json"))) == 1  # the paper changes on every edit: not kept


# --- values kept until their files change (the web page's start page) --------------------------


def test_by_modification_computes_again_only_when_a_file_changes(tmp_path):
    import threading
    import time

    from generator.cache import ByModification, folder_stamps

    folder = tmp_path / "arende"
    (folder / "bilagor").mkdir(parents=True)
    (folder / "arende.yaml").write_text("rubrik: Ett\n", encoding="utf-8")
    kept: ByModification[str] = ByModification()
    calls = []

    def compute() -> str:
        calls.append(1)
        time.sleep(0.05)
        return (folder / "arende.yaml").read_text(encoding="utf-8")

    def get() -> str:
        return kept.get("arende", folder_stamps(folder, "bilagor"), compute)

    threads = [threading.Thread(target=get) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1, "asked at once, computed once"
    assert get() == "rubrik: Ett\n" and len(calls) == 1
    (folder / "arende.yaml").write_text("rubrik: Två\n", encoding="utf-8")  # same size, new time
    assert get() == "rubrik: Två\n" and len(calls) == 2
    (folder / "bilagor" / "ny.pdf").write_bytes(b"%PDF")  # a bilaga added
    get()
    assert len(calls) == 3
    (folder / "bilagor" / "ny.pdf").unlink()
    get()
    assert len(calls) == 4


def test_by_modification_saved_values_serve_a_restart_until_a_file_changes(tmp_path):
    import json

    from generator.cache import ByModification, folder_stamps

    folder = tmp_path / "arende"
    folder.mkdir()
    (folder / "arende.yaml").write_text("rubrik: Ett\n", encoding="utf-8")
    saved = tmp_path / "state" / "startsida.json"
    first: ByModification[dict] = ByModification()
    first.get("arende", folder_stamps(folder), lambda: {"rubrik": "Ett", "per_org": [{"stopp": 1}]})
    first.save(saved)

    calls = []
    restarted: ByModification[dict] = ByModification()
    restarted.load(saved)
    value = restarted.get("arende", folder_stamps(folder), lambda: calls.append(1) or {})
    assert value == {"rubrik": "Ett", "per_org": [{"stopp": 1}]} and calls == [], "kept across the restart"
    (folder / "arende.yaml").write_text("rubrik: Två, längre\n", encoding="utf-8")
    assert restarted.get("arende", folder_stamps(folder), lambda: {"rubrik": "Två"}) == {"rubrik": "Två"}

    other_code = json.loads(saved.read_text(encoding="utf-8"))
    other_code["kod"] = "en annan version"
    saved.write_text(json.dumps(other_code), encoding="utf-8")
    for text in (json.dumps(other_code), "{inte json", '{"kod": null}'):
        saved.write_text(text, encoding="utf-8")
        fresh: ByModification[dict] = ByModification()
        fresh.load(saved)  # ignored: computed again
        assert fresh.get("arende", folder_stamps(folder), lambda: {"ny": True}) == {"ny": True}
