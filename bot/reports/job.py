"""The scheduled monthly report: on the first working day of the month, at or after
`report.send_at` (07:00) school time, last month's report is written and queued for SLT (and
the governors, if configured).

Once per month across restarts: the job asks the outbox whether last month's report is already
there (the dedupe key `report:YYYY-MM:<name>`) before doing any work, and the outbox refuses a
second copy anyway. If the service was down that morning, it runs at the first chance after.
Cheap to call every few minutes: the charting and PDF libraries load only when it is time.

The scheduler (bot/service.py, build_scheduler) runs it with:
    scheduler.add("monthly report", lambda: monthly_report_job(
        pipeline.settings, pipeline.store, pipeline.store.now()), 300.0)"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from bot.config.settings import SchoolSettings
from bot.reports.month import Month
from bot.store.reporting import Reporting


def first_working_day(settings: SchoolSettings, month: Month) -> date:
    calendar = settings.school_calendar()
    day = month.first_day
    while not calendar.is_working_day(day) and day.month == month.month:
        day += timedelta(days=1)
    return day


def due_at(settings: SchoolSettings, month: Month) -> datetime:
    """When `month`'s job may send the previous month's report."""
    return datetime.combine(
        first_working_day(settings, month), settings.report.send_at, tzinfo=settings.school.tz
    )


def monthly_report_job(settings: SchoolSettings, store, now: datetime) -> list[str]:
    """Write and queue last month's report if it is time and not yet done. Returns what was
    queued, e.g. ["report 2026-11 -> Sarah Linton"]; empty when there was nothing to do."""
    this_month = Month.of(now.astimezone(settings.school.tz).date())
    if now < due_at(settings, this_month):
        return []
    month = this_month.previous()
    if Reporting(store).report_queued(str(month)):
        return []
    from bot.reports.build import build_report  # charts and PDF: loaded only on the day
    from bot.reports.delivery import queue_report

    folder = settings.path(settings.report.out_dir)
    report = build_report(store, settings, month, folder, now=now)
    return [f"report {month} -> {name}" for name in queue_report(store, settings, report)]
