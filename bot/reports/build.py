"""Make one month's report: the figures, then the HTML, the PDF and the CSV in a folder.
Called by the `modbot report` use case (after its role check) and by the scheduled job."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.config.settings import SchoolSettings
from bot.reports.figures import MonthFigures, month_figures
from bot.reports.month import Month
from bot.reports.render import (
    ReportFiles,
    decisions_csv,
    render_html,
    render_pdf,
    write_files,
)
from bot.store.reporting import Reporting


@dataclass(frozen=True)
class Report:
    figures: MonthFigures
    files: ReportFiles


def templates_dir(settings: SchoolSettings) -> Path:
    return settings.path(settings.notices.templates_dir)


def month_csv(store, settings: SchoolSettings, month: Month) -> str:
    """The month's decisions as CSV, from the same query as the figures."""
    q = Reporting(store)
    window = month.window(settings.school.tz)
    restored, _ = q.restores(window.lo, window.hi)
    names = {a.key: a.display_name for a in settings.accounts}
    return decisions_csv(
        q.decisions(window.lo, window.hi),
        {r["decision_id"] for r in restored},
        names,
        settings.school.tz,
    )


def build_report(
    store, settings: SchoolSettings, month: Month, folder: Path, now: datetime | None = None
) -> Report:
    """Compute, render and write `report-YYYY-MM.{html,pdf,csv}` into `folder` (0600)."""
    figures = month_figures(store, settings, month, now)
    templates = templates_dir(settings)
    html = render_html(figures, templates)
    pdf = render_pdf(html, templates / "report")
    files = write_files(folder, f"report-{month}", html, pdf, month_csv(store, settings, month))
    return Report(figures, files)
