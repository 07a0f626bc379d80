"""Loading content from disk: the organisation registry and ärenden.

``load_organisationer`` and ``load_arende`` are the first stage of the pipeline: they read
YAML, validate it into the model, and check what the model alone cannot (the organisation
exists, every bilaga file is there).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import ContentError
from .model import Arende, Organisation, Organisationer, validate_model
from .yamlfile import YamlDocument, read_yaml

ARENDE_FILE = "arende.yaml"
DEFAULT_ORGANISATIONER = Path("content/organisationer.yaml")


@dataclass(frozen=True)
class LoadedArende:
    """An ärende validated against the registry: the content and its organisation."""

    arende: Arende
    organisation: Organisation
    source: Path

    @property
    def name(self) -> str:
        """Return the ärende's folder name, used for its folder in ``out/``."""
        return self.arende.folder.name


def load_organisationer(path: Path) -> Organisationer:
    """Read and validate the organisation registry at ``path``."""
    if not path.is_file():
        raise ContentError(
            "organisationsregistret finns inte. Ange rätt fil med --organisationer "
            f"(standard: {DEFAULT_ORGANISATIONER}).",
            file=path,
        )
    return validate_model(Organisationer, read_yaml(path))


def resolve_arende_file(path: Path) -> Path:
    """Return the ``arende.yaml`` for ``path``, which is the folder or the file itself."""
    file = path / ARENDE_FILE if path.is_dir() else path
    if not file.is_file():
        raise ContentError(
            f"hittar ingen {ARENDE_FILE}. Ange ärendets mapp eller dess {ARENDE_FILE}.", file=file
        )
    return file


def load_arende(path: Path, organisationer: Organisationer) -> LoadedArende:
    """Read the ärende at ``path`` (folder or file), validate it and check its references."""
    file = resolve_arende_file(path)
    doc = read_yaml(file)
    arende = validate_model(
        Arende, doc, hint="Jämför med exemplet i content/arenden/2023-10-handlingsplaner-gota-lejon/."
    )
    arende._folder = file.parent
    organisation = find_organisation(arende.organisation, organisationer, doc)
    check_bilagor(arende, doc)
    return LoadedArende(arende=arende, organisation=organisation, source=file)


def find_organisation(org_id: str, organisationer: Organisationer, doc: YamlDocument) -> Organisation:
    """Return the organisation ``org_id``; raise ContentError suggesting the nearest ids."""
    organisation = organisationer.find(org_id)
    if organisation is not None:
        return organisation
    near = organisationer.suggest(org_id)
    advice = (
        "Menade du " + " eller ".join(f"'{i}'" for i in near) + "?"
        if near
        else "Se listan över id i organisationsregistret."
    )
    raise ContentError(
        f"okänd organisation '{org_id}'. {advice}",
        file=doc.path,
        line=doc.line_of(("organisation",)),
        field="organisation",
    )


def check_bilagor(arende: Arende, doc: YamlDocument) -> None:
    """Check that every bilaga file exists; raise ContentError naming the first missing one."""
    for index, bilaga in enumerate(arende.bilagor):
        path = arende.bilaga_path(bilaga)
        if not path.is_file():
            raise ContentError(
                f"bilaga {index + 1} "
                f"('{bilaga.titel}') finns inte: {path}. Lägg filen i ärendets mapp eller "
                "rätta sökvägen (den räknas från mappen där arende.yaml ligger).",
                file=doc.path,
                line=doc.line_of(("bilagor", index, "fil")),
                field=f"bilagor[{index + 1}].fil",
            )
