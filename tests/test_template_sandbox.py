"""Templates are untrusted: Jinja in a sandbox, bounded renders, checked containers.

A template that tries to run a command, read a file, reach a URL or exhaust memory or
time is refused by ``beslut templates`` and by ``render --mallar`` (exit 4, naming the
template and the expression), nothing runs, and the process stays small: each case runs
the real CLI in a child process and reads the child's peak RSS.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner
from conftest import ORGANISATIONER, REPO, VALID_ARENDE, write_arende

from generator.cli import main
from generator.docxcheck import check_docx, errors
from generator.sandbox import MAX_ITERATIONS, MAX_OUTPUT

TEMPLATE = "beslutsunderlag.docx"
MAX_RSS_KIB = 500 * 1024
"""The child's peak resident set size must stay under 500 MB."""


class Listener:
    """A TCP listener on 127.0.0.1 that counts the connections it gets."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.running = True
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.running = False
        self.thread.join()
        self.sock.close()


@pytest.fixture
def listener():
    server = Listener()
    yield server
    server.close()


def copy_templates(tmp_path: Path) -> Path:
    folder = tmp_path / "mallar"
    shutil.copytree(REPO / "templates" / "docx", folder)
    return folder


def with_paragraph(tmp_path: Path, text: str) -> Path:
    """Return a folder of templates whose beslutsunderlag has ``text`` as a last paragraph."""
    folder = copy_templates(tmp_path)
    document = docx.Document(str(folder / TEMPLATE))
    document.add_paragraph(text)
    document.save(str(folder / TEMPLATE))
    return folder


def rewrite_entries(path: Path, change: dict) -> None:
    """Rewrite the zip at ``path``: each name in ``change`` gets new bytes (a callable of the old, or bytes)."""
    with zipfile.ZipFile(path) as zin:
        entries = {info.filename: zin.read(info) for info in zin.infolist()}
    for name, new in change.items():
        entries[name] = new(entries.get(name, b"")) if callable(new) else new
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, blob in entries.items():
            zout.writestr(name, blob)


MEASURE = """
import os, subprocess, sys
child = subprocess.Popen([sys.executable, "-c", "from generator.beslut import main; main()", *sys.argv[2:]])
_, status, usage = os.wait4(child.pid, 0)
open(sys.argv[1], "w").write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""
"""Runs the CLI as its own child: Linux counts the RSS a process had before exec in its
ru_maxrss, so the CLI is started by this small process, not by pytest."""


def run_child(args: list, cwd: Path) -> tuple[int, str, int]:
    """Run ``beslut ARGS`` in a child process; return its exit code, output and peak RSS (KiB)."""
    out, err, rss = cwd / "child.out", cwd / "child.err", cwd / "child.rss"
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        code = subprocess.run([sys.executable, "-c", MEASURE, rss, *map(str, args)], cwd=cwd, stdout=stdout,
                              stderr=stderr, env={**os.environ, "COLUMNS": "400"}).returncode
    output = err.read_text(encoding="utf-8") + out.read_text(encoding="utf-8")
    return code, output, int(rss.read_text())


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


NESTED = "".join(f"{{% for x{i} in utfardat %}}" for i in range(6))
NESTED_END = "{% endfor %}" * 6
LOOPS_4 = "".join(f"{{% for x{i} in utfardat %}}" for i in range(4))

