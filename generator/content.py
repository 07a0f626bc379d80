"""Loading content from disk: the organisation registry and ärenden.

``load_organisationer`` and ``load_arende`` are the first stage of the pipeline: they read
YAML, validate it into the model, and check what the model alone cannot (the organisation
exists, every bilaga file is there).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ContentError, UsageProblem
from .files import as_on_disk
from .model import MOTTAGARGRUPPER, Arende, Bilaga, Organisation, Organisationer, Utskick
from .validation import validate_model
from .yamlfile import YamlDocument, changed_keys, field_name, merge_documents, read_yaml

ARENDE_FILE = "arende.yaml"
OVERRIDES_DIR = "organisationer"
"""In a shared ärende: the folder with one ``<org-id>.yaml`` of changes per organisation."""
UTSKICK_FILE = "utskick.yaml"
DEFAULT_ORGANISATIONER = Path("content/organisationer.yaml")


@dataclass(frozen=True)
class LoadedArende:
    """An ärende validated against the registry: the content and its organisation."""

    arende: Arende
    organisation: Organisation
    source: Path
    """The YAML file it was read from (for a shared ärende: the organisation's override)."""
    folder: Path
    """The ärende folder, against which bilaga files are resolved."""
    shared: bool = False
    """True for one organisation's instance of a shared ärende."""
    overrides: tuple[str, ...] = ()
    """For one organisation of a shared ärende: the keys its override file changes."""
    doc: YamlDocument | None = field(default=None, compare=False, repr=False)
    """The YAML it was read from (merged, for a shared ärende): file and line of each value."""

    @property
    def name(self) -> str:
        """Return the ärende's folder name (its real name, also when given as '.')."""
        return self.folder.resolve().name

    def bilaga_path(self, bilaga: Bilaga) -> Path:
        """Return the file of ``bilaga``, relative to the ärende folder (spelt as on disk, ``as_on_disk``)."""
        return as_on_disk(self.folder / bilaga.fil)


def find_registry(start: Path) -> Path:
    """Return the registry in ``start`` or the nearest folder above it, as git finds .git.

    The path is ``start`` followed by as many ``..`` as needed, e.g.
    ``../../content/organisationer.yaml``; with none found, ``start/content/organisationer.yaml``
    (which ``load_organisationer`` then reports as missing).
    """
    folder = Path(start)
    for _ in range(len(folder.resolve().parents) + 1):
        if (folder / DEFAULT_ORGANISATIONER).is_file():
            return folder / DEFAULT_ORGANISATIONER
        folder = folder / ".."
    return Path(start) / DEFAULT_ORGANISATIONER


def load_organisationer(path: Path) -> Organisationer:
    """Read and validate the organisation registry at ``path``."""
    if not path.is_file():
        raise ContentError(
            f"organisationsregistret finns inte. Kör kommandot i mappen där {DEFAULT_ORGANISATIONER.parent}/ "
            "ligger (eller i en mapp under den), eller ange registret med --organisationer FIL.",
            file=path,
        )
    return validate_model(Organisationer, read_yaml(path))


def resolve_content_file(path: Path, name: str, what: str) -> Path:
    """Return the YAML file for ``path``, which is its folder or the file itself."""
    path = as_on_disk(path)
    file = path / name if path.is_dir() else path
    if not file.is_file():
        near = _look_alike(file.parent, name) if file.parent.is_dir() else None
        hint = f" Det finns en '{near}': byt namn på den till {name}." if near else ""
        raise ContentError(f"hittar ingen {name}. Ange {what} mapp eller dess {name}.{hint}", file=file)
    return file


def _look_alike(folder: Path, name: str) -> str | None:
    """Return a file in ``folder`` whose name is ``name`` but for case, diacritics or .yml."""
    def key(text: str) -> str:
        folded = text.lower().replace("ä", "a").replace("å", "a").replace("ö", "o")
        return folded.removesuffix(".yml").removesuffix(".yaml")

    return next((p.name for p in sorted(folder.iterdir()) if p.is_file() and key(p.name) == key(name)), None)


def resolve_arende_file(path: Path) -> Path:
    """Return the ``arende.yaml`` for ``path``, which is the folder or the file itself."""
    return resolve_content_file(path, ARENDE_FILE, "ärendets")


@dataclass(frozen=True)
class LoadedUtskick:
    """An utskick validated against the registry, with the documents it refers to."""

    utskick: Utskick
    source: Path
    doc: YamlDocument

    @property
    def name(self) -> str:
        """Return the utskick's folder name (its real name, also when given as '.')."""
        return self.source.parent.resolve().name


def load_utskick(path: Path) -> LoadedUtskick:
    """Read and validate the utskick at ``path`` (its folder or its utskick.yaml)."""
    file = resolve_content_file(path, UTSKICK_FILE, "utskickets")
    doc = read_yaml(file)
    utskick = validate_model(Utskick, doc, hint="Jämför med exemplet i content/utskick/.")
    check_markdown(utskick, doc)
    return LoadedUtskick(utskick=utskick, source=file, doc=doc)


def select_mottagare(
    loaded: LoadedUtskick, organisationer: Organisationer, org_ids: list[str] | None = None
) -> list[Organisation]:
    """Return the recipients: ``org_ids`` (from the command line) or the utskick's own choice.

    Groups (bolag, nämnder, alla) and ids may be mixed; the ``utom`` ids are left out;
    the recipients come in registry order.
    """
    utskick, doc = loaded.utskick, loaded.doc
    if org_ids:  # as typed: compared in NFC, as the YAML is read (``yamlfile.read_yaml``)
        choice, where = [unicodedata.normalize("NFC", item) for item in org_ids], tuple[str, ...]()
    else:
        named = utskick.mottagare  # ids and groups, as the utskick names them
        choice, where = ([named] if isinstance(named, str) else named), ("mottagare",)
    groups = {
        "bolag": [o.id for o in organisationer.organisationer if o.is_bolag],
        "nämnder": [o.id for o in organisationer.organisationer if not o.is_bolag],
        "alla": organisationer.ids(),
    }
    wanted = set()
    for index, item in enumerate(choice):
        wanted |= set(groups[item]) if item in groups else {_known_id(item, organisationer, doc, where, index)}
    excluded = {_known_id(i, organisationer, doc, ("utom",), n) for n, i in enumerate(utskick.utom)}
    chosen = [org for org in organisationer.organisationer if org.id in wanted and org.id not in excluded]
    if not chosen:
        raise ContentError(
            "utskicket har inga mottagare kvar. Kontrollera 'mottagare' och 'utom'.", file=doc.path
        )
    return chosen


def _known_id(org_id: str, organisationer: Organisationer, doc: YamlDocument, where: tuple, index: int) -> str:
    """Return ``org_id`` if the registry has it; else raise ContentError with suggestions."""
    if organisationer.find(org_id) is not None:
        return org_id
    group = difflib.get_close_matches(org_id.lower(), MOTTAGARGRUPPER, n=1, cutoff=0.6)
    advice = (f"Menade du gruppen '{group[0]}'? Grupper: {', '.join(MOTTAGARGRUPPER)}." if group
              else organisationer.did_you_mean(org_id))
    if not where:
        raise UsageProblem(f"okänd mottagare '{org_id}' i --till. {advice}")
    raise ContentError(
        f"okänd organisation '{org_id}'. {advice}",
        file=doc.path,
        line=doc.line_of(where + (index,)),
        field=f"{where[0]}[{index + 1}]",
    )


def load_arende(path: Path, organisationer: Organisationer) -> LoadedArende:
    """Read the ärende at ``path`` (folder or file), validate it and check its references."""
    file = resolve_arende_file(path)
    doc = read_yaml(file)
    arende = validate_model(
        Arende, doc, hint="Jämför med exemplet i content/arenden/2023-10-handlingsplaner/."
    )
    check_markdown(arende, doc)
    organisation = find_organisation(arende.organisation, organisationer, doc)
    loaded = LoadedArende(arende=arende, organisation=organisation, source=file, folder=file.parent,
                          doc=doc)
    check_bilagor(loaded, doc)
    return loaded


def check_markdown(model: Any, doc: YamlDocument) -> None:
    """Refuse Markdown that cannot become a correct Word document; raise one ContentError for all.

    A footnote inside a footnote, a footnote reference without its text, a table too big
    (``markdowncheck.markdown_problems``): each is named with its file, line and field.
    """
    from .markdowncheck import markdown_problems  # here: the Markdown parser loads only when content is checked

    problems = [
        ContentError(message, file=doc.file_of(loc), line=_line_in_text(doc, loc, line), field=field_name(loc))
        for loc, text in _texts(model, ())
        for line, message in markdown_problems(text)
    ]
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise ContentError("\n".join(p.format() for p in problems), parts=problems)


def _texts(value: Any, loc: tuple) -> Iterator[tuple[tuple, str]]:
    """Yield (YAML path, text) for every string in a model, by the keys the user wrote."""
    if isinstance(value, str):
        yield loc, value
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _texts(item, loc + (index,))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _texts(item, loc + (key,))
    elif hasattr(type(value), "model_fields"):
        for name, info in type(value).model_fields.items():
            yield from _texts(getattr(value, name), loc + (info.alias or name,))


_BLOCK_START = re.compile(r"(?:^|[:-])\s*[|>][+-]?\d*\s*(?:#.*)?$")
"""The end of a YAML line that starts a | or > block: its text begins on the next line."""


def _line_in_text(doc: YamlDocument, loc: tuple, line_in_text: int) -> int | None:
    """Return the file line of line ``line_in_text`` (0-based) of the text at ``loc``."""
    line = doc.line_of(loc)
    if line is None:
        return None
    try:
        source = doc.file_of(loc).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return line
    if line <= len(source) and _BLOCK_START.search(source[line - 1].rstrip()):
        return line + 1 + line_in_text
    return line + line_in_text


def is_utskick(path: Path) -> bool:
    """Return True if ``path`` is an utskick (its folder or its utskick.yaml)."""
    return path.name == UTSKICK_FILE or (path / UTSKICK_FILE).is_file()


def is_shared_arende(path: Path) -> bool:
    """Return True if ``path`` is a shared ärende with one override file per organisation."""
    return (resolve_arende_file(path).parent / OVERRIDES_DIR).is_dir()


def load_arenden(
    path: Path, organisationer: Organisationer, org_ids: list[str] | None = None
) -> list[LoadedArende]:
    """Return the ärende at ``path``: itself, or one instance per organisation if shared.

    A shared ärende is a folder whose ``arende.yaml`` holds what all organisations have in
    common, and whose ``organisationer/<id>.yaml`` files hold what each one changes. Every
    instance is checked before any is returned, and all problems are reported together.
    ``org_ids`` limits the instances to those organisation ids.
    """
    if not is_shared_arende(path):
        loaded = load_arende(path, organisationer)
        if org_ids and loaded.organisation.id not in org_ids:
            raise ContentError(
                f"ärendet gäller bara '{loaded.organisation.id}', inte {', '.join(org_ids)}.",
                file=loaded.source,
            )
        return [loaded]
    file = resolve_arende_file(path)
    shared = read_yaml(file)
    if not isinstance(shared.data, dict):
        raise ContentError("filen ska innehålla fält på formen 'namn: värde'.", file=file)
    if "organisation" in shared.data:
        raise ContentError(
            f"ett gemensamt ärende (med mappen {OVERRIDES_DIR}/) anger inte 'organisation': den "
            f"ges av filnamnen i {OVERRIDES_DIR}/. Ta bort fältet.",
            file=file,
            line=shared.line_of(("organisation",)),
            field="organisation",
        )
    override_files = _override_files(file.parent / OVERRIDES_DIR)
    if not override_files:
        raise ContentError(
            f"mappen {OVERRIDES_DIR}/ är tom. Lägg en fil <id>.yaml per organisation där.",
            file=file.parent / OVERRIDES_DIR,
        )
    wanted = {f.stem for f in override_files}
    for org_id in org_ids or []:
        if org_id not in wanted:
            raise ContentError(
                f"ärendet har ingen fil för '{org_id}'. Finns: {', '.join(sorted(wanted))}.",
                file=file.parent / OVERRIDES_DIR,
            )
    instances: list[LoadedArende] = []
    problems: list[ContentError] = []
    for override_file in override_files:
        if org_ids and override_file.stem not in org_ids:
            continue
        try:
            instances.append(_load_instance(file, shared, override_file, organisationer))
        except ContentError as e:
            problems.append(e)
    if problems:
        raise ContentError("\n".join(p.format() for p in problems), parts=problems)
    return instances


def _override_files(folder: Path) -> list[Path]:
    """Return the override files ``<id>.yaml``; raise on any other file (none is ignored)."""
    files = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        if path.is_file() and path.suffix == ".yaml":
            files.append(path)
        elif path.is_file() and path.suffix.lower() in (".yml", ".yaml"):
            raise ContentError(f"filen ska sluta på .yaml. Byt namn till '{path.stem}.yaml'.", file=path)
        else:
            raise ContentError(
                f"här ska bara ligga en fil <id>.yaml per organisation. Flytta '{path.name}' "
                "till ärendets mapp (eller ta bort den).", file=path)
    return files


def _load_instance(
    file: Path, shared: YamlDocument, override_file: Path, organisationer: Organisationer
) -> LoadedArende:
    """Return one organisation's instance of a shared ärende."""
    org_id = override_file.stem
    organisation = organisationer.find(org_id)
    if organisation is None:
        raise ContentError(
            f"filnamnet ska vara en organisations id, och '{org_id}' finns inte i registret. "
            + organisationer.did_you_mean(org_id, suffix=".yaml"),
            file=override_file,
        )
    override = read_yaml(override_file)
    if override.data is None:
        override.data = {}
    if not isinstance(override.data, dict):
        raise ContentError("filen ska innehålla fält på formen 'namn: värde'.", file=override_file)
    if "organisation" in override.data:
        raise ContentError(
            "organisationen ges av filnamnet. Ta bort fältet 'organisation'.",
            file=override_file,
            line=override.line_of(("organisation",)),
        )
    merged = merge_documents(shared, override)
    merged.data["organisation"] = org_id
    arende = validate_model(Arende, merged, hint=f"(gäller {org_id})")
    check_markdown(arende, merged)
    loaded = LoadedArende(
        arende=arende,
        organisation=organisation,
        source=override_file,
        folder=file.parent,
        shared=True,
        overrides=tuple(changed_keys(shared.data, override.data)),
        doc=merged,
    )
    check_bilagor(loaded, merged)
    return loaded


def find_organisation(org_id: str, organisationer: Organisationer, doc: YamlDocument) -> Organisation:
    """Return the organisation ``org_id``; raise ContentError suggesting the nearest ids."""
    organisation = organisationer.find(org_id)
    if organisation is not None:
        return organisation
    raise ContentError(
        f"okänd organisation '{org_id}'. {organisationer.did_you_mean(org_id)}",
        file=doc.path,
        line=doc.line_of(("organisation",)),
        field="organisation",
    )


def check_bilagor(loaded: LoadedArende, doc: YamlDocument) -> None:
    """Check every bilaga file: a regular file inside the ärende folder (symlinks resolved).

    A bilaga goes into a public handlingar.pdf, so a path that leads outside the ärende
    (``../``, an absolute path, a symlink pointing out) is refused, never followed.
    Raise ContentError naming the first bad one, with its line.
    """
    root = loaded.folder.resolve()
    for index, bilaga in enumerate(loaded.arende.bilagor):
        problem = _bilaga_problem(root, loaded.bilaga_path(bilaga), bilaga.fil)
        if problem:
            raise ContentError(
                f"bilaga {index + 1} ('{bilaga.titel}') {problem}",
                file=doc.file_of(("bilagor", index, "fil")),
                line=doc.line_of(("bilagor", index, "fil")),
                field=f"bilagor[{index + 1}].fil",
            )


def _bilaga_problem(root: Path, path: Path, written: str) -> str | None:
    """Return what is wrong with the bilaga file ``path`` (None when it is fine)."""
    where = "Lägg filen i ärendets mapp (eller en undermapp, t.ex. bilagor/) och skriv sökvägen från där."
    if Path(written).is_absolute() or written.startswith("~"):
        return f"har en absolut sökväg ('{written}'). {where}"
    resolved = path.resolve()
    if not resolved.is_relative_to(root):
        return (f"ligger utanför ärendets mapp ('{written}'"
                + (", via en symbolisk länk" if ".." not in Path(written).parts else "") + f"). {where}")
    if resolved.is_dir():
        return f"är en mapp, inte en fil: '{written}'. Ange filen i mappen."
    if resolved.exists() and not resolved.is_file():
        return f"är ingen vanlig fil: '{written}'. {where}"
    if not resolved.exists():
        other = _same_name_other_case(path)
        if other is not None:
            return (f"finns inte: '{written}', men den finns som '{other}'. Skriv namnet exakt "
                    "som filen heter (stora och små bokstäver räknas).")
        return (f"finns inte: {path}. Lägg filen i ärendets mapp eller rätta sökvägen "
                "(den räknas från mappen där arende.yaml ligger).")
    return None


def _same_name_other_case(path: Path) -> str | None:
    """Return the name of a file beside ``path`` that differs from it only in case."""
    try:
        siblings = list(path.parent.iterdir())
    except OSError:
        return None
    def key(name: str) -> str:
        return unicodedata.normalize("NFC", name).casefold()

    return next((p.name for p in siblings if key(p.name) == key(path.name)), None)
