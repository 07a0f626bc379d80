"""The edit form's round trip: a file saved through the form stays the user's file."""

from __future__ import annotations

import re

import pytest

from generator.web import forms

SAMPLE = """\
# Kommentar överst som ska stå kvar.
organisation: gota-lejon
rubrik: Gammal rubrik   # kommentar på raden
utfärdat: 2023-10-02
handläggare:
  namn: Petra Willquist
  telefon: 031-368 55 14
  e-post: petra@example.goteborg.se

förslag_till_beslut:
  - Styrelsen antecknar informationen.

sammanfattning: |
  Första stycket.

  Andra stycket.
"""


def test_unchanged_form_writes_the_same_bytes(tmp_path):
    path = tmp_path / "arende.yaml"
    path.write_text(SAMPLE, encoding="utf-8")
    state = forms.state_from_data(forms.load_data(SAMPLE, path))
    version = forms.file_version(path.read_bytes())
    assert forms.save_state(path, state, version) == version
    assert path.read_text(encoding="utf-8") == SAMPLE


def test_changed_fields_only_comments_and_order_kept(tmp_path):
    path = tmp_path / "arende.yaml"
    path.write_text(SAMPLE, encoding="utf-8")
    state = forms.state_from_data(forms.load_data(SAMPLE, path))
    state["rubrik"] = "Ny rubrik"
    state["diarienummer"] = "2024/12"
    state["forslag"].append("Styrelsen beslutar\noch går vidare.")
    forms.save_state(path, state, forms.file_version(SAMPLE.encode()))
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Kommentar överst som ska stå kvar.\norganisation: gota-lejon\n")
    assert re.search(r"\nrubrik: Ny rubrik +# kommentar på raden\n", text)
    assert text.index("diarienummer: 2024/12") < text.index("handläggare:")  # in document order
    assert "  - |\n    Styrelsen beslutar\n    och går vidare.\n" in text
    assert "sammanfattning: |\n  Första stycket.\n\n  Andra stycket.\n" in text


def test_conflict_writes_nothing(tmp_path):
    path = tmp_path / "arende.yaml"
    path.write_text(SAMPLE, encoding="utf-8")
    version = forms.file_version(path.read_bytes())
    path.write_text(SAMPLE.replace("Gammal", "Annans"), encoding="utf-8")
    state = forms.state_from_data(forms.load_data(SAMPLE, path))
    state["rubrik"] = "Min rubrik"
    with pytest.raises(forms.Conflict):
        forms.save_state(path, state, version)
    assert "Annans rubrik" in path.read_text(encoding="utf-8")


def test_empty_field_removes_the_key_and_a_missing_field_leaves_it(tmp_path):
    path = tmp_path / "arende.yaml"
    path.write_text(SAMPLE, encoding="utf-8")
    forms.save_state(path, {"handlaggare-telefon": ""}, forms.file_version(SAMPLE.encode()))
    text = path.read_text(encoding="utf-8")
    assert "telefon" not in text and "rubrik: Gammal rubrik" in text and "Andra stycket" in text


@pytest.mark.parametrize("name, anchor", [
    ("handläggare.e-post", "handlaggare-epost"),
    ("förslag_till_beslut[2]", "forslag-2"),
    ("dimensioner", "dimensioner-ekonomisk"),
    ("underskrifter[1].titel", "underskrift-1-titel"),
    ("bilagor[3].fil", "bilaga-3-titel"),
    ("rubrik", "rubrik"),
])
def test_message_fields_map_to_form_fields(name, anchor):
    assert forms.field_anchor(name) == anchor
