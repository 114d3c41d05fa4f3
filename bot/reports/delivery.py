"""Sending the report: one outbox message per recipient (SLT, and the governors when the school
chooses), with the PDF attached, written in one transaction. The outbox job delivers them and
retries a failed send for ever; the dedupe key `report:YYYY-MM:<name>` means each person gets
each month's report once, however often this runs."""

from __future__ import annotations

from bot.config.settings import Person, SchoolSettings
from bot.reports.build import Report
from bot.reports.render import attention, period
from bot.store.records import MessageKind, NewMessage


def recipients(settings: SchoolSettings) -> list[Person]:
    people = [settings.slt]
    if settings.report.send_to_governors:
        people += [g for g in settings.report.governors if g.name != settings.slt.name]
    return people


def email_context(report: Report) -> dict:
    """The facts the email shows beside the attachment: figures and references, no words."""
    f = report.figures
    return {
        "month": f.month.title,
        "period": period(f),
        "no_activity": f.no_activity,
        "moderated": f.headline.moderated,
        "hidden": f.headline.hidden,
        "escalated": f.headline.escalated,
        "replies_needed": f.headline.replies_needed,
        "ack_rate": str(f.deadlines.rate),
        "ack_fraction": f.deadlines.rate.fraction,
        "attention": attention(f),
        "pdf_name": report.files.pdf.name,
        "attachments": [str(report.files.pdf)],
    }


def queue_report(store, settings: SchoolSettings, report: Report) -> list[str]:
    """Queue the month's report for each recipient; returns who was newly queued (empty when
    every one of them already had it). A month still in progress is sent as "so far", at most
    once a day, under its own key: the full report still goes on the first working day."""
    f = report.figures
    month = f.month
    key, title = str(month), month.title
    if f.in_progress:
        key, title = f"{month}-so-far-{f.generated_at:%Y-%m-%d}", f"{month.title} so far"
    context = email_context(report)
    queued = []
    with store.transaction():
        for person in recipients(settings):
            new = store.outbox.put(
                NewMessage(
                    kind=MessageKind.REPORT,
                    dedupe=f"report:{key}:{person.name}",
                    recipient=person.name,
                    address=person.email,
                    template="report",
                    subject=f"[modbot] Moderation report, {title} (OFFICIAL – SENSITIVE)",
                    context=context,
                )
            )
            if new is not None:
                queued.append(person.name)
        if queued:
            store.audit("report.queued", month=key, recipients=queued)
    return queued