HOSTILE = {
    # what it tries: (the paragraph, a piece of the expression the message must name)
    "kommando": ("{{ cycler.__init__.__globals__.os.system('touch MARKER') }}", "cycler.__init__"),
    "kommando-via-joiner": ("{{ joiner.__init__.__globals__.__builtins__.exec('open(\"MARKER\", \"w\")') }}",
                            "joiner.__init__"),
    "fil": ("{% include '/etc/hostname' %}", "include"),
    "fil-via-bilaga": ("{{ bilagor[0].source.read_text() }}", "read_text"),
    "url": ("{{ lipsum.__globals__.__builtins__.__import__('urllib.request').request.urlopen("
            "'http://127.0.0.1:PORT/') }}", "lipsum.__globals__"),
    "minne-multiplikation": ("{{ 'x' * 10**10 }}", "10**10"),
    "minne-range": ("{% for i in range(10**9) %}{{ i }}{% endfor %}", "range"),
    "minne-formatering": ("{{ '%999999999s' % 'a' }}", "%999999999s"),
    "tid-loopar": (NESTED + NESTED_END, "{% for x0 in utfardat %}"),
    "utdata": (LOOPS_4 + "Lång text. " * 200 + "{% endfor %}" * 4, "{% for x0 in utfardat %}"),
    "attribut-sokvag": ("{{ bilagor[0].source }}", "source"),
    "kompilering-taggar": ("{{ rubrik }}" * 5000, "högst 1000 tillåts"),
    "kompilering-nastling": ("{{ " + "(" * 3000 + "1" + ")" * 3000 + " }}", "för djupt nästlat"),
    "kompilering-tal": ("{{ 1" + "0" * 5000 + " }}", "går inte att läsa"),
    "repr-bilaga": ("{{ bilagor }}", "{{ bilagor }}"),
    "repr-escape": ("{{ bilagor[0]|e }}", "{{ bilagor[0]|e }}"),
    "repr-join": ("{{ bilagor|join(', ') }}", "{{ bilagor|join(', ') }}"),
    "minne-set": ("{% set a = utfardat ~ utfardat %}" + "{% set a = a ~ a %}" * 30 + "{{ a }}",
                  "{% set a = utfardat ~ utfardat %}"),
    "kommando-i-cycle": ("{% for x in [1] %}{{ loop.cycle(cycler.__init__.__globals__.os.system('touch MARKER'))"
                         " }}{% endfor %}", "cycler.__init__"),
    "annan-loop-metod": ("{% for x in [1, 2] %}{{ loop.changed(x) }}{% endfor %}", "loop.changed"),
    "minne-join": ("{% set a = utfardat|join(utfardat ~ utfardat ~ utfardat) %}{% set b = a|join(a) %}"
                   "{% set c = b|join(b) %}{{ c }}", "{% set a ="),
}
"""Each way in: tid-loopar, utdata, attribut-sokvag and the minne-set/-join pass the static
check and are stopped while rendering."""


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_template_is_refused_and_nothing_runs(case: str, tmp_path: Path, listener: Listener):
    text, expression = HOSTILE[case]
    folder = with_paragraph(tmp_path, text.replace("PORT", str(listener.port)))
    arende = write_arende(tmp_path / "arende", dict(VALID_ARENDE))
    marker = tmp_path / "MARKER"

    code, output, rss = run_child(["templates", folder], tmp_path)
    assert code == 4, output
    assert TEMPLATE in output and expression in output, output
    assert "Traceback" not in output
    assert rss < MAX_RSS_KIB, f"templates: peak RSS {rss} KiB"

    code, output, rss = run_child(["render", arende, "--organisationer", ORGANISATIONER,
                                   "--out", tmp_path / "out", "--mallar", folder], tmp_path)
    assert code == 4, output
    assert TEMPLATE in output and expression in output, output
    assert rss < MAX_RSS_KIB, f"render: peak RSS {rss} KiB"
    assert not list((tmp_path / "out").rglob("*.docx"))

    assert not marker.exists()
    assert listener.connections == 0


def test_runtime_limits_say_what_stopped_them(tmp_path: Path):
    folder = with_paragraph(tmp_path, NESTED + NESTED_END)
    result = run("templates", folder)
    assert result.exit_code == 4
    assert f"{MAX_ITERATIONS:,}".replace(",", " ") in result.stderr and "varv" in result.stderr

    folder = with_paragraph(tmp_path / "utdata", LOOPS_4 + "Lång text. " * 200 + "{% endfor %}" * 4)
    result = run("templates", folder)
    assert result.exit_code == 4
    assert f"{MAX_OUTPUT // (1024 * 1024)} miljoner tecken" in result.stderr


