"""The sammanträde and protokoll pages write only what they change: comments, order and quoting stay.

``web/yamlmerge.write_changes`` is what the pages save with; these tests give it a real
sammantrade.yaml with the user's comments, make the changes the page makes (a field, a
point moved, a point marked utelämnad, a point added, a key added) and read the file back
both as text and as ``read_yaml`` reads content.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

from generator.pipeline import read_yaml
from generator.web.sammantraden import HEADER, ORDER
from generator.web.yamlmerge import write_changes

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "content" / "sammantraden" / "2023-10-forskolenamnden" / "sammantrade.yaml"

COMMENTED = """\
# Min egen anteckning överst.
organisation: forskolenamnden
datum: 2023-10-24   # flyttat från 17 oktober
tid: 16.00–18.00
plats: 'Kajutan'
ledamöter:
  - Eva Exempel (S), ordförande
  - Olof Exempel (M)
punkter:
  - punkt: Mötets öppnande   # alltid först
  # Handlingsplanerna: viktigast i dag
  - ärende: 2023-10-handlingsplaner
    föredragande: Johan Exempel
    # fråga Johan om bilaga 3
  - punkt: Övriga frågor
"""


def _file(tmp_path: Path, text: str) -> Path:
    file = tmp_path / "sammantrade.yaml"
    file.write_text(text, encoding="utf-8")
    return file


def _change(file: Path, change) -> tuple[dict, str]:
    before = read_yaml(file).data
    after = copy.deepcopy(before)
    change(after)
    write_changes(file, before, after, ORDER, HEADER)
    return after, file.read_text(encoding="utf-8")


def test_a_changed_field_keeps_every_comment_and_the_quoting(tmp_path):
    file = _file(tmp_path, COMMENTED)
    after, text = _change(file, lambda d: d.update(tid="17.00–19.00"))
    assert read_yaml(file).data == after
    assert text == COMMENTED.replace("16.00–18.00", "17.00–19.00")  # nothing else differs, byte for byte


def test_a_moved_point_takes_its_comments_with_it(tmp_path):
    file = _file(tmp_path, COMMENTED)

    def move_up(d):
        d["punkter"][0], d["punkter"][1] = d["punkter"][1], d["punkter"][0]

    after, text = _change(file, move_up)
    assert read_yaml(file).data == after
    assert "# Min egen anteckning överst." in text and "# flyttat från 17 oktober" in text
    # the comment lines above a point go with it; an end-of-line comment stays with its value
    assert text.index("# Handlingsplanerna") < text.index("2023-10-handlingsplaner") < text.index("Mötets öppnande") \
        < text.index("# alltid först") < text.index("# fråga Johan") < text.index("Övriga frågor")
    assert "  - punkt: Mötets öppnande   # alltid först\n" in text
    assert "\n\n" not in text  # no blank line made up
    assert "plats: 'Kajutan'" in text


def test_marking_adding_and_removing_points_and_a_new_key_in_its_place(tmp_path):
    file = _file(tmp_path, COMMENTED)

    def change(d):
        d["punkter"][1] = {**d["punkter"][1], "utelämnad": "OSL 19 kap. 3 §"}
        d["punkter"].pop(2)
        d["punkter"].append({"punkt": "Information", "text": "Läget inför vintern."})
        d["ordförande"] = "Eva Exempel (S)"  # a key the file did not have: after plats, as ORDER says

    after, text = _change(file, change)
    assert read_yaml(file).data == after
    assert "# alltid först" in text and "# Handlingsplanerna" in text and "Övriga frågor" not in text
    assert text.index("plats:") < text.index("ordförande:") < text.index("ledamöter:")


def test_the_sample_file_saved_unchanged_is_byte_identical(tmp_path):
    file = tmp_path / "sammantrade.yaml"
    shutil.copy(SAMPLE, file)
    _, text = _change(file, lambda d: None)
    assert text == SAMPLE.read_text(encoding="utf-8")


def test_a_file_without_comments_gets_the_pages_header(tmp_path):
    file = _file(tmp_path, "organisation: forskolenamnden\ndatum: 2023-10-24\npunkter: []\n")
    after, text = _change(file, lambda d: d.update(plats="Kajutan"))
    assert text.startswith(HEADER) and read_yaml(file).data == after
