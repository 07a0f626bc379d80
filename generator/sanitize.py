"""Removing active content from a PDF before it is published in handlingar.pdf.

A bilaga comes from anyone and handlingar.pdf is published by the city, so nothing in it
may run, fetch, launch or carry other files. ``sanitize_pdf`` cleans an open pikepdf
``Pdf`` in place and returns a ``Cleaned`` report of what it removed, which
``bundle.write_bundle`` turns into a Swedish warning per bilaga and hands on for the
manifest.

Removed: JavaScript (the document's name tree, actions on open, pages, annotations and
form fields), ``/Launch``, ``/ImportData``, ``/SubmitForm``, ``/ResetForm``, links to
other files (``/GoToR``, ``/GoToE``: they cannot work in the bundle, and a link to a
network path would leak the reader's credentials), ``/Rendition``, ``/Movie``,
``/Sound`` actions, URI links other than http, https and mailto, embedded files and
FileAttachment annotations, RichMedia, Movie, Sound, Screen and 3D annotations,
additional actions (``/AA``) of the document, pages and annotations, and XFA.

Kept: internal links (``/GoTo``, destinations), ``/Named`` actions (next page …),
http/https/mailto links and ordinary annotations (comments, highlights).

Form fields are **flattened**: qpdf draws each field's appearance into the page, so a
filled-in form reads as it did, and the fields (with their actions) and the AcroForm go.
A field without an appearance disappears; an empty field prints nothing anyway.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import cast

import pikepdf
from pikepdf import Array, Dictionary

SAFE_URI_SCHEMES = ("http:", "https:", "mailto:")
"""URI link targets that stay; anything else (file:, javascript:, smb: …) is removed."""

SAFE_ACTIONS = {"/GoTo", "/URI", "/Named", "/Thread", "/SetOCGState", "/Trans", "/GoTo3DView"}
"""Action types that neither run code nor reach outside the document (URI checked apart)."""

ACTION_KIND = {
    "/JavaScript": "javascript",
    "/Launch": "launch",
    "/ImportData": "form_action",
    "/SubmitForm": "form_action",
    "/ResetForm": "form_action",
    "/GoToR": "remote_link",
    "/GoToE": "remote_link",
    "/Rendition": "media",
    "/Movie": "media",
    "/Sound": "media",
    "/Hide": "form_action",
}
"""Kind of removal, by action type (unknown types count as ``other_action``).

One more kind is counted outside this module: ``comment``, the Word or ODF comments taken
out of an office file before LibreOffice converts it (``officefile.strip_comment_anchors``)."""

MEDIA_ANNOTS = {"/RichMedia", "/Movie", "/Sound", "/Screen", "/3D"}

KIND_WORDS = {
    "javascript": ("JavaScript", "JavaScript"),
    "launch": ("en länk som startar ett program", "{n} länkar som startar program"),
    "form_action": ("en formuläråtgärd som skickar eller läser in data",
                    "{n} formuläråtgärder som skickar eller läser in data"),
    "remote_link": ("en länk till en annan fil", "{n} länkar till andra filer"),
    "unsafe_uri": ("en länk med otillåten adress (inte http, https eller mailto)",
                   "{n} länkar med otillåtna adresser (inte http, https eller mailto)"),
    "attachment": ("en bifogad fil", "{n} bifogade filer"),
    "media": ("ett inbäddat medieobjekt (video, ljud eller 3D)", "{n} inbäddade medieobjekt (video, ljud eller 3D)"),
    "xfa": ("ett XFA-formulär", "{n} XFA-formulär"),
    "auto_action": ("en automatisk åtgärd", "{n} automatiska åtgärder"),
    "other_action": ("en okänd åtgärd", "{n} okända åtgärder"),
}
"""Swedish words for each kind of removal: (one, many with {n})."""


@dataclass
class Cleaned:
    """What ``sanitize_pdf`` removed from one PDF, by kind, and how many fields it flattened."""

    removed: Counter = field(default_factory=Counter)
    flattened_fields: int = 0

    def __bool__(self) -> bool:
        return bool(self.removed) or self.flattened_fields > 0

    def describe(self) -> str:
        """Return what was done, in Swedish: 'tog bort JavaScript och en bifogad fil'."""
        phrases = []
        notes = []
        comments = self.removed.get("comment", 0)
        if comments:
            notes.append(f"{'en kommentar' if comments == 1 else f'{comments} kommentarer'} togs bort "
                         "(kommentarer skrivs inte ut i PDF-filen)")
        for kind, (one, many) in KIND_WORDS.items():
            n = self.removed.get(kind, 0)
            if n:
                phrases.append(one if n == 1 else many.format(n=n))
        text = f"tog bort {join_swedish(phrases)}" if phrases else ""
        if self.flattened_fields:
            fields = "ett formulärfält" if self.flattened_fields == 1 else f"{self.flattened_fields} formulärfält"
            done = f"gjorde om {fields} till vanligt sidinnehåll (ifyllda värden syns som förut)"
            text = f"{text}; {done}" if text else done
        for note in notes:
            text = f"{text}; {note}" if text else note
        return text[:1].upper() + text[1:] if notes and not phrases and not self.flattened_fields else text

    def as_dict(self) -> dict:
        """Return the report for the manifest: {'borttaget': {kind: count}, 'formularfalt_plattade': n}."""
        return {"borttaget": dict(sorted(self.removed.items())), "formularfalt_plattade": self.flattened_fields}


def join_swedish(items: list[str]) -> str:
    """Return 'a, b och c'."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} och {items[-1]}"