def test_a_template_may_still_loop_filter_and_compare(tmp_path: Path):
    text = ("{% for b in bilagor %}{{ loop.index }}. {{ b.titel|upper }}{% if not loop.last %}; "
            "{% endif %}{% endfor %} – {{ organisation|lower }} {{ 'ja' if bilagor|length > 0 else 'nej' }}"
            " {{ handlaggare.namn ~ ', ' ~ handlaggare.telefon }} {{ underskrifter|length }}"
            " {{ bilagor|join(', ', attribute='titel') }}")
    folder = with_paragraph(tmp_path, text)
    assert run("templates", folder).exit_code == 0
    arende = write_arende(tmp_path / "arende", dict(VALID_ARENDE))
    result = run("render", arende, "--organisationer", ORGANISATIONER, "--out", tmp_path / "out",
                 "--mallar", folder)
    assert result.exit_code == 0, result.output
    body = docx.Document(str(tmp_path / "out" / "arenden" / "arende" / TEMPLATE)).paragraphs[-1].text
    assert body == ("1. EN BILAGA – försäkrings ab göta lejon ja Petra Willquist, 031-368 55 14 0 En bilaga")


def test_core_properties_are_checked_like_the_body(tmp_path: Path):
    folder = copy_templates(tmp_path)
    document = docx.Document(str(folder / TEMPLATE))
    document.core_properties.subject = "{{ cycler.__init__.__globals__.os.system('touch MARKER') }}"
    document.save(str(folder / TEMPLATE))
    result = run("templates", folder)
    assert result.exit_code == 4
    assert "dokumentegenskapen 'subject'" in result.stderr and "cycler.__init__" in result.stderr
    assert not (tmp_path / "MARKER").exists()


# --- the container -------------------------------------------------------------------------


def test_zip_bomb_template_is_refused_small(tmp_path: Path):
    folder = copy_templates(tmp_path)
    padding = b"<!--" + b" " * (200 * 1024 * 1024) + b"-->"
    rewrite_entries(folder / TEMPLATE, {"word/document.xml": lambda old: old.replace(b"?>", b"?>" + padding, 1)})
    assert (folder / TEMPLATE).stat().st_size < 2 * 1024 * 1024
    arende = write_arende(tmp_path / "arende", dict(VALID_ARENDE))
    for args in (["templates", folder],
                 ["render", arende, "--organisationer", ORGANISATIONER, "--out", tmp_path / "out",
                  "--mallar", folder]):
        code, output, rss = run_child(args, tmp_path)
        assert code == 4, output
        assert "zip-bomb" in output and TEMPLATE in output
        assert rss < MAX_RSS_KIB, f"{args[0]}: peak RSS {rss} KiB"


def test_template_with_a_huge_xml_part_is_refused(tmp_path: Path):
    folder = copy_templates(tmp_path)
    text = os.urandom(5 * 1024 * 1024).hex().encode()  # compresses about 2:1, under the bomb ratio
    rewrite_entries(folder / TEMPLATE, {"customXml/item2.xml": b"<x>" + text + b"</x>"})
    result = run("templates", folder)
    assert result.exit_code == 4
    assert "customXml/item2.xml" in result.stderr and "MiB" in result.stderr


def test_template_with_macros_is_refused(tmp_path: Path):
    folder = copy_templates(tmp_path)
    rewrite_entries(folder / TEMPLATE, {
        "word/vbaProject.bin": b"\xd0\xcf\x11\xe0" + b"\0" * 512,
        "[Content_Types].xml": lambda old: old.replace(
            b"</Types>", b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>'),
    })
    result = run("templates", folder)
    assert result.exit_code == 4
    assert "makron" in result.stderr and "vbaProject.bin" in result.stderr


def test_dotm_content_is_refused_as_macros(tmp_path: Path):
    folder = copy_templates(tmp_path)
    rewrite_entries(folder / TEMPLATE, {"[Content_Types].xml": lambda old: old.replace(
        b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        b"application/vnd.ms-word.template.macroEnabledTemplate.main+xml")})
    result = run("templates", folder)
    assert result.exit_code == 4
    assert "makron" in result.stderr and "macroEnabled" in result.stderr
    arende = write_arende(tmp_path / "arende", dict(VALID_ARENDE))
    result = run("render", arende, "--organisationer", ORGANISATIONER, "--out", tmp_path / "out",
                 "--mallar", folder)
    assert result.exit_code == 4 and "makron" in result.output


def test_template_with_a_dtd_is_refused(tmp_path: Path):
    folder = copy_templates(tmp_path)
    doctype = b'<!DOCTYPE w:footnotes [<!ENTITY hemlig SYSTEM "file:///etc/hostname">]>'
    rewrite_entries(folder / TEMPLATE, {"word/footnotes.xml": lambda old: doctype + old})
    result = run("templates", folder)
    assert result.exit_code == 4
    assert "word/footnotes.xml" in result.stderr and "DOCTYPE" in result.stderr


def png() -> bytes:
    from io import BytesIO

    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, "PNG")
    return buffer.getvalue()


