"""Letters written from one rendering per utskick (``LetterSkeleton``) are the letters rendered one by one."""

from __future__ import annotations

import random
import zipfile
from pathlib import Path

import pytest
import yaml

from generator import letters
from generator.content import load_utskick
from generator.letters import letter_skeleton, merge_values, render_letter
from generator.model import Organisation
from generator.templates import FOLJEBREV, default_template_dir

TEMPLATE = default_template_dir() / FOLJEBREV

BRODTEXT = """\
Till {{ organisation }} ({{ id }}), {{ förvaltning }}.

# Uppdrag till {{ organisation }}

## {{ beslutsorgan }} i {{ organisation }}

Vi ber **{{ mottagare }}** och *{{ organisation }}* att svara[^svar] till [{{ organisation }}](mailto:a@b.se).

- {{ organisation }} anmäler sig
- kontakt: {{ e-post }}

1. {{ organisation }}
2. Sedan {{ beslutsorgan }}

| Mottagare | Id |
| --- | --- |
| {{ organisation }} | {{ id }} |

Listan nedan gäller {{ organisation }}:

- en
- två

[^svar]: Svaret skickas av {{ organisation }} till {{ e-post }}.
"""

TRICKY = [
    "Higab & Co AB", "Bolaget <AB> Väst", "Stjärn*bolaget AB", "Under_streck AB", "Hak[1] AB",
    "Back\\slash AB", "Rör | Pipe AB", "Citat \"AB\" och 'C' AB", "Hash # AB", "Göta Älv 2",
    # values the skeleton does not take: the letters are rendered one by one
    "_Under", "[AB]", "*AB*", "AT&amp;T", "AT&T", "1. AB", "2023", "AB:", "Tab\tAB",
]


