"""The files of a sammanträde's folder in ``out/sammantraden/<namn>/``, named once.

``beslut agenda`` writes the kallelse, both packages and their tillgänglighetsrapport;
``beslut minutes`` the protokoll and one protokollsutdrag per §; ``beslut send`` reads
them back. Each of them asks ``MeetingFiles`` where a file is (the folder itself comes
from ``outfolder.sammantrade_folder``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .outfolder import REPORT_STEM, manifest_path, protokoll_manifest_path

HANDLINGAR_NAME = "sammantradeshandlingar.pdf"
OFFENTLIG_NAME = "sammantradeshandlingar-offentlig.pdf"
UTDRAG_PREFIX = "protokollsutdrag-§"


@dataclass(frozen=True)
class MeetingFiles:
    """Where each file of a sammanträde goes in ``folder`` (its out folder, or a run's staging folder)."""

    folder: Path

    @property
    def kallelse_docx(self) -> Path:
        return self.folder / "kallelse.docx"

    @property
    def kallelse_pdf(self) -> Path:
        return self.folder / "kallelse.pdf"

    @property
    def handlingar(self) -> Path:
        return self.folder / HANDLINGAR_NAME

    @property
    def offentlig(self) -> Path:
        return self.folder / OFFENTLIG_NAME

    @property
    def report(self) -> Path:
        return self.folder / f"{REPORT_STEM}.txt"

    @property
    def report_json(self) -> Path:
        return self.folder / f"{REPORT_STEM}.json"

    @property
    def manifest(self) -> Path:
        """The agenda's manifest."""
        return manifest_path(self.folder)

    def agenda_files(self) -> list[Path]:
        """Every file ``beslut agenda`` writes (the manifest aside)."""
        return [self.kallelse_docx, self.kallelse_pdf, self.handlingar, self.offentlig, self.report,
                self.report_json]

    @property
    def protokoll_docx(self) -> Path:
        return self.folder / "protokoll.docx"

    @property
    def protokoll_pdf(self) -> Path:
        return self.folder / "protokoll.pdf"

    @property
    def protokoll_manifest(self) -> Path:
        return protokoll_manifest_path(self.folder)

    def utdrag(self, nummer: int, suffix: str) -> Path:
        """The protokollsutdrag of § ``nummer`` (``suffix``: ".docx" or ".pdf")."""
        return self.folder / f"{UTDRAG_PREFIX}{nummer}{suffix}"

    def minutes_files(self, numbers: Iterable[int]) -> list[Path]:
        """Every file ``beslut minutes`` writes for the §§ ``numbers`` (the manifest aside)."""
        files = [self.protokoll_docx, self.protokoll_pdf]
        for nummer in numbers:
            files += [self.utdrag(nummer, ".docx"), self.utdrag(nummer, ".pdf")]
        return files

    def utdrag_on_disk(self) -> list[Path]:
        """The protokollsutdrag (.docx, .pdf) in the folder now, of any §."""
        if not self.folder.is_dir():
            return []
        return sorted(p for p in self.folder.glob(f"{UTDRAG_PREFIX}*") if p.suffix in (".docx", ".pdf"))