def linked_template(tmp_path: Path, url: str) -> Path:
    """Return templates whose beslutsunderlag has an attached template, a linked image and an INCLUDEPICTURE field."""
    from io import BytesIO

    folder = copy_templates(tmp_path)
    document = docx.Document(str(folder / TEMPLATE))
    document.add_paragraph().add_run().add_picture(BytesIO(png()))
    document.save(str(folder / TEMPLATE))
    field = (f'<w:p><w:fldSimple w:instr=" INCLUDEPICTURE &quot;{url}/falt.png&quot; \\d ">'
             '<w:r><w:t>Bildtext från fältet</w:t></w:r></w:fldSimple></w:p>').encode()

    def document_xml(old: bytes) -> bytes:
        old = re.sub(rb'r:embed="(rId\d+)"', rb'r:link="\1"', old)
        return old.replace(b"<w:sectPr", field + b"<w:sectPr", 1)

    def document_rels(old: bytes) -> bytes:
        return re.sub(rb'Target="media/[^"]+"', f'Target="{url}/bild.png" TargetMode="External"'.encode(), old)

    rewrite_entries(folder / TEMPLATE, {
        "word/document.xml": document_xml,
        "word/_rels/document.xml.rels": document_rels,
        "word/settings.xml": lambda old: old.replace(  # in schema order, so only the link is wrong
            b"<w:defaultTabStop", b'<w:attachedTemplate r:id="rIdMall"/><w:defaultTabStop', 1),
        "word/_rels/settings.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rIdMall" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            f'relationships/attachedTemplate" Target="{url}/mall.dotx" TargetMode="External"/>'
            '</Relationships>').encode(),
    })
    return folder


def test_links_out_of_a_template_are_removed_with_a_warning(tmp_path: Path):
    url = "http://127.0.0.1:9/mallar"
    folder = linked_template(tmp_path, url)
    with zipfile.ZipFile(folder / TEMPLATE) as z:
        assert b"TargetMode=\"External\"" in z.read("word/_rels/document.xml.rels")
        assert b"r:link=" in z.read("word/document.xml")
        assert b"attachedTemplate" in z.read("word/settings.xml")
    result = run("templates", folder)
    assert result.exit_code == 0, result.output
    assert "bifogad mall" in result.stderr and "länkad bild" in result.stderr
    assert "INCLUDEPICTURE" in result.stderr and "Varning" in result.stderr

    arende = write_arende(tmp_path / "arende", dict(VALID_ARENDE))
    result = run("render", arende, "--organisationer", ORGANISATIONER, "--out", tmp_path / "out",
                 "--mallar", folder)
    assert result.exit_code == 0, result.output
    assert "bifogad mall" in result.stderr
    rendered = tmp_path / "out" / "arenden" / "arende" / TEMPLATE
    with zipfile.ZipFile(rendered) as z:
        for name in z.namelist():
            blob = z.read(name)
            assert b"127.0.0.1" not in blob, name
            assert b"INCLUDEPICTURE" not in blob and b"attachedTemplate" not in blob, name
            assert b"r:link=" not in blob, name
    text = "\n".join(p.text for p in docx.Document(str(rendered)).paragraphs)
    assert "Bildtext från fältet" in text
    assert not errors(check_docx(rendered)), "what referred to a removed link is gone too: Word repairs nothing"
    manifest = (tmp_path / "out" / "arenden" / "arende" / "manifest.json").read_text(encoding="utf-8")
    assert "länkad bild" in manifest


def test_shipped_templates_pass_unchanged():
    from generator.templatefile import read_template
    from generator.templates import default_template_dir

    for name in (TEMPLATE, "foljebrev.docx"):
        path = default_template_dir() / name
        checked = read_template(path)
        assert checked.notes == () and checked.data == path.read_bytes()