def write_utskick(folder: Path, brodtext: str = BRODTEXT, rubrik: str = "Brev till {{ organisation }}") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    data = {"avsändare": "Stadsledningskontoret", "datum": "2023-08-21", "rubrik": rubrik, "mottagare": "alla",
            "underskrift": {"namn": "Christina Eide", "titel": "Direktör"}, "brödtext": brodtext}
    (folder / "utskick.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return folder


def organisation(namn: str, typ: str = "bolag", epost: str | None = "info@bolag.se") -> Organisation:
    data = {"id": "bolaget-1", "namn": namn, "typ": typ, "förvaltning": f"{namn} förvaltning", "e-post": epost}
    return Organisation.model_validate({k: v for k, v in data.items() if v is not None})


def one_by_one(loaded, org: Organisation, target: Path, template: Path = TEMPLATE) -> bytes:
    """Render the letter the slow way (no skeleton)."""
    saved = letters.letter_skeleton
    letters.letter_skeleton = lambda *args, **kwargs: None  # type: ignore[assignment]
    try:
        return render_letter(loaded, org, target, template).read_bytes()
    finally:
        letters.letter_skeleton = saved


def assert_same_letter(loaded, org: Organisation, tmp_path: Path, template: Path = TEMPLATE) -> None:
    fast = render_letter(loaded, org, tmp_path / "fast.docx", template).read_bytes()
    slow = one_by_one(loaded, org, tmp_path / "slow.docx", template)
    if fast != slow:  # show where, on the document's XML
        with zipfile.ZipFile(tmp_path / "fast.docx") as a, zipfile.ZipFile(tmp_path / "slow.docx") as b:
            assert a.read("word/document.xml").decode() == b.read("word/document.xml").decode()
    assert fast == slow, org.namn


@pytest.mark.parametrize("namn", TRICKY)
def test_tricky_values_give_the_letter_rendered_on_its_own(tmp_path: Path, namn: str):
    loaded = load_utskick(write_utskick(tmp_path / "brev"))
    org = organisation(namn)
    skeleton = letter_skeleton(loaded, TEMPLATE, with_epost=True)
    assert skeleton is not None and "organisation" in skeleton.fields
    taken = TRICKY.index(namn) < TRICKY.index("_Under")
    assert skeleton.fits(merge_values(org)) is taken
    assert_same_letter(loaded, org, tmp_path)
    with zipfile.ZipFile(tmp_path / "fast.docx") as docx:
        document = docx.read("word/document.xml").decode()
    if taken:
        assert namn.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in document


def test_every_kind_of_recipient_in_one_batch(tmp_path: Path):
    """Nämnd and bolag, with and without e-post: one skeleton per shape, each letter as rendered alone."""
    loaded = load_utskick(write_utskick(tmp_path / "brev"))
    for index, org in enumerate([organisation("Liseberg AB"), organisation("Arkivnämnden", "nämnd"),
                                 organisation("Utan E-post AB", epost=None), organisation("Liseberg AB")]):
        assert_same_letter(loaded, org, tmp_path / str(index))


def test_random_values(tmp_path: Path):
    loaded = load_utskick(write_utskick(tmp_path / "brev"))
    chance = random.Random(13)
    alphabet = "abcÅäö019 &<>*_[]\\|#`'\"!.,:;()-+=~^%$@/"
    taken = 0
    for index in range(60):
        middle = "".join(chance.choice(alphabet) for _ in range(chance.randint(0, 12)))
        namn = (f"A{middle}b" if index % 3 else middle).strip() or "x"  # mostly the kind the skeleton takes
        org = organisation(namn)
        skeleton = letter_skeleton(loaded, TEMPLATE, with_epost=True)
        taken += skeleton is not None and skeleton.fits(merge_values(org))
        assert_same_letter(loaded, org, tmp_path / str(index))
    assert taken >= 20  # the check compared letters written from the skeleton, not only letters rendered alone


@pytest.mark.parametrize("brodtext", [
    "Läs mer på [sidan](https://goteborg.se/{{ id }}).",  # a link target
    "Koden `{{ organisation }}`.",  # a code span
    "Text[^{{ id }}].\n\n[^{{ id }}]: Fotnot.",  # a footnote label
    "Kod:\n\n```\n{{ organisation }}\n```",  # a code block
])
def test_merge_field_outside_plain_text_renders_each_letter_alone(tmp_path: Path, brodtext: str):
    loaded = load_utskick(write_utskick(tmp_path / "brev", brodtext))
    assert letter_skeleton(loaded, TEMPLATE, with_epost=True) is None
    assert_same_letter(loaded, organisation("Stjärn*bolaget AB"), tmp_path)


def test_template_that_does_more_than_print_a_value_renders_each_letter_alone(tmp_path: Path):
    """A template may test or filter a recipient's value: a token cannot stand for it."""
    template = tmp_path / "mallar" / FOLJEBREV
    template.parent.mkdir()
    with zipfile.ZipFile(TEMPLATE) as source, zipfile.ZipFile(template, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "word/document.xml":
                assert b"{{ rubrik }}" in data
                data = data.replace(b"{{ rubrik }}", b"{{ rubrik|upper }}")
            target.writestr(item, data)
    loaded = load_utskick(write_utskick(tmp_path / "brev"))
    assert letter_skeleton(loaded, template, with_epost=True) is None
    org = organisation("Liseberg AB")
    assert_same_letter(loaded, org, tmp_path, template)
    with zipfile.ZipFile(tmp_path / "fast.docx") as docx:
        assert "BREV TILL LISEBERG AB" in docx.read("word/document.xml").decode()


def test_the_skeleton_follows_an_edited_utskick(tmp_path: Path):
    folder = write_utskick(tmp_path / "brev")
    org = organisation("Liseberg AB")
    render_letter(load_utskick(folder), org, tmp_path / "first.docx", TEMPLATE)
    write_utskick(folder, BRODTEXT.replace("Vi ber", "Nu ber vi"))
    render_letter(load_utskick(folder), org, tmp_path / "second.docx", TEMPLATE)
    with zipfile.ZipFile(tmp_path / "second.docx") as docx:
        assert "Nu ber vi" in docx.read("word/document.xml").decode()
