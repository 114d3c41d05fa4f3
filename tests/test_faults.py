"""Faults, each ending the same way: the comment is hidden, the DSL is told exactly once, and
nothing is lost. Real SQLite, a real SMTP server (aiosmtpd), the sandbox platform, real files."""

from __future__ import annotations

import email
import shutil
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config.settings import EXAMPLE_CONFIG, REPO_ROOT, parse_settings
from bot.notify.email import SmtpMailer
from connectors.sandbox import SandboxPlatform
from tests.conftest import Clock, example_data, free_port

MONDAY = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
THREAT = "im bringing a knife to school tomorrow and stabbing someone"
DISCLOSURE = "my dad hits me every night and i am scared to go home"


def platform_with(*texts: str, at: datetime = MONDAY) -> SandboxPlatform:
    platform = SandboxPlatform(account_id="lks-page")
    platform.add_record({"type": "post", "id": "p1", "created_at": "2026-11-16T08:00:00+00:00"})
    for n, text in enumerate(texts, 1):
        platform.add_comment(f"c{n}", "p1", text, (at + timedelta(minutes=n)).isoformat())
    return platform


def settings_for(tmp_path: Path, smtp_port: int | None = None, templates: Path | None = None):
    data = example_data()
    data["accounts"][0]["mode"] = "enforce"
    if smtp_port:
        data["email"] = {
            **data["email"],
            "mode": "smtp",
            "host": "127.0.0.1",
            "port": smtp_port,
            "security": "none",
        }
    if templates:
        data["notices"] = {**data.get("notices", {}), "templates_dir": str(templates)}
    return parse_settings(data, EXAMPLE_CONFIG)


def pipeline_for(make_pipeline, tmp_path, platform, clock, smtp_port=None, templates=None):
    from bot.app import Housekeeping, build_desk, build_sender

    settings = settings_for(tmp_path, smtp_port, templates)
    pipeline = make_pipeline(platform, settings=settings)
    pipeline.store.now = clock
    desk = build_desk(settings, pipeline.store, tmp_path / "modbot.db")
    pipeline.desk = desk
    sender = build_sender(settings, desk, None if smtp_port else tmp_path / "outbox")
    pipeline.housekeeping = Housekeeping(desk, sender)
    return pipeline


def dsl_alerts(store) -> list[dict]:
    return store.rows("select * from outbox where kind = 'alert' order by id")


def copy_templates(tmp_path: Path) -> Path:
    target = tmp_path / "templates"
    shutil.copytree(REPO_ROOT / "config" / "templates", target)
    return target


def test_a_broken_notice_template_never_stops_the_hide_or_the_dsl_alert(tmp_path, make_pipeline):
    templates = copy_templates(tmp_path)
    (templates / "notices" / "threat.txt").write_text("We hid it {% if %}\n")
    (templates / "notices" / "offensive_language.txt").write_text("{{ no_such_value }}\n")
    clock = Clock(MONDAY)
    platform = platform_with(THREAT, "you are all absolute tw@ts")
    pipeline = pipeline_for(make_pipeline, tmp_path, platform, clock, templates=templates)
    pipeline.run_once()
    pipeline.housekeeping()
    assert platform.comment("c1").hidden and platform.comment("c2").hidden
    assert platform.notices() == []  # no notice from a broken template, and no crash
    statuses = {r["comment_id"]: r["status"] for r in pipeline.store.rows("select * from comments")}
    assert statuses == {"c1": "done", "c2": "done"}
    alerts = dsl_alerts(pipeline.store)
    dsl, deputy = pipeline.settings.dsl.name, pipeline.settings.deputy_dsl.name
    assert {a["recipient"] for a in alerts} == {dsl, deputy}
    assert all(a["status"] == "sent" for a in alerts)
    told = pipeline.store.rows("select recipient from outbox where kind = 'template'")
    assert {t["recipient"] for t in told} == {a.name for a in pipeline.settings.administrators}
    pipeline.run_once()
    pipeline.housekeeping()
    assert len(dsl_alerts(pipeline.store)) == 2  # exactly once, however often it runs


