"""Starting a new ärende: a commented ``arende.yaml`` to fill in, that validates as it is.

``create_arende`` writes the folder ``beslut new`` (and the web page) gives the
handläggare: ``arende.yaml`` with a comment per field saying which heading it becomes,
placeholders in square brackets (``arendefields.placeholders``) where the user writes, and a
``bilagor/`` folder. For two or more organisations the ärende is shared: ``arende.yaml``
without ``organisation`` plus ``organisationer/<id>.yaml`` per organisation. The texts
are the Jinja templates in ``skeletons/``; organisation names only ever appear in
comments (flattened to one line), ids and dates are safe as they are, and every
placeholder is written as a quoted YAML string or inside a block scalar. A field of the
model the skeleton does not write (a new one) is written at the end, with its label.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
from datetime import date
from pathlib import Path

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from .arendefields import ArendeField, placeholders, unwritten_fields
from .content import ARENDE_FILE, OVERRIDES_DIR
from .errors import ContentError, EnvironmentProblem, describe_os_error
from .files import write_bytes
from .model import DATE, MARKDOWN, Organisation, Organisationer
from .wording import wording_for

SKELETON_DIR = Path(__file__).parent / "skeletons"
BILAGOR_DIR = "bilagor"


def create_arende(folder: Path, org_ids: list[str], organisationer: Organisationer,
                  *, today: date | None = None) -> list[Path]:
    """Write a new ärende folder for ``org_ids`` (two or more: shared); return the files.

    Raises ContentError, with nothing written, if ``folder`` exists (unless it is an empty
    folder) or an id is not in the registry. The folder appears whole or not at all: it
    is written beside its final place and renamed into it.
    """
    folder = Path(folder)
    if folder.suffix.lower() in (".yaml", ".yml"):
        raise ContentError(
            "ange ärendets mapp, t.ex. content/arenden/2024-03-budget, inte en fil: "
            f"beslut new skapar {ARENDE_FILE} i mappen.",
            file=folder,
        )
    orgs = _find_organisations(list(dict.fromkeys(org_ids)), organisationer)
    _check_free(folder)
    texts = _render_texts(folder, orgs, today or date.today())
    return _write_folder(folder, texts)


def _find_organisations(org_ids: list[str], organisationer: Organisationer) -> list[Organisation]:
    """Return the organisations ``org_ids``; raise ContentError naming every unknown id."""
    if not org_ids:
        raise ContentError("ange minst en organisation (--organisation ID).")
    unknown = [i for i in org_ids if organisationer.find(i) is None]
    if unknown:
        raise ContentError("\n".join(
            f"okänd organisation '{i}'. {organisationer.did_you_mean(i)}" for i in unknown
        ))
    return [org for org in map(organisationer.find, org_ids) if org is not None]


def _check_free(folder: Path) -> None:
    """Raise ContentError unless ``folder`` does not exist or is an empty folder."""
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise ContentError(
            "det finns redan en fil med det namnet. Välj ett annat namn på ärendets mapp; "
            "beslut new skriver aldrig över något.",
            file=folder,
        )
    if folder.is_dir() and any(folder.iterdir()):
        raise ContentError(
            "mappen finns redan och är inte tom. Välj ett nytt namn på ärendets mapp; "
            "beslut new skriver aldrig över något.",
            file=folder,
        )


def _skeletons(**options: bool) -> SandboxedEnvironment:
    """Return the environment of ``beslut new``'s skeletons (``generator/skeletons/``).

    The skeletons ship with beslut, but they are rendered in Jinja's sandbox all the same,
    like every template here: one rule, no exception to reason about.
    """
    env = SandboxedEnvironment(loader=jinja2.FileSystemLoader(SKELETON_DIR), autoescape=False,
                               undefined=jinja2.StrictUndefined, keep_trailing_newline=True, **options)
    env.filters["yaml"] = _yaml_string
    return env


def _render_texts(folder: Path, orgs: list[Organisation], today: date) -> dict[str, str]:
    """Return each file of the new ärende (path relative to the folder) and its text."""
    env = _skeletons(trim_blocks=True, lstrip_blocks=True)
    shared = len(orgs) > 1
    common = {"p": placeholders(), "idag": today.isoformat(), "mapp": _one_line(str(folder))}
    if shared:
        values = {
            "shared": True,
            "namnlista": _one_line(", ".join(o.namn for o in orgs)),
            "dokumentord": "dokumentet",
            "beslutsinstans_rad": '"I styrelsen för …:" eller "I …nämnden:"',
            "beslutsorgan_exempel": '"Styrelsen …" eller "Nämnden …"',
            "titel_exempel": "VD",
        }
    else:
        values = {"shared": False, **_organisation_words(orgs[0])}
    skeleton = (SKELETON_DIR / "arende.yaml.j2").read_text(encoding="utf-8")
    texts = {ARENDE_FILE: env.get_template("arende.yaml.j2").render(**common, **values)
             + "".join(_field_block(field, today) for field in unwritten_fields(skeleton))}
    if shared:
        template = env.get_template("override.yaml.j2")
        for org in orgs:
            texts[f"{OVERRIDES_DIR}/{org.id}.yaml"] = template.render(**common, **_organisation_words(org))
    texts[f"{BILAGOR_DIR}/README.txt"] = (SKELETON_DIR / "bilagor-README.txt").read_text(encoding="utf-8")
    return texts


def _organisation_words(org: Organisation) -> dict[str, str]:
    """Return the words the comments use for ``org``: its name, document, headings."""
    namn = _one_line(org.namn)
    words = wording_for(org)
    if org.is_bolag:
        mening = f"ett beslutsunderlag till styrelsen för {namn}"
        return {
            "org_id": org.id, "namn": namn, "typ": "bolag", "organisationen": "bolaget",
            "dokument_mening": mening, "dokumentord": "beslutsunderlaget",
            "beslutsinstans_rad": f'"{_one_line(words["beslutsinstans"])}:"',
            "beslutsorgan_exempel": '"Styrelsen …"', "beslutsorgan_exempel_text": "Styrelsen",
            "bedomning_rubrik": words["bedomning_rubrik"],
            "bedomning_platshallare": placeholders()["bedomning_bolag"],
            "titel_exempel": "VD", "diarienummer_exempel": "2024/123",
        }
    forvaltning = _one_line(str(org.forvaltning))
    return {
        "org_id": org.id, "namn": namn, "typ": "nämnd", "organisationen": "nämnden",
        "dokument_mening": f"ett tjänsteutlåtande från {forvaltning} till {namn}",
        "dokumentord": "tjänsteutlåtandet",
        "beslutsinstans_rad": f'"{_one_line(words["beslutsinstans"])}:"',
        "beslutsorgan_exempel": '"Nämnden …"', "beslutsorgan_exempel_text": "Nämnden",
        "bedomning_rubrik": words["bedomning_rubrik"],
        "bedomning_platshallare": placeholders()["bedomning_namnd"],
        "titel_exempel": "Förvaltningsdirektör", "diarienummer_exempel": "N123-0456/24",
    }


def _field_block(field: ArendeField, today: date, indent: str = "") -> str:
    """Return a field the skeleton does not write: its label as a comment, then its placeholder
    (a part: each of its fields, indented under it)."""
    head = f"\n{indent}# {_one_line(field.spec.label)}.\n{indent}{field.key}:"
    if field.part is not None:
        inner = unwritten_fields("", field.part)
        return head + "\n" + "".join(_field_block(sub, today, indent + "  ").lstrip("\n") for sub in inner)
    text = field.spec.placeholder or f"[Skriv {field.spec.label.lower()} här]"
    if field.is_list:
        return f"{head}\n{indent}  - {_yaml_string(text)}\n"
    if field.spec.kind == MARKDOWN:
        return f"{head} |\n{indent}  {text}\n"
    return f"{head} {today.isoformat() if field.spec.kind == DATE else _yaml_string(text)}\n"


def _yaml_string(text: str) -> str:
    """Return ``text`` as a double-quoted YAML scalar (JSON's escapes are YAML's)."""
    return json.dumps(text, ensure_ascii=False)


def _one_line(text: str) -> str:
    """Return ``text`` on one line, so that it cannot end a YAML comment early."""
    return " ".join(text.split())


def _write_folder(folder: Path, texts: dict[str, str]) -> list[Path]:
    """Write ``texts`` into a new folder beside ``folder`` and rename it into place.

    An existing (empty) ``folder``, such as the current one, gets the new folder's entries.
    """
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    except OSError as e:
        raise EnvironmentProblem(f"mappen går inte att skapa: {_os_reason(e)}", file=folder) from e
    try:
        for name, text in texts.items():
            write_bytes(tmp / name, text.encode("utf-8"))
        if folder.is_dir():  # empty (checked): move the entries in, each one atomically
            for entry in sorted(tmp.iterdir()):
                os.rename(entry, folder / entry.name)
        else:
            os.chmod(tmp, 0o755)
            os.rename(tmp, folder)
    except OSError as e:
        if e.errno in (errno.EEXIST, errno.ENOTEMPTY):
            raise ContentError(
                "mappen skapades av någon annan under tiden. Inget har skrivits; välj ett nytt namn på "
                "ärendets mapp.", file=folder) from e
        raise EnvironmentProblem(f"ärendet gick inte att skriva, och inget har skrivits: {_os_reason(e)}",
                                 file=folder) from e
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return [folder / name for name in texts]


def _os_reason(error: OSError) -> str:
    """Return why the machine refused to write the new ärende, in Swedish, with what to do."""
    reasons = {
        errno.ENOSPC: "disken är full. Frigör utrymme och försök igen.",
        errno.EDQUOT: "diskkvoten är slut. Frigör utrymme och försök igen.",
        errno.EROFS: "platsen går bara att läsa. Skapa ärendet i en mapp du kan skriva i.",
        errno.EACCES: "du får inte skriva där. Skapa ärendet i en mapp du kan skriva i, eller be IT om behörighet.",
        errno.EPERM: "du får inte skriva där. Skapa ärendet i en mapp du kan skriva i, eller be IT om behörighet.",
    }
    return reasons.get(error.errno or 0) or describe_os_error(error)


SAMMANTRADE_PLACEHOLDERS = {
    "tid": "[16.00–18.00]",
    "plats": "[Adress, sammanträdesrum]",
    "ordforande": "[Namn Efternamn (parti)]",
    "sekreterare": "[Namn Efternamn]",
    "ledamot": "[Namn Efternamn (parti), ordförande]",
    "ersattare": "[Namn Efternamn (parti)]",
}
"""The placeholders of a new sammanträde, in square brackets like an ärende's."""


