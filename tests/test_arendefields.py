"""The ärende's fields are declared once, on the model: a field added there appears everywhere.

``LargerArende`` is ``Arende`` with one more field, ``klimat``, declared as a real field
would be. Each place that lists the ärende's fields (the edit form, the review, the Word
template's variables and context, the template check's example, ``beslut new``, the
shipped template's sections) is asked about it through ``arendefields``.
"""

from __future__ import annotations

from dataclasses import astuple
from pathlib import Path
from typing import Annotated

import yaml
from conftest import ORGANISATIONER, VALID_ARENDE

from generator import arendefields
from generator.arendefields import (
    FormField,
    PaperSection,
    example_data,
    fields_of,
    form_fields,
    key_order,
    paper_sections,
    placeholders,
)
from generator.content import LoadedArende, load_organisationer
from generator.context import PAPER_VARIABLES, build_context, paper_variables
from generator.findings import STOPP, text_fields
from generator.model import MARKDOWN, Arende, FieldSpec, Text
from generator.review import review_arende, scaffold_placeholders
from generator.scaffold import create_arende

KLIMAT = FieldSpec("Klimatpåverkan", MARKDOWN, prose=True, placeholder="[Skriv klimatpåverkan här]")


class LargerArende(Arende):
    """An ärende with one field more than today's."""

    klimat: Annotated[Text, KLIMAT]


class FakeMarkdown:
    """Stands in for the Word renderer: says what it was asked to make of a text."""

    def subdoc(self, text: str) -> tuple[str, str]:
        return ("subdoc", text)

    def numbered_list(self, items: list[str]) -> tuple[str, tuple[str, ...]]:
        return ("numbered", tuple(items))


def loaded(data: dict, model: type[Arende] = LargerArende) -> LoadedArende:
    org = load_organisationer(ORGANISATIONER).find(data["organisation"])
    assert org is not None
    return LoadedArende(arende=model.model_validate(data), organisation=org, source=Path("arende.yaml"),
                        folder=Path("."))


LARGER = {**VALID_ARENDE, "klimat": "Ärendet minskar utsläppen, se bilaga 1."}


def test_the_form_gets_the_new_field_after_the_others():
    assert form_fields(LargerArende)[-1] == FormField("klimat", ("klimat",), "Klimatpåverkan", "markdown", "")
    assert form_fields(LargerArende)[:-1] == form_fields()
    assert key_order(LargerArende) == [*key_order(), "klimat"]


def test_the_web_form_lists_what_the_model_declares():
    from generator.web import forms

    assert [astuple(f) for f in forms.FIELDS] == [astuple(f) for f in form_fields()]
    assert forms.KEY_ORDER == key_order()
    assert forms.SUB_ORDER["handläggare"] == ["namn", "telefon", "e-post"]


def test_the_review_reads_the_new_field():
    fields = {f.name: f for f in text_fields(loaded(LARGER))}
    assert fields["klimat"].prose and fields["klimat"].loc == ("klimat",)
    findings = review_arende(loaded({**LARGER, "klimat": "Klimatet TODO och bilaga 7."}))
    stopp = {(f.code, f.field) for f in findings if f.severity == STOPP}
    assert {("platshallare", "klimat"), ("bilaga-saknas", "klimat")} <= stopp


def test_the_review_reads_every_text_of_todays_model():
    names = [f.name for f in text_fields(loaded(VALID_ARENDE, Arende))]
    assert names[:6] == ["rubrik", "handläggare.namn", "handläggare.telefon", "handläggare.e-post",
                         "förslag_till_beslut[1]", "sammanfattning"]
    assert "bilagor[1].titel" in names and "bilagor[1].fil" not in names and "organisation" not in names


def test_the_template_may_use_the_new_field_and_gets_it_as_markdown():
    assert paper_variables(LargerArende) == PAPER_VARIABLES | {"klimat"}
    context = build_context(loaded(LARGER), (), FakeMarkdown())  # type: ignore[arg-type]
    assert context["klimat"] == ("subdoc", LARGER["klimat"])
    assert context["forslag_till_beslut"] == ("numbered", ("Styrelsen antecknar informationen.",))
    assert context["diarienummer"] == "-" and context["utfardat"] == "2023-10-02"
    assert set(context) == paper_variables(LargerArende)


def test_the_template_example_fills_the_new_field():
    data = example_data("Exempeltext.", LargerArende)
    assert data["klimat"] == "Exempeltext."
    assert LargerArende.model_validate(data).klimat == "Exempeltext."


def test_the_shipped_template_gets_a_section_for_the_new_field():
    assert paper_sections(LargerArende)[-1] == PaperSection("Klimatpåverkan", "klimat")
    sections = paper_sections()
    assert PaperSection("{{ bedomning_rubrik }}", "bedomning") in sections
    assert sections.index("bilagor") == sections.index(PaperSection("Samverkan", "samverkan")) + 1


def test_beslut_new_writes_the_new_field_and_the_review_knows_its_placeholder(tmp_path, monkeypatch):
    monkeypatch.setattr(arendefields, "Arende", LargerArende)
    registry = load_organisationer(ORGANISATIONER)
    create_arende(tmp_path / "nytt", ["gota-lejon"], registry)
    text = (tmp_path / "nytt" / "arende.yaml").read_text(encoding="utf-8")
    assert "# Klimatpåverkan.\nklimat: |\n  [Skriv klimatpåverkan här]\n" in text
    data = yaml.safe_load(text)
    assert LargerArende.model_validate(data).klimat == "[Skriv klimatpåverkan här]"
    assert "[Skriv klimatpåverkan här]" in scaffold_placeholders()


def test_todays_skeleton_writes_every_field_itself():
    skeleton = (Path(arendefields.__file__).parent / "skeletons" / "arende.yaml.j2").read_text(encoding="utf-8")
    assert arendefields.unwritten_fields(skeleton) == [], "write its comment into skeletons/arende.yaml.j2"
    assert arendefields.unwritten_fields(skeleton, LargerArende) == [fields_of(LargerArende)[-1]]


def test_placeholders_are_one_per_text_and_bedomning_one_per_organisation_type():
    found = placeholders()
    assert found["bedomning_bolag"] == "[Skriv bolagets bedömning här]"
    assert found["bedomning_namnd"] == "[Skriv förvaltningens bedömning här]"
    assert found["epost"] == "[fornamn.efternamn@goteborg.se]"
    assert len(set(found.values())) == len(found) == 15
