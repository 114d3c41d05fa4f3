"""Use cases of the monthly report and the senior-leader figures, for every face (the CLI,
the dashboard's SLT page, the scheduled job's callers). SLT, the DSL and administrators may
see aggregates; nothing here returns a comment's words, an author or a child's name.

    figures = monthly_figures(store, settings, "2026-11", actor)   # -> MonthFigures
    report = write_report(store, settings, "2026-11", actor, folder)
    send_report(store, settings, report, actor)                     # -> who was queued
"""

from __future__ import annotations

from pathlib import Path

from bot.config.settings import SchoolSettings
from bot.reports.build import Report, build_report, month_csv
from bot.reports.delivery import queue_report
from bot.reports.figures import MonthFigures, month_figures
from bot.reports.month import BadMonth, Month
from bot.services.actors import Actor, Role
from bot.store import Store

MAY_SEE_AGGREGATES = (Role.SLT, Role.DSL, Role.ADMIN)

__all__ = [
    "BadMonth",
    "Month",
    "MonthFigures",
    "decisions_csv",
    "monthly_figures",
    "send_report",
    "write_report",
]


def _month(month: Month | str) -> Month:
    return month if isinstance(month, Month) else Month.parse(month)


def monthly_figures(
    store: Store, settings: SchoolSettings, month: Month | str, actor: Actor
) -> MonthFigures:
    """The month's figures (headline with the previous month, the 24-hour rule, safeguarding
    by reference, accuracy, fairness, watching, weekly trends, per account). Raises BadMonth
    for a malformed or future month, Forbidden for a role that may not see them."""
    actor.require(*MAY_SEE_AGGREGATES)
    return month_figures(store, settings, _month(month))


def decisions_csv(store: Store, settings: SchoolSettings, month: Month | str, actor: Actor) -> str:
    """The month's decisions as CSV: references, times, categories and rules; no words."""
    actor.require(*MAY_SEE_AGGREGATES)
    chosen = _month(month)
    chosen.check_started(store.now(), settings.school.tz)
    return month_csv(store, settings, chosen)


def write_report(
    store: Store, settings: SchoolSettings, month: Month | str, actor: Actor, folder: Path
) -> Report:
    """Write report-YYYY-MM.html, .pdf and .csv into `folder` (files 0600); audited."""
    actor.require(*MAY_SEE_AGGREGATES)
    chosen = _month(month)
    report = build_report(store, settings, chosen, folder)
    store.audit("report.written", actor=actor.name, month=str(chosen), folder=str(folder))
    return report


def send_report(store: Store, settings: SchoolSettings, report: Report, actor: Actor) -> list[str]:
    """Queue the report's PDF for SLT (and the governors if configured), once per person per
    month. Returns who was newly queued."""
    actor.require(*MAY_SEE_AGGREGATES)
    return queue_report(store, settings, report)