def sanitize_pdf(pdf: pikepdf.Pdf) -> Cleaned:
    """Remove active content and embedded files from ``pdf`` in place; return what was removed."""
    cleaned = Cleaned()
    root = cast(Dictionary, pdf.Root)  # pikepdf types it Object; a catalog is a dictionary
    clean_document(root, cleaned)
    for page in pdf.pages:
        obj = page.obj
        if "/AA" in obj:
            count_additional_actions(obj.AA, cleaned)
            del obj["/AA"]
        clean_annotations(obj, cleaned)
    flatten_forms(pdf, cleaned)
    return cleaned


def clean_document(root: Dictionary, cleaned: Cleaned) -> None:
    """Remove the catalog's JavaScript, embedded files, actions on open and XFA."""
    names = root.get("/Names")
    if isinstance(names, Dictionary):
        if "/JavaScript" in names:
            cleaned.removed["javascript"] += 1
            del names["/JavaScript"]
        if "/EmbeddedFiles" in names:
            cleaned.removed["attachment"] += max(1, count_name_tree(names.EmbeddedFiles))
            del names["/EmbeddedFiles"]
    opening = root.get("/OpenAction")
    if isinstance(opening, Dictionary):  # an array is a destination: harmless
        if not action_is_safe(opening, cleaned):
            del root["/OpenAction"]
    if "/AA" in root:
        count_additional_actions(root.AA, cleaned)
        del root["/AA"]
    form = root.get("/AcroForm")
    if isinstance(form, Dictionary) and "/XFA" in form:
        cleaned.removed["xfa"] += 1
        del form["/XFA"]


def count_name_tree(node, depth: int = 0) -> int:
    """Return the number of entries in a PDF name tree (bounded depth against loops)."""
    if not isinstance(node, Dictionary) or depth > 32:
        return 0
    count = len(node.get("/Names", Array())) // 2
    return count + sum(count_name_tree(kid, depth + 1) for kid in node.get("/Kids", Array()))


def clean_annotations(page: Dictionary, cleaned: Cleaned) -> None:
    """Drop dangerous annotations of one page and strip the actions of the rest."""
    annots = page.get("/Annots")
    if not isinstance(annots, Array):
        return
    kept = Array()
    for annot in annots:
        if not isinstance(annot, Dictionary):
            continue
        subtype = annot.get("/Subtype")
        if subtype == "/FileAttachment":
            cleaned.removed["attachment"] += 1
            continue
        if subtype in MEDIA_ANNOTS:
            cleaned.removed["media"] += 1
            continue
        if "/AA" in annot:
            count_additional_actions(annot.AA, cleaned)
            del annot["/AA"]
        action = annot.get("/A")
        if isinstance(action, Dictionary) and not action_is_safe(action, cleaned):
            del annot["/A"]
            if subtype == "/Link":
                continue  # a link that does nothing is only confusing
        kept.append(annot)
    if len(kept) != len(annots):
        page.Annots = kept