def test_letters_with_a_hostile_template_stop_in_every_worker(tmp_path: Path):
    folder = copy_templates(tmp_path)
    document = docx.Document(str(folder / "foljebrev.docx"))
    document.add_paragraph(HOSTILE["kommando"][0])
    document.save(str(folder / "foljebrev.docx"))
    utskick = REPO / "content" / "utskick" / "2023-08-handlingsplaner"
    code, output, rss = run_child(["letters", utskick, "--organisationer", ORGANISATIONER, "--till", "bolag",
                                   "--workers", "2", "--out", tmp_path / "out", "--mallar", folder], tmp_path)
    assert code == 4, output
    assert "foljebrev.docx" in output and "cycler.__init__" in output
    assert not (tmp_path / "MARKER").exists()
    assert not list((tmp_path / "out").rglob("*.docx"))
    assert rss < MAX_RSS_KIB


# --- loop.cycle: the one call a template may make --------------------------------------------


def sandbox_render(source: str, **variables) -> str:
    from generator.sandbox import TemplateSandbox

    return TemplateSandbox().from_string(source).render(**variables)


def test_loop_cycle_alternates_in_a_loop():
    text = "{% for b in ['a', 'b', 'c'] %}{{ loop.cycle('udda', 'jämn') }}:{{ b }} {% endfor %}"
    assert sandbox_render(text) == "udda:a jämn:b udda:c "
    nested = "{% for r in [1, 2] %}{% for c in [1, 2, 3] %}{{ loop.cycle('x', 'y', 'z') }}{% endfor %};{% endfor %}"
    assert sandbox_render(nested) == "xyz;xyz;"


@pytest.mark.parametrize("source", [
    "{% for b in [1] %}{{ loop.cycle(*['a', 'b']) }}{% endfor %}",
    "{% for b in [1] %}{{ loop.cycle(a='a') }}{% endfor %}",
    "{% for b in [1] %}{{ loop.cycle() }}{% endfor %}",
    "{% for b in [1] %}{{ loop.changed(b) }}{% endfor %}",
    "{% for b in [1] %}{{ loop.cycle('a').upper() }}{% endfor %}",
    "{% for b in [1] %}{{ loop.cycle('a', loop.cycle.__self__) }}{% endfor %}",
    "{{ rubrik.cycle('a') }}",
    "{{ cycle('a') }}",
])
def test_every_other_call_is_refused_before_it_compiles(source: str):
    from generator.sandboxcheck import TemplateRefused

    with pytest.raises(TemplateRefused):
        sandbox_render(source, rubrik="R")


def test_loop_cycle_of_something_not_a_loop_is_refused_when_it_runs():
    """``loop`` set to another value that has a ``cycle`` method: the static check lets the form pass."""
    from jinja2.exceptions import SecurityError

    class Decoy:
        def cycle(self, *values):
            raise AssertionError("the decoy's method ran")

    with pytest.raises(SecurityError):
        sandbox_render("{{ loop.cycle('a', 'b') }}", loop=Decoy())
    with pytest.raises(SecurityError):
        sandbox_render("{% set loop = decoy %}{{ loop.cycle('a', 'b') }}", decoy=Decoy())
    with pytest.raises(SecurityError):  # the bound method itself is not printed
        sandbox_render("{% for b in [1] %}{{ loop.cycle }}{% endfor %}")


def test_a_word_template_may_stripe_its_bilagor_with_loop_cycle(tmp_path: Path):
    text = "{% for b in bilagor %}{{ loop.cycle('udda', 'jämn') }}: {{ b.titel }}{% endfor %}"
    folder = with_paragraph(tmp_path, text)
    assert run("templates", folder).exit_code == 0
    arende = write_arende(tmp_path / "arende", dict(VALID_ARENDE))
    result = run("render", arende, "--organisationer", ORGANISATIONER, "--out", tmp_path / "out",
                 "--mallar", folder)
    assert result.exit_code == 0, result.output
    body = docx.Document(str(tmp_path / "out" / "arenden" / "arende" / TEMPLATE)).paragraphs[-1].text
    assert body == "udda: En bilaga"
