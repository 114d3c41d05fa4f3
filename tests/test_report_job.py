"""The scheduled monthly report: on the first working day at 07:00 school time, once per month
across restarts; emailed through the outbox with the PDF attached, to a real SMTP server that
is down and then up."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.app import Classifiers, build_pipeline
from bot.config.settings import EXAMPLE_CONFIG, parse_settings
from bot.notify.email import EmailTemplates, SmtpMailer
from bot.notify.outbox import OutboxSender
from bot.reports.build import build_report
from bot.reports.delivery import recipients
from bot.reports.job import due_at, first_working_day, monthly_report_job
from bot.reports.month import Month
from bot.service import Scheduler
from bot.store import Store
from bot.store.records import MessageKind
from classifiers.base import Combined
from classifiers.rules import RulesClassifier
from connectors.sandbox import SandboxConnector, SandboxPlatform
from tests.conftest import Clock, example_data

try:  # WeasyPrint loads Pango from the system when imported
    import weasyprint  # noqa: F401
except (ImportError, OSError) as exc:  # pragma: no cover - depends on the machine
    pytest.skip(
        f"the PDF needs WeasyPrint and Pango ({exc}): apt-get install libpango-1.0-0 "
        "libpangoft2-1.0-0",
        allow_module_level=True,
    )

GOVERNORS = [
    {"name": "Gill Governor", "email": "chair@governors.example-school.sch.uk"},
    {"name": "Raj Governor", "email": "safeguarding@governors.example-school.sch.uk"},
]
COMMENTS = [
    "When is the trip?",
    "this school is sh!t",
    "Lovely photos, well done everyone",
    "f u c k off",
    "i want to die, nobody likes me",
]


def job_settings(tmp: Path, send_to_governors: bool = True, smtp_port: int | None = None):
    data = example_data()
    data["classifiers"]["backend"] = "none"
    data["storage"] = {"database": str(tmp / "m.db")}
    data["report"] = {
        "out_dir": str(tmp / "reports"),
        "governors": GOVERNORS,
        "send_to_governors": send_to_governors,
    }
    if smtp_port:
        data["email"] = {
            **data["email"],
            "mode": "smtp",
            "host": "127.0.0.1",
            "port": smtp_port,
            "security": "none",
        }
    return parse_settings(data, EXAMPLE_CONFIG)


def november(tmp: Path, settings) -> Store:
    """A few comments through the pipeline in November; returns the store."""
    platform = SandboxPlatform(account_id="lks-page")
    platform.add_record({"type": "post", "id": "p1", "created_at": "2026-11-16T08:00:00+00:00"})
    for i, text in enumerate(COMMENTS):
        platform.add_comment(f"c{i}", "p1", text, f"2026-11-16T09:0{i}:00+00:00", author=f"a{i}")
    clock = Clock(datetime(2026, 11, 16, 10, 0, tzinfo=UTC))
    rules = RulesClassifier.from_dir(settings.path(settings.classifiers.rules_dir))
    pipeline, _ = build_pipeline(
        settings,
        tmp / "m.db",
        clock=clock,
        connectors={"sandbox:lks-page": SandboxConnector(platform, 25, clock)},
        classifiers=Classifiers(Combined(rules), rules, "rules only"),
        outbox=tmp / "outbox",
    )
    pipeline.run_once()
    assert pipeline.store.rows("SELECT count(*) AS n FROM decisions")[0]["n"] == len(COMMENTS)
    for alert in pipeline.store.outbox.due(clock.now):  # November's alerts went out then
        pipeline.store.outbox.sent(alert.id)
    pipeline.store.close()
    return Store(tmp / "m.db", clock=clock)


def reports(store: Store) -> list:
    return store.outbox.of_kind(MessageKind.REPORT)


def test_first_working_day_and_time_in_school_time():
    settings = parse_settings(example_data(), EXAMPLE_CONFIG)
    assert first_working_day(settings, Month(2026, 11)) == date(2026, 11, 2)  # 1st a Sunday
    assert first_working_day(settings, Month(2026, 12)) == date(2026, 12, 1)
    # the Christmas closure runs to 1 January and 4 January is an INSET day (example config)
    assert first_working_day(settings, Month(2027, 1)) == date(2027, 1, 5)
    assert first_working_day(settings, Month(2027, 5)) == date(2027, 5, 4)  # early May bank hol.
    assert due_at(settings, Month(2027, 6)).astimezone(UTC) == datetime(
        2027, 6, 1, 6, 0, tzinfo=UTC
    )
    assert due_at(settings, Month(2026, 12)).astimezone(UTC) == datetime(
        2026, 12, 1, 7, 0, tzinfo=UTC
    )


def test_the_job_sends_once_per_month_across_restarts(tmp_path):
    settings = job_settings(tmp_path)
    store = november(tmp_path, settings)
    assert monthly_report_job(settings, store, datetime(2026, 12, 1, 6, 59, tzinfo=UTC)) == []
    assert not reports(store) and not (tmp_path / "reports").exists()

    queued = monthly_report_job(settings, store, datetime(2026, 12, 1, 7, 0, tzinfo=UTC))
    assert queued == [
        "report 2026-11 -> Sarah Linton",
        "report 2026-11 -> Gill Governor",
        "report 2026-11 -> Raj Governor",
    ]
    pdf = tmp_path / "reports" / "report-2026-11.pdf"
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_mode & 0o777 == 0o600
    made = pdf.stat().st_mtime_ns

    assert monthly_report_job(settings, store, datetime(2026, 12, 1, 7, 5, tzinfo=UTC)) == []
    store.close()
    # the service restarts; its scheduler runs the job with the line bot/reports/job.py gives
    clock = Clock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    restarted = Store(tmp_path / "m.db", clock=clock)
    ticks = iter(range(0, 10_000, 300))
    scheduler = Scheduler(monotonic=lambda: float(next(ticks)))
    results: list[list[str]] = []  # the scheduler logs a job's exception; catch it here
    scheduler.add(
        "monthly report",
        lambda: results.append(monthly_report_job(settings, restarted, restarted.now())),
        300.0,
    )
    for later in (datetime(2026, 12, 1, 9, 0, tzinfo=UTC), datetime(2026, 12, 2, 7, 0, tzinfo=UTC)):
        clock.now = later
        assert scheduler.run_pending() == ["monthly report"]
    assert results == [[], []]
    sent = reports(restarted)
    assert sorted(m.dedupe for m in sent) == [
        "report:2026-11:Gill Governor",
        "report:2026-11:Raj Governor",
        "report:2026-11:Sarah Linton",
    ]
    assert {m.address for m in sent} == {
        settings.slt.email,
        *(g["email"] for g in GOVERNORS),
    }
    assert all(m.context["attachments"] == [str(pdf)] for m in sent)
    assert all(m.context["moderated"] == len(COMMENTS) for m in sent)
    assert pdf.stat().st_mtime_ns == made  # not made again either
    assert len(restarted.rows("SELECT * FROM audit WHERE event = 'report.queued'")) == 1
    # January's job sends December's report (no data: "no activity"), on its first working day
    assert monthly_report_job(settings, restarted, datetime(2027, 1, 4, 9, 0, tzinfo=UTC)) == []
    assert monthly_report_job(settings, restarted, datetime(2027, 1, 5, 7, 0, tzinfo=UTC))
    december = [m for m in reports(restarted) if m.dedupe.startswith("report:2026-12:")]
    assert len(december) == 3 and all(m.context["no_activity"] for m in december)


def test_a_crash_after_the_files_are_written_still_sends_once(tmp_path):
    settings = job_settings(tmp_path, send_to_governors=False)
    store = november(tmp_path, settings)
    at = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    build_report(store, settings, Month(2026, 11), tmp_path / "reports", now=at)  # then it died
    assert not reports(store)
    assert monthly_report_job(settings, store, at) == ["report 2026-11 -> Sarah Linton"]
    assert monthly_report_job(settings, store, at) == []
    assert len(reports(store)) == 1


def test_a_report_sent_mid_month_does_not_stop_the_full_one(tmp_path):
    from bot.reports.delivery import queue_report

    settings = job_settings(tmp_path, send_to_governors=False)
    store = november(tmp_path, settings)
    mid = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    early = build_report(store, settings, Month(2026, 11), tmp_path / "early", now=mid)
    assert early.figures.in_progress
    assert queue_report(store, settings, early) == ["Sarah Linton"]
    assert queue_report(store, settings, early) == []  # once a day
    (sent,) = reports(store)
    assert sent.dedupe == "report:2026-11-so-far-2026-11-20:Sarah Linton"
    assert "November 2026 so far" in sent.subject
    at = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
    assert monthly_report_job(settings, store, at) == ["report 2026-11 -> Sarah Linton"]


def test_governors_only_when_the_school_says_so():
    data = example_data()
    data["report"] = {"governors": GOVERNORS, "send_to_governors": False}
    settings = parse_settings(data, EXAMPLE_CONFIG)
    assert [p.name for p in recipients(settings)] == ["Sarah Linton"]


def sender(store: Store, settings) -> OutboxSender:
    return OutboxSender(
        store,
        settings.email.from_address,
        SmtpMailer(settings.email, timeout=5),
        EmailTemplates(settings.path(settings.notices.templates_dir)),
        list(settings.administrators),
        settings.school.name,
    )


def test_smtp_down_keeps_the_report_in_the_outbox_then_sends_it_with_the_pdf(tmp_path, smtp):
    sink, port = smtp
    dead = port + 1 if port < 65535 else port - 1
    settings = job_settings(tmp_path, send_to_governors=False, smtp_port=dead)
    store = november(tmp_path, settings)
    store.now = Clock(datetime(2026, 12, 1, 7, 0, tzinfo=UTC))
    monthly_report_job(settings, store, store.now())
    drained = sender(store, settings).drain()
    assert drained.failed and not drained.sent
    (message,) = reports(store)
    assert message.status.value == "pending" and message.attempts == 1 and message.last_error

    up = job_settings(tmp_path, send_to_governors=False, smtp_port=port)
    store.now.now = datetime(2026, 12, 1, 7, 30, tzinfo=UTC)  # after the retry's backoff
    assert sender(store, up).drain().sent == ["report -> Sarah Linton"]
    (got,) = sink.messages
    assert "Moderation report, November 2026" in got["Subject"]
    parts = {p.get_filename(): p for p in got.walk() if p.get_filename()}
    pdf = tmp_path / "reports" / "report-2026-11.pdf"
    assert parts["report-2026-11.pdf"].get_payload(decode=True) == pdf.read_bytes()
    body = (
        next(p for p in got.walk() if p.get_content_type() == "text/plain")
        .get_payload(decode=True)
        .decode()
    )
    assert "Comments moderated:      5" in body
    for text in COMMENTS:
        assert text not in body
    assert reports(store)[0].status.value == "sent"


def test_a_missing_attachment_never_blocks_the_email(tmp_path, smtp):
    sink, port = smtp
    settings = job_settings(tmp_path, send_to_governors=False, smtp_port=port)
    store = november(tmp_path, settings)
    store.now = Clock(datetime(2026, 12, 1, 7, 0, tzinfo=UTC))
    monthly_report_job(settings, store, store.now())
    (tmp_path / "reports" / "report-2026-11.pdf").unlink()
    assert sender(store, settings).drain().sent == ["report -> Sarah Linton"]
    (got,) = sink.messages
    assert not [p for p in got.walk() if p.get_filename()]
    text = next(p for p in got.walk() if p.get_content_type() == "text/plain")
    assert "report-2026-11.pdf could not be read" in text.get_payload(decode=True).decode()
