"""Hostile bilagor, made on the spot: PDFs with active content, linked Office files, bombs.

Each function writes one file and returns its path; nothing here is read from outside the
repository.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name, String
from reportlab.pdfgen import canvas

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def text_pdf(pages: int = 2, text: str = "Vanlig text") -> bytes:
    """Return a plain PDF with ``text`` on every page."""
    out = io.BytesIO()
    c = canvas.Canvas(out, invariant=1)
    for i in range(pages):
        c.drawString(72, 700, f"{text} {i + 1}")
        c.showPage()
    c.save()
    return out.getvalue()


def js(pdf: pikepdf.Pdf, code: str) -> Dictionary:
    return pdf.make_indirect(Dictionary(Type=Name.Action, S=Name.JavaScript, JS=String(code)))


def link(pdf: pikepdf.Pdf, rect: list[int], action: Dictionary) -> Dictionary:
    return pdf.make_indirect(Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=Array(rect),
                                        Border=Array([0, 0, 0]), A=action))


def appearance(pdf: pikepdf.Pdf, width: int, height: int, text: str) -> pikepdf.Stream:
    """Return a form XObject drawing ``text`` in Helvetica: a field's visible value."""
    font = Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica)
    stream = pikepdf.Stream(pdf, f"/Tx BMC BT /Helv 12 Tf 2 6 Td ({text}) Tj ET EMC".encode())
    stream.Type, stream.Subtype = Name.XObject, Name.Form
    stream.BBox = Array([0, 0, width, height])
    stream.Resources = Dictionary(Font=Dictionary(Helv=font))
    return stream


def hostile_pdf(path: Path) -> Path:
    """Write a PDF with every kind of active content a bilaga might carry, and safe links.

    Document JavaScript and an OpenAction script, page /AA JavaScript, a /Launch link to
    /bin/sh, a JavaScript link, a file: link, a /GoToR link, a FileAttachment annotation
    with a payload, an embedded file, a RichMedia annotation, an XFA form and an AcroForm
    text field (filled in, with a keystroke script). Also an https link, a mailto link and
    an internal link, which must stay.
    """
    pdf = pikepdf.open(io.BytesIO(text_pdf(2)))
    page = pdf.pages[0].obj
    payload = pikepdf.Stream(pdf, b"#!/bin/sh\necho pwned\n")
    payload.Type = Name.EmbeddedFile
    filespec = pdf.make_indirect(Dictionary(Type=Name.Filespec, F=String("payload.sh"), UF=String("payload.sh"),
                                            EF=Dictionary(F=payload)))
    pdf.Root.Names = Dictionary(
        JavaScript=Dictionary(Names=Array([String("init"), js(pdf, "app.alert('doc')")])),
        EmbeddedFiles=Dictionary(Names=Array([String("payload.sh"), filespec])),
    )
    pdf.Root.OpenAction = js(pdf, "app.alert('open')")
    page.AA = Dictionary(O=js(pdf, "app.alert('page open')"))
    field_ap = appearance(pdf, 200, 20, "Ifyllt svar")
    field = pdf.make_indirect(Dictionary(
        Type=Name.Annot, Subtype=Name.Widget, FT=Name.Tx, T=String("svar"), V=String("Ifyllt svar"),
        Rect=Array([72, 400, 272, 420]), F=4, P=page, AP=Dictionary(N=field_ap),
        AA=Dictionary(K=js(pdf, "event.rc = true"))))
    pdf.Root.AcroForm = Dictionary(Fields=Array([field]), XFA=pikepdf.Stream(pdf, b"<xdp:xdp/>"),
                                   DA=String("/Helv 0 Tf 0 g"))
    page.Annots = Array([
        link(pdf, [72, 600, 200, 620], Dictionary(S=Name.Launch, F=String("/bin/sh"))),
        link(pdf, [72, 570, 200, 590], Dictionary(S=Name.JavaScript, JS=String("app.launchURL('x')"))),
        link(pdf, [72, 540, 200, 560], Dictionary(S=Name.URI, URI=String("file:///etc/passwd"))),
        link(pdf, [72, 510, 200, 530], Dictionary(S=Name.GoToR, F=String("//server/share/x.pdf"),
                                                  D=Array([0, Name.Fit]))),
        link(pdf, [72, 480, 200, 500], Dictionary(S=Name.URI, URI=String("https://goteborg.se/"))),
        link(pdf, [72, 450, 200, 470], Dictionary(S=Name.URI, URI=String("mailto:diarium@goteborg.se"))),
        link(pdf, [72, 430, 200, 445], Dictionary(S=Name.GoTo, D=Array([pdf.pages[1].obj, Name.Fit]))),
        pdf.make_indirect(Dictionary(Type=Name.Annot, Subtype=Name.FileAttachment, Rect=Array([300, 600, 320, 620]),
                                     FS=filespec, Contents=String("bilagd fil"))),
        pdf.make_indirect(Dictionary(Type=Name.Annot, Subtype=Name.RichMedia, Rect=Array([300, 500, 400, 580]))),
        field,
    ])
    pdf.save(path)
    return path