def test_a_missing_email_template_sends_a_plain_fallback_and_nothing_waits_for_ever(
    tmp_path, make_pipeline
):
    templates = copy_templates(tmp_path)
    (templates / "email" / "dsl_alert.html").unlink()
    clock = Clock(MONDAY)
    platform = platform_with(DISCLOSURE)
    pipeline = pipeline_for(make_pipeline, tmp_path, platform, clock, templates=templates)
    pipeline.run_once()
    pipeline.housekeeping()
    assert platform.comment("c1").hidden
    pending = pipeline.store.rows("select * from outbox where status != 'sent'")
    assert pending == []
    mails = [email.message_from_bytes(p.read_bytes()) for p in (tmp_path / "outbox").glob("*")]
    alerts = [m for m in mails if "safeguarding concern" in m["Subject"]]
    assert len(alerts) == 2
    body = alerts[0].get_payload(decode=True).decode()
    assert "plain fallback" in body and "escalation 1" in body and "hits me" not in body
    assert any("broken" in m["Subject"] for m in mails)  # the administrators are told


def test_a_crash_between_the_item_and_its_alert_loses_nothing(tmp_path, make_pipeline):
    clock = Clock(MONDAY)
    platform = platform_with(DISCLOSURE)
    pipeline = pipeline_for(make_pipeline, tmp_path, platform, clock)
    real_put = pipeline.store.outbox.put

    def crash(message):
        raise SystemExit("killed between the item and its alert")

    pipeline.store.outbox.put = crash
    with pytest.raises(SystemExit):
        pipeline.run_once()
    assert pipeline.store.rows("select * from items") == []  # all or nothing
    assert pipeline.store.rows("select * from escalations") == []
    pipeline.store.outbox.put = real_put
    pipeline.run_once()
    pipeline.housekeeping()
    assert platform.comment("c1").hidden
    assert len(pipeline.store.rows("select * from items")) == 1
    alerts = dsl_alerts(pipeline.store)
    assert len(alerts) == 2 and {a["status"] for a in alerts} == {"sent"}


def test_smtp_down_then_up_tells_the_dsl_exactly_once(tmp_path, make_pipeline, smtp):
    sink, port = smtp
    clock = Clock(MONDAY)
    platform = platform_with(DISCLOSURE)
    dead = free_port()
    pipeline = pipeline_for(make_pipeline, tmp_path, platform, clock, smtp_port=dead)
    pipeline.run_once()
    for _ in range(3):
        pipeline.housekeeping()
        clock.now += timedelta(minutes=1)
    assert platform.comment("c1").hidden
    assert {a["status"] for a in dsl_alerts(pipeline.store)} == {"pending"}
    assert sink.messages == []
    pipeline.housekeeping.sender.mailer = SmtpMailer(
        pipeline.settings.email.model_copy(update={"port": port})
    )
    clock.now += timedelta(minutes=30)  # past any backoff
    pipeline.housekeeping()
    pipeline.housekeeping()
    alerts = [m for m in sink.messages if "safeguarding concern" in m["Subject"]]
    assert sorted(m["To"] for m in alerts) == sorted(
        [pipeline.settings.dsl.email, pipeline.settings.deputy_dsl.email]
    )


def test_a_full_disk_then_space_freed_loses_nothing(tmp_path, make_pipeline):
    """The disk is full when the alerts are written out: each message file is a link to
    /dev/full, so the kernel itself answers ENOSPC. Then space is freed (the links go)."""
    clock = Clock(MONDAY)
    platform = platform_with(DISCLOSURE)
    pipeline = pipeline_for(make_pipeline, tmp_path, platform, clock)
    outbox = tmp_path / "outbox"
    outbox.mkdir(mode=0o700)
    for n in range(1, 10):
        (outbox / f"modbot-{n}-alert.eml").symlink_to("/dev/full")
    pipeline.run_once()
    pipeline.housekeeping()
    assert platform.comment("c1").hidden
    alerts = dsl_alerts(pipeline.store)
    assert {a["status"] for a in alerts} == {"pending"}
    assert any("No space left" in (a["last_error"] or "") for a in alerts)
    for link in outbox.glob("*.eml"):
        link.unlink()  # space freed
    clock.now += timedelta(minutes=30)
    pipeline.housekeeping()
    assert {a["status"] for a in dsl_alerts(pipeline.store)} == {"sent"}
    written = [p for p in outbox.glob("*-alert.eml")]
    assert len(written) == 2 and all(p.stat().st_mode & 0o077 == 0 for p in written)


