"""The front door's sending: plan an utskick's letters or a sammanträde's protokollsutdrag, then send.

``beslut send`` (and the web page's dry runs) call these; the mail modules are imported
when a function is called.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..sammantrade import is_sammantrade

if TYPE_CHECKING:
    from ..smtpsettings import SmtpSettings


@dataclass
class Mailing:
    """What ``beslut send`` sends (följebrev or protokollsutdrag) and how to show and send it.

    ``format_plan(plan, settings, problem)`` gives the lines of the dry run,
    ``send(plan, settings, on_attempt=...)`` sends and returns a report,
    ``format_attempt(delivery)`` one line per attempt, ``format_report(report)`` the
    summary's lines and error lines.
    """

    plan: Any
    format_plan: Callable[..., list[str]]
    send: Callable[..., Any]
    format_attempt: Callable[[Any], str]
    format_report: Callable[[Any], tuple[list[str], list[str]]]
    notices: tuple[str, ...] = ()
    """What planning did that the user should hear of once (earlier output moved: ``move_legacy_output``)."""


def plan_mailing(path: Path, organisationer_path: Path, out: Path, *, org_ids: list[str] | None = None,
                 igen: bool = False, templates: Path | None = None) -> Mailing:
    """Plan sending an utskick's letters, or a sammanträde's protokollsutdrag; send nothing."""
    if is_sammantrade(path):
        from .. import expediering

        utdrag = expediering.plan_expediering(path, organisationer_path, out, org_ids=org_ids, igen=igen)
        return Mailing(utdrag, expediering.format_plan, expediering.run_expediering, expediering.format_attempt,
                       expediering.format_report)
    from .. import send as mailing

    plan = mailing.plan_send(path, organisationer_path, out, org_ids=org_ids, igen=igen, templates=templates)
    return Mailing(plan, mailing.format_plan, mailing.run_send, mailing.format_attempt, mailing.format_report,
                   tuple(plan.notices))


def load_smtp_settings(config: Path | None = None, **overrides: Any) -> tuple[SmtpSettings, list[str]]:
    """Return the mail server's settings (environment, then ``config``) and warnings about them."""
    from ..smtpsettings import load_smtp_settings as _load_smtp_settings

    return _load_smtp_settings(config, **overrides)


def count_to_send(mailing: Mailing) -> str:
    """Return how many messages ``mailing`` would send, in Swedish ("3 meddelanden")."""
    from .. import send as mailing_module

    return mailing_module.count_messages(len(mailing.plan.having(mailing_module.SKICKA)))