def action_is_safe(action: pikepdf.Object, cleaned: Cleaned) -> bool:
    """Return True if ``action`` and every action chained after it (/Next) is safe; count the rest."""
    safe = True
    seen: set = set()
    todo: list[pikepdf.Object] = [action]
    while todo:
        act = todo.pop()
        if not isinstance(act, Dictionary) or (act.is_indirect and act.objgen in seen):
            continue
        if act.is_indirect:
            seen.add(act.objgen)
        kind = action_kind(act)
        if kind:
            cleaned.removed[kind] += 1
            safe = False
        nxt = act.get("/Next")
        todo.extend(nxt if isinstance(nxt, Array) else [nxt] if nxt is not None else [])
    return safe


def action_kind(action: Dictionary) -> str | None:
    """Return the kind of removal ``action`` calls for, or None if it may stay."""
    subtype = str(action.get("/S", ""))
    if subtype == "/URI":
        uri = bytes(action.get("/URI", pikepdf.String(""))).decode("latin-1").strip().lower()
        return None if uri.startswith(SAFE_URI_SCHEMES) else "unsafe_uri"
    if subtype in SAFE_ACTIONS:
        return None
    return ACTION_KIND.get(subtype, "other_action")


def count_additional_actions(aa, cleaned: Cleaned) -> None:
    """Count an /AA dictionary about to be removed: its JavaScript, or as automatic actions."""
    if not isinstance(aa, Dictionary):
        return
    for key in list(aa.keys()):
        probe = Cleaned()
        action_is_safe(aa[key], probe)
        cleaned.removed.update(probe.removed)
        if not probe.removed:
            cleaned.removed["auto_action"] += 1


def flatten_forms(pdf: pikepdf.Pdf, cleaned: Cleaned) -> None:
    """Draw form fields into their pages and remove the form; non-field annotations stay as they are."""
    form = pdf.Root.get("/AcroForm")
    widgets = sum(1 for page in pdf.pages for a in page.obj.get("/Annots", Array())
                  if isinstance(a, Dictionary) and a.get("/Subtype") == "/Widget")
    if not isinstance(form, Dictionary) and not widgets:
        return
    if isinstance(form, Dictionary):  # calculation scripts of parent fields (widgets are clean already)
        count_field_actions(form.get("/Fields"), cleaned)
    if widgets:
        if isinstance(form, Dictionary) and form.get("/NeedAppearances"):
            try:
                pdf.generate_appearance_streams()
            except pikepdf.PdfError:
                pass
        # qpdf flattens every annotation that has an appearance; hide the others meanwhile.
        others = {}
        for i, page in enumerate(pdf.pages):
            annots = page.obj.get("/Annots")
            if isinstance(annots, Array):
                others[i] = [a for a in annots if not (isinstance(a, Dictionary) and a.get("/Subtype") == "/Widget")]
                page.obj.Annots = Array([a for a in annots if isinstance(a, Dictionary)
                                         and a.get("/Subtype") == "/Widget"])
        pdf.flatten_annotations("all")
        for i, page in enumerate(pdf.pages):
            rest = [a for a in page.obj.get("/Annots", Array())
                    if not (isinstance(a, Dictionary) and a.get("/Subtype") == "/Widget")]
            rest += others.get(i, [])
            if rest:
                page.obj.Annots = Array(rest)
            elif "/Annots" in page.obj:
                del page.obj["/Annots"]
        cleaned.flattened_fields += widgets
    if "/AcroForm" in pdf.Root:
        del pdf.Root["/AcroForm"]


def count_field_actions(fields, cleaned: Cleaned, depth: int = 0) -> None:
    """Count the actions of a form's field tree, which goes with the form (bounded depth)."""
    if not isinstance(fields, Array) or depth > 32:
        return
    for node in fields:
        if isinstance(node, Dictionary):
            if "/AA" in node:
                count_additional_actions(node.AA, cleaned)
                del node["/AA"]
            count_field_actions(node.get("/Kids"), cleaned, depth + 1)