def test_the_clock_stepping_back_neither_repeats_nor_loses_a_step(tmp_path, make_pipeline):
    clock = Clock(MONDAY)
    platform = platform_with("When does the trip get back?")
    pipeline = pipeline_for(make_pipeline, tmp_path, platform, clock)
    pipeline.run_once()
    clock.now = MONDAY + timedelta(hours=21)
    pipeline.housekeeping()
    before = pipeline.store.rows("select dedupe from outbox order by id")
    clock.now = MONDAY + timedelta(hours=19)  # the wall clock steps back two hours
    pipeline.housekeeping()
    assert pipeline.store.rows("select dedupe from outbox order by id") == before
    clock.now = MONDAY + timedelta(hours=24, minutes=5)
    pipeline.housekeeping()
    steps = [r["dedupe"].split(":")[2] for r in pipeline.store.rows("select dedupe from outbox")]
    assert steps.count("backup") == 1 and "breach" in steps
    assert pipeline.store.rows("select status from outbox where status != 'sent'") == []


def test_an_edited_disclosure_keeps_its_original_words_in_the_evidence(tmp_path, make_pipeline):
    from dataclasses import replace

    from bot.safeguarding.escalations import export

    clock = Clock(MONDAY)
    platform = platform_with(DISCLOSURE)
    pipeline = pipeline_for(make_pipeline, tmp_path, platform, clock)
    pipeline.run_once()
    edited = replace(
        pipeline.connectors[next(iter(pipeline.connectors))]._to_comment(platform.comment("c1")),
        text="nvm ignore me",
    )
    assert pipeline.store.record_comment(edited)
    pipeline.run_once()  # classified again: allowed, and its new words are forgotten
    paths = export(pipeline.store, 1, tmp_path / "evidence", REPO_ROOT / "config" / "templates")
    record = paths[0].read_text()
    assert DISCLOSURE in record  # the words that were escalated, whatever it says now
    versions = pipeline.store.rows("select version, text from comment_versions")
    assert [v["version"] for v in versions] == [1, 2]
    latest = pipeline.store.rows("select action from decisions order by id desc limit 1")[0]
    if latest["action"] == "allow":  # a harmless edit is not kept (data minimisation)
        assert versions[1]["text"] is None
    assert all(p.stat().st_mode & 0o077 == 0 for p in paths)
    with pytest.raises(Exception, match="append-only"):
        pipeline.store.db.execute("update comment_versions set text = 'x' where version = 1")


def test_an_urgent_comment_on_22_december_is_due_within_the_dsl_clock(tmp_path, make_pipeline):
    december = datetime(2026, 12, 22, 20, 30, tzinfo=UTC)  # in the holidays, out of hours
    clock = Clock(december)
    platform = platform_with("i want to kill myself tonight", at=december)
    pipeline = pipeline_for(make_pipeline, tmp_path, platform, clock)
    pipeline.run_once()
    [item] = pipeline.store.rows("select * from items")
    due = datetime.fromisoformat(item["due_at"])
    minutes = pipeline.settings.acknowledgement.dsl_ack_minutes
    assert due <= december + timedelta(minutes=minutes + 5)
    assert "every day of the year" in item["rule"]


def test_the_circuit_breaker_trips_on_a_rule_file_that_matches_everything(tmp_path, make_pipeline):
    from bot.app import build_classifier

    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "everything.yaml").write_text(
        "category: insult\nseverity: medium\naction: hide\nnotice: none\nrules:\n"
        "  - id: bad.everything\n    action_reason: a bad rule\n    match: regex\n"
        "    phrases: ['.']\n"
    )
    data = example_data()
    data["accounts"][0]["mode"] = "enforce"
    data["classifiers"] = {**data["classifiers"], "rules_dir": str(rules), "backend": "none"}
    data["policy"] = {**data.get("policy", {}), "max_hides_per_hour": 5}
    settings = parse_settings(data, EXAMPLE_CONFIG)
    texts = [f"Lovely photos, thank you number {n}" for n in range(12)]
    platform = platform_with(*texts)
    from bot.app import Housekeeping, build_desk, build_pipeline, build_sender
    from connectors.sandbox import SandboxConnector

    pipeline, _ = build_pipeline(
        settings,
        tmp_path / "modbot.db",
        clock=Clock(MONDAY),
        connectors={settings.accounts[0].key: SandboxConnector(platform, 20)},
        classifiers=build_classifier(settings),
        outbox=tmp_path / "outbox",
    )
    pipeline.run_once()
    hidden = [c for c in platform.comments if c.hidden]
    assert len(hidden) == 5  # then it stopped
    assert pipeline.store.breaker_tripped(settings.accounts[0].key)
    told = pipeline.store.rows("select recipient from outbox where kind = 'breaker'")
    assert {t["recipient"] for t in told} == {a.name for a in settings.administrators}
    paused = pipeline.store.rows("select count(*) n from actions where status = 'paused'")
    assert paused[0]["n"] == 7
    assert build_desk and build_sender and Housekeeping  # the same wiring modbot run uses


