"""Hostile bilagor through the Converter: linked content, zip bombs and giant images.

Each is made in the test, converted by a real LibreOffice, and must be cleaned or refused
with a Swedish message within generous bounds of time and memory.
"""

from __future__ import annotations

import http.server
import resource
import threading
import time
import zipfile
from pathlib import Path

import pikepdf
import pytest
from hostile_files import huge_png, linked_image_docx, png_bytes, zip_bomb_docx
from test_convert import ODF_NAMESPACES, make_docx

from generator.errors import ConversionError
from generator.officefile import MAX_RATIO, MAX_UNPACKED, copy_office_file

MAX_SECONDS = 30
MAX_GROWTH_MB = 500


@pytest.fixture
def listener():
    """An HTTP server on 127.0.0.1 that records every request and answers with a PNG."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            self.wfile.write(png_bytes(40, 40, (0, 0, 255)))

        do_HEAD = do_POST = do_PROPFIND = do_OPTIONS = do_GET

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", hits
    server.shutdown()
    server.server_close()


def image_count(pdf: Path) -> int:
    with pikepdf.open(pdf) as doc:
        return sum(len(page.get_images()) for page in doc.pages)


def bounded(fn):
    """Run ``fn``; return (its exception or None, seconds, growth of this process's peak RSS in MB)."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.monotonic()
    try:
        fn()
        error = None
    except ConversionError as e:
        error = e
    return error, time.monotonic() - start, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024


def test_linked_images_are_neither_fetched_nor_read_from_disk(converter, listener, tmp_path):
    url, hits = listener
    local = tmp_path / "hemlig.png"
    local.write_bytes(png_bytes(60, 60, (0, 200, 0)))
    src = linked_image_docx(tmp_path / "lankad.docx", [f"{url}/spion.png", local.as_uri()], png_bytes())

    out = converter.to_pdf(src, tmp_path / "lankad.pdf")

    time.sleep(0.5)  # a request in flight would arrive by now
    assert hits == []
    assert image_count(out) == 1  # only the embedded picture; not the linked local file
    assert "Bilaga med länkade bilder" in " ".join(p.extract_text() for p in __import__("pypdf").PdfReader(out).pages)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hemlig.png", "lankad.docx", "lankad.pdf"]  # no lock file


def test_copy_keeps_hyperlinks_and_drops_linked_content(tmp_path):
    src = linked_image_docx(tmp_path / "in.docx", ["http://example.invalid/a.png", "file:///etc/hosts"], png_bytes())
    with zipfile.ZipFile(src) as zf:
        entries = {name: zf.read(name) for name in zf.namelist()}
    rels = "word/_rels/document.xml.rels"
    entries[rels] = entries[rels].replace(b"</Relationships>", (
        b'<Relationship Id="rIdH" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        b'hyperlink" Target="https://goteborg.se/" TargetMode="External"/></Relationships>'))
    with zipfile.ZipFile(src, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)

    assert copy_office_file(src, tmp_path / "ut.docx") == 2
    with zipfile.ZipFile(tmp_path / "ut.docx") as zf:
        rels = zf.read(rels).decode()
    assert "https://goteborg.se/" in rels
    assert "example.invalid" not in rels and "/etc/hosts" not in rels


def test_odf_linked_image_is_not_read(converter, listener, tmp_path):
    url, hits = listener
    local = tmp_path / "hemlig.png"
    local.write_bytes(png_bytes(60, 60, (0, 200, 0)))
    body = "".join(
        f'<text:p>Bild {i}<draw:frame svg:width="3cm" svg:height="3cm"><draw:image xlink:href="{href}" '
        'xlink:type="simple" xlink:show="embed" xlink:actuate="onLoad"/></draw:frame></text:p>'
        for i, href in enumerate([local.as_uri(), f"{url}/odf.png"]))
    body += '<text:p><text:a xlink:type="simple" xlink:href="https://goteborg.se/">goteborg.se</text:a></text:p>'
    src = tmp_path / "lankad.odt"
    namespaces = ODF_NAMESPACES + ' xmlns:xlink="http://www.w3.org/1999/xlink"'
    with zipfile.ZipFile(src, "w") as odf:
        odf.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        odf.writestr("content.xml", f'<office:document-content {namespaces} office:version="1.2">'
                                    f"<office:body><office:text>{body}</office:text></office:body>"
                                    "</office:document-content>")
        odf.writestr("META-INF/manifest.xml", f'<manifest:manifest {namespaces} manifest:version="1.2">'
                     '<manifest:file-entry manifest:full-path="/" '
                     'manifest:media-type="application/vnd.oasis.opendocument.text"/>'
                     '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                     "</manifest:manifest>")

    out = converter.to_pdf(src, tmp_path / "lankad.pdf")

    time.sleep(0.5)
    assert hits == [] and image_count(out) == 0
    with pikepdf.open(out) as pdf:
        uris = [str(a.A.URI) for a in pdf.pages[0].obj.get("/Annots", []) if "/A" in a and a.A.S == "/URI"]
    assert uris == ["https://goteborg.se/"]  # the hyperlink stays a hyperlink


@pytest.mark.parametrize("member, size, words", [
    ("[Content_Types].xml", MAX_UNPACKED + (16 << 20), ["packas upp till", "högst 256 MiB tillåts", "zip-bomb"]),
    ("word/document.xml", 64 << 20, [f"högst {MAX_RATIO} gånger tillåts", "word/document.xml", "zip-bomb"]),
])
def test_zip_bomb_is_refused_before_anything_unpacks_it(converter, tmp_path, member, size, words):
    good = make_docx(tmp_path / "bra.docx")
    bomb = zip_bomb_docx(tmp_path / "bomb.docx", good, member, size)
    assert bomb.stat().st_size < 2 << 20

    error, seconds, growth = bounded(lambda: converter.to_pdf(bomb, tmp_path / "ut.pdf"))

    assert error is not None and error.file == bomb
    assert all(w in error.message for w in words), error.message
    assert seconds < MAX_SECONDS and growth < MAX_GROWTH_MB
    assert not (tmp_path / "ut.pdf").exists()


def test_giant_png_is_refused_with_the_limit_in_swedish(converter, tmp_path):
    png = huge_png(tmp_path / "karta.png", 20000, 20000)
    assert png.stat().st_size < 2 << 20

    error, seconds, growth = bounded(lambda: converter.to_pdf(png, tmp_path / "karta.pdf"))

    assert error is not None and error.file == png
    assert "för stor" in error.message and "89 miljoner bildpunkter" in error.message
    assert "bomb" not in error.message.lower() and "pixels" not in error.message
    assert seconds < MAX_SECONDS and growth < MAX_GROWTH_MB
