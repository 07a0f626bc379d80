"""Many letters through LibreOffice at once: compose them into one .docx, convert once, split.

LibreOffice spends most of each 50-80 ms per document on per-document overhead, not on
layout; letters composed into one document convert in about a quarter of the time. So a
batch of letters from one template is:

1. **composed** (``compose.compose_letters``): the bodies of the rendered letters, one section
   each (page numbers restart at 1); hyperlinks and numbering renumbered; footnotes
   numbered per letter (as custom marks, since LibreOffice 7.4 cannot restart footnote
   numbers per section); the "Sida X (Y)" total written as the page count of the letter
   converted alone; a named destination where each letter starts;
2. **converted once** (``Converter.export_pdf``);
3. **split** (``split.split_letters``): each letter's pages become a PDF of their own, with the
   part of the structure tree whose content is on those pages (ParentTree rebuilt, page
   and annotation keys renumbered), its own bookmarks, the catalog and XMP of the whole.

Each part is then finished like a PDF converted alone (``generator.convert.finish_converted``).
The route proves itself on every run (``route.convert_letters``, ``proof.difference``):
the first letter is converted alone as well, and its part of the composed PDF must have the same pages, text
at the same places, lines drawn, structure tree, bookmarks and metadata, or all the
letters are converted one by one. So is anything the composition cannot reproduce (other parts
than the template's, images, bookmarks, a table at the top of the body). Letters that
came out with another page count are composed again with theirs (a single one is
converted alone): the output is never different from the slow route's.
"""

from .compose import MARK, CannotCompose, compose_letters, letter_title
from .proof import difference
from .route import BATCH_LETTERS, BATCH_OPTIONS, BatchResult, convert_letters
from .split import LetterPages, letter_pages, split_letters

__all__ = [
    "BATCH_LETTERS",
    "BATCH_OPTIONS",
    "MARK",
    "BatchResult",
    "CannotCompose",
    "LetterPages",
    "compose_letters",
    "convert_letters",
    "difference",
    "letter_pages",
    "letter_title",
    "split_letters",
]