def linked_image_docx(path: Path, targets: list[str], png: bytes) -> Path:
    """Write a .docx showing one embedded image and one *linked* image per URL in ``targets``.

    python-docx only embeds; the links are made by rewriting the relationships: each extra
    picture's r:embed becomes r:link to a relationship with TargetMode="External".
    """
    import docx
    from docx.shared import Cm

    document = docx.Document()
    document.add_paragraph("Bilaga med länkade bilder")
    for _ in range(len(targets) + 1):
        document.add_picture(io.BytesIO(png), width=Cm(4))
    buf = io.BytesIO()
    document.save(buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src:
        entries = {i.filename: src.read(i) for i in src.infolist()}
    xml = entries["word/document.xml"].decode()
    rels = entries["word/_rels/document.xml.rels"].decode()
    import re

    embeds = re.findall(r'r:embed="(rId\d+)"', xml)
    for n, target in enumerate(targets):
        rid = f"rIdLink{n}"
        # Replace the n+1-th picture's embed by a link (the first one stays embedded).
        xml = xml.replace(f'r:embed="{embeds[n + 1]}"', f'r:link="{rid}"', 1)
        rels = rels.replace("</Relationships>",
                            f'<Relationship Id="{rid}" Type="http://schemas.openxmlformats.org/officeDocument/'
                            f'2006/relationships/image" Target="{target}" TargetMode="External"/></Relationships>')
    entries["word/document.xml"] = xml.encode()
    entries["word/_rels/document.xml.rels"] = rels.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, data in entries.items():
            dst.writestr(name, data)
    return path


def png_bytes(width: int = 8, height: int = 8, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """Return a small solid-colour PNG."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format="PNG")
    return out.getvalue()


def huge_png(path: Path, width: int = 20000, height: int = 20000) -> Path:
    """Write a valid grey PNG of width x height, streamed: a few hundred kB, never in memory."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    with path.open("wb") as f:
        f.write(PNG_SIGNATURE + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)))
        compressor = zlib.compressobj(9)
        row = b"\0" * (width + 1)  # filter byte + grey pixels
        data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
        f.write(chunk(b"IDAT", data) + chunk(b"IEND", b""))
    return path


def zip_bomb_docx(path: Path, good: Path, member: str = "word/document.xml", size: int = 1 << 30) -> Path:
    """Write a copy of the .docx ``good`` whose ``member`` inflates to ``size`` bytes.

    The part keeps its XML, followed by white space (still well-formed), streamed through
    deflate, so making it needs no memory.
    """
    with zipfile.ZipFile(good) as src:
        entries = [(i.filename, src.read(i)) for i in src.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, data in entries:
            if name == member:
                info = zipfile.ZipInfo(name)
                info.compress_type = zipfile.ZIP_DEFLATED
                with dst.open(info, "w", force_zip64=True) as out:
                    out.write(data)
                    block = b" " * (1 << 20)
                    for _ in range((size - len(data)) >> 20):
                        out.write(block)
            else:
                dst.writestr(name, data)
    return path
