"""A run's staging folder and its commit: nothing half-written in ``out/``.

A run writes every file into its own staging folder, ``out/.beslut-arbete/<pid>-<start>-<random>/``
(``start_staging``; ``staged`` says where a file of ``out/`` is written meanwhile), and
``commit`` moves a job's files into ``out/`` only when all of that job succeeded, so a failed
rebuild leaves the previous package whole (never a new paper beside an old handlingar.pdf).
A run removes its folder when it ends (``remove_staging``); the next run removes one left by
a run that was killed.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .errors import EnvironmentProblem, describe_os_error
from .files import link_on_the_way
from .jobs import Job
from .outfolder import STAGING_DIR
from .runtemp import process_folder


def start_staging(out: Path) -> Path:
    """Return this run's new staging folder; remove those of runs that were killed.

    Runs in one process (the web page builds while it previews) each get their own folder
    (``runtemp.process_folder``, the same naming and cleaning as the run's temporary folder).
    """
    return process_folder(out / STAGING_DIR)


def staged(final: Path | None, staging: Path, out: Path) -> Path:
    """Return where ``final`` (a path under ``out``) is written during the run."""
    assert final is not None
    return staging / final.relative_to(out)


def remove_staging(staging: Path) -> None:
    """Remove the run's staging folder, and ``out/.beslut-arbete`` itself when no other run has one in it."""
    shutil.rmtree(staging, ignore_errors=True)
    _remove_if_empty(staging.parent)


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass


def commit(job: Job, staging: Path, out: Path) -> list[Path]:
    """Move the job's staged files into ``out/``; return the final paths."""
    files = job.outputs.files()
    for final in files:
        link = link_on_the_way(out, final)
        if link is not None:  # made while the run ran: never write through it
            raise EnvironmentProblem("en del av sökvägen har blivit en symbolisk länk under körningen, så "
                                     "filen skrevs inte. Ta bort länken och kör igen.", file=link)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged(final, staging, out), final)
        except OSError as e:
            raise EnvironmentProblem(f"filen kan inte skrivas: {describe_os_error(e)}", file=final) from e
    return files