def test_an_idle_socket_does_not_block_the_web_server(tmp_path):
    import urllib.request

    import uvicorn

    from bot.faces.web import WebContext, create_app

    settings = settings_for(tmp_path)
    ctx = WebContext(settings, tmp_path / "modbot.db", b"secret", Clock(MONDAY))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(ctx), host="127.0.0.1", port=port, log_level="error", timeout_keep_alive=2
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(100):
            if server.started:
                break
            time.sleep(0.05)
        idle = socket.create_connection(("127.0.0.1", port))  # connects, says nothing
        idle.sendall(b"GET /ack HTTP/1.1\r\nHost: x\r\n")  # and never finishes its request
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ack?t=bad", timeout=5) as r:
            pytest.fail(f"a bad link must be refused, got {r.status}")
    except urllib.error.HTTPError as exc:
        assert exc.code == 403  # answered, while the idle socket still hangs
    finally:
        idle.close()
        server.should_exit = True
        thread.join(timeout=5)


def test_retention_drops_old_words_but_keeps_escalated_evidence(tmp_path, make_pipeline):
    clock = Clock(MONDAY)
    platform = platform_with(DISCLOSURE, "When is the trip?", "this school is sh!t")
    pipeline = pipeline_for(make_pipeline, tmp_path, platform, clock)
    pipeline.run_once()
    clock.now = MONDAY + timedelta(days=pipeline.settings.storage.purge_text_after_days + 1)
    pipeline.housekeeping()
    kept = pipeline.store.rows("select comment_id, text from comment_versions order by 1")
    assert kept[0]["text"] == DISCLOSURE  # escalated: evidence, kept by the records policy
    assert [k["text"] for k in kept[1:]] == [None, None]
    assert (
        pipeline.store.rows("select text from comments where comment_id = 'c2'")[0]["text"] is None
    )
    audited = pipeline.store.rows("select detail from audit where event = 'retention.purged'")
    assert len(audited) == 1


def test_a_dsl_on_leave_is_never_the_only_one_told(tmp_path, make_pipeline):
    from bot.acknowledgement.duty import add_leave

    clock = Clock(MONDAY)
    platform = platform_with("everyone in 9C should tell Lily to kys, she is a freak")
    pipeline = pipeline_for(make_pipeline, tmp_path, platform, clock)
    s = pipeline.settings
    add_leave(pipeline.store, s, s.dsl.name, MONDAY.date(), MONDAY.date() + timedelta(days=7))
    pipeline.run_once()
    [escalation] = pipeline.store.rows("select * from escalations")
    told = {a["recipient"] for a in dsl_alerts(pipeline.store)}
    assert s.deputy_dsl.name in told  # the deputy, because the DSL is away
    [item] = pipeline.store.rows("select * from items")
    assert item["assignee"] == s.deputy_dsl.name
    add_leave(pipeline.store, s, s.deputy_dsl.name, MONDAY.date(), MONDAY.date())
    platform.add_comment("c9", "p1", "i want to kill myself", MONDAY.isoformat())
    pipeline.run_once()
    latest = pipeline.store.rows(
        "select recipient from outbox where kind = 'alert' and item_id = 2"
    )
    present = {r["recipient"] for r in latest} - {s.dsl.name, s.deputy_dsl.name}
    assert present  # both away: someone else (out-of-hours contact or SLT) is told
    assert escalation["urgent"] in (0, 1)