def create_sammantrade(folder: Path, org_id: str, organisationer: Organisationer,
                       *, today: date | None = None) -> list[Path]:
    """Write a new sammanträde folder with sammantrade.yaml; return the files.

    The meeting is set two weeks from ``today`` with the kallelse as late as the
    registry allows, and the usual procedural points; it validates as written.
    """
    from datetime import timedelta

    from .sammantrade import SAMMANTRADE_FILE, kallelsedagar, latest_kallelsedatum

    folder = Path(folder)
    if folder.suffix.lower() in (".yaml", ".yml"):
        raise ContentError(f"ange sammanträdets mapp, t.ex. content/sammantraden/2024-03-10, inte en fil: "
                           f"beslut new skapar {SAMMANTRADE_FILE} i mappen.", file=folder)
    org = _find_organisations([org_id], organisationer)[0]
    _check_free(folder)
    datum = (today or date.today()) + timedelta(days=14)
    env = _skeletons()
    text = env.get_template("sammantrade.yaml.j2").render(
        p=SAMMANTRADE_PLACEHOLDERS, namn=_one_line(org.namn), org_id=org.id, mapp=_one_line(str(folder)),
        datum=datum.isoformat(), kallelsedatum=latest_kallelsedatum(datum, org).isoformat(),
        dagar=kallelsedagar(org))
    return _write_folder(folder, {SAMMANTRADE_FILE: text})
