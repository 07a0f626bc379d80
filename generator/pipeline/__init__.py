"""The front door: what each face (the CLI, the web page) may call of the library.

Each function is what one ``beslut`` command or one action of the web page does, callable
from Python without click:

    content (YAML -> model) -> jobs (plan) -> runner (.docx -> PDF -> handlingar.pdf)

The door has rooms, one per kind of work: ``papers`` (load, check, plan, run, preview,
bilagor, converters), ``reviewing`` (stopp and varningar, readability), ``meetings``
(sammanträden, protokoll), ``mailing`` (send plans) and ``outputs`` (what ``out/`` holds).
A face imports this package only and calls ``pipeline.name``; it never imports a room.

Importing the door is cheap: only content-stage modules load with it (the CLI needs them to
find the registry while the command line is read); the engine (jobs, runner, Word, PDF,
mail) is imported by the functions that use it. The engine's types are named here for
annotations only (``TYPE_CHECKING``): ``pipeline.PdfConverter``, ``pipeline.Report``, ...
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..arendefields import form_fields, key_order, sub_order
from ..bilagor import bilaga_name
from ..content import (
    ARENDE_FILE,
    OVERRIDES_DIR,
    UTSKICK_FILE,
    LoadedArende,
    LoadedUtskick,
    find_registry,
    is_utskick,
    load_arenden,
    load_organisationer,
)
from ..files import write_bytes
from ..findings import STOPP, VARNING
from ..outfolder import ARENDEN_DIR, SAMMANTRADEN_DIR, UTSKICK_DIR
from ..runtemp import describe_temp_error, run_dir
from ..sammantrade import SAMMANTRADE_FILE, is_sammantrade, resolve_sammantrade_file
from ..wording import wording_for
from ..yamlerrors import describe_yaml_error
from ..yamlfile import read_yaml
from .mailing import Mailing, count_to_send, load_smtp_settings, plan_mailing
from .meetings import (
    build_agenda,
    build_minutes,
    create_protokoll,
    create_sammantrade,
    display_name,
    enligt_forslag,
    load_protokoll,
    person_key,
    protokoll_file,
    validate_sammantrade,
)
from .outputs import (
    Built,
    arende_builds,
    arende_stamps,
    built_by_recipient,
    has_manifest,
    is_arende_folder,
    is_draft,
    is_utskick_folder,
    kept_until_changed,
    move_legacy_output,
    output_folder,
    utskick_stamps,
)
from .papers import (
    TemplateCheck,
    accepted_suffixes,
    check_bilaga,
    check_sender,
    check_templates,
    create_arende,
    dokumenttyp,
    early_converter,
    new_converter,
    plan_arende,
    plan_utskick,
    preview_paper,
    run,
    validate_arende,
    validate_utskick,
    warm_up,
)
from .reviewing import (
    ReviewedArende,
    SammantradeReview,
    count_stopp,
    rate_readability,
    readability,
    review_arenden,
    review_findings,
    review_json,
    review_sammantrade,
)

if TYPE_CHECKING:  # the engine's types, for the faces' annotations
    from ..agenda import AgendaResult as AgendaResult
    from ..cache import ByModification as ByModification
    from ..convert import PdfConverter as PdfConverter
    from ..findings import Finding as Finding
    from ..minutes import MinutesResult as MinutesResult
    from ..model import Organisation as Organisation
    from ..model import Organisationer as Organisationer
    from ..runreport import Report as Report
    from ..sammantrade import LoadedSammantrade as LoadedSammantrade

__all__ = [
    # find the content, and its files' names
    "find_registry", "is_utskick", "is_sammantrade", "load_organisationer", "load_arenden", "LoadedArende",
    "LoadedUtskick", "ARENDE_FILE", "OVERRIDES_DIR", "UTSKICK_FILE", "is_arende_folder", "is_utskick_folder",
    "ARENDEN_DIR", "UTSKICK_DIR",
    # validate
    "validate_arende", "validate_utskick", "validate_sammantrade", "dokumenttyp", "check_sender",
    # review
    "review_arenden", "ReviewedArende", "count_stopp", "readability", "review_json", "SammantradeReview",
    "review_sammantrade", "review_findings", "rate_readability", "STOPP", "VARNING",
    # plan and run papers, bundles and letters; look at a paper before it is built
    "plan_arende", "plan_utskick", "run", "early_converter", "preview_paper",
    # converters
    "new_converter", "warm_up",
    # bilagor
    "accepted_suffixes", "check_bilaga", "bilaga_name",
    # what out/ holds
    "output_folder", "is_draft", "Built", "built_by_recipient", "has_manifest", "arende_builds", "arende_stamps",
    "utskick_stamps", "kept_until_changed", "move_legacy_output",
    # sammanträden and protokoll
    "build_agenda", "build_minutes", "load_protokoll", "SAMMANTRADE_FILE", "SAMMANTRADEN_DIR",
    "resolve_sammantrade_file", "protokoll_file", "enligt_forslag", "display_name", "person_key",
    # templates
    "TemplateCheck", "check_templates",
    # new content
    "create_arende", "create_sammantrade", "create_protokoll",
    # send
    "Mailing", "plan_mailing", "load_smtp_settings", "count_to_send",
    # the user's files: read YAML, write a file whole, say what is wrong with YAML; wording
    "read_yaml", "write_bytes", "describe_yaml_error", "wording_for",
    # the run's temporary folder
    "run_dir", "describe_temp_error",
    # the ärende's fields as the model declares them: the edit form's fields and key order
    "form_fields", "key_order", "sub_order",
]
"""The front door: what each face (the CLI, the web page) may call. See the README."""
