"""The 24-hour clock across two administrators, on a simulated clock, with a real SMTP server."""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from bot.acknowledgement.duty import add_leave, who_is_on_duty
from bot.app import Housekeeping, build_desk, build_sender
from bot.config.settings import REPO_ROOT
from bot.faces.cli import cli
from bot.faces.web import WebContext, create_app
from bot.notify.email import SmtpMailer
from bot.notify.links import LinkRefused, sign, verify
from bot.safeguarding.escalations import evidence, export
from connectors.sandbox import SandboxPlatform
from tests.conftest import Clock, make_settings, write_config

MONDAY = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


def build(tmp_path: Path, platform: SandboxPlatform, make_pipeline, clock: Clock, smtp_port=None):
    data = make_settings().model_dump(mode="json", exclude={"source"})
    if smtp_port:
        data["email"] = {
            **data["email"],
            "mode": "smtp",
            "host": "127.0.0.1",
            "port": smtp_port,
            "security": "none",
        }
    from bot.config.settings import EXAMPLE_CONFIG, parse_settings

    settings = parse_settings(data, EXAMPLE_CONFIG)
    pipeline = make_pipeline(platform, settings=settings)
    pipeline.store.now = clock
    desk = build_desk(settings, pipeline.store, tmp_path / "modbot.db")
    sender = build_sender(settings, desk, None if smtp_port else tmp_path / "outbox")
    pipeline.desk = desk
    pipeline.housekeeping = Housekeeping(desk, sender)
    return pipeline, desk


def outbox_rows(store, where: str = "1", args=()) -> list[dict]:
    return store.rows(f"select * from outbox where {where} order by id", list(args))


def one_comment(text: str, at: datetime = MONDAY) -> SandboxPlatform:
    platform = SandboxPlatform(account_id="lks-page")
    platform.add_record({"type": "post", "id": "p1", "created_at": "2026-11-16T08:00:00+00:00"})
    platform.add_comment("c1", "p1", text, at.isoformat(), author="parent")
    return platform


def test_question_gets_an_item_due_in_24_hours_assigned_to_the_admin_on_duty(
    tmp_path, make_pipeline
):
    clock = Clock(MONDAY)
    pipeline, desk = build(tmp_path, one_comment("When is the trip?"), make_pipeline, clock)
    pipeline.run_once()
    [item] = pipeline.store.rows("select * from items")
    assert item["kind"] == "reply" and item["status"] == "open"
    assert item["due_at"] == "2026-11-17T09:00:00+00:00"
    duty = who_is_on_duty(desk.settings, desk.store, MONDAY.date())
    assert (item["assignee"], item["backup"]) == (duty.assignee.name, duty.backup.name)


def test_assignee_is_never_on_leave(tmp_path, make_pipeline):
    clock = Clock(MONDAY)
    pipeline, desk = build(tmp_path, one_comment("When is the trip?"), make_pipeline, clock)
    on_duty = who_is_on_duty(desk.settings, desk.store, MONDAY.date()).assignee.name
    add_leave(desk.store, desk.settings, on_duty, MONDAY.date(), MONDAY.date() + timedelta(3))
    pipeline.run_once()
    [item] = pipeline.store.rows("select * from items")
    assert item["assignee"] != on_duty
    for a in desk.settings.administrators:
        add_leave(desk.store, desk.settings, a.name, MONDAY.date(), MONDAY.date())
    assert who_is_on_duty(desk.settings, desk.store, MONDAY.date()).assignee == desk.settings.slt


def test_reminders_backup_and_breach_each_sent_once_across_a_restart(tmp_path, make_pipeline, smtp):
    sink, port = smtp
    clock = Clock(MONDAY)
    pipeline, desk = build(tmp_path, one_comment("When is the trip?"), make_pipeline, clock, port)
    pipeline.run_once()
    clock.now = MONDAY + timedelta(hours=21)  # past 4h-before and the 75% backup point
    pipeline.housekeeping()

    def item_mail():
        return [m for m in sink.messages if "digest" not in m["Subject"]]

    steps = sorted(m["Subject"] for m in item_mail())
    assert len(steps) == 2 and any("backup needed" in s for s in steps)
    # a restart: a new desk on the same database sends nothing again
    again, desk2 = build(tmp_path, one_comment("When is the trip?"), make_pipeline, clock, port)
    again.housekeeping()
    assert len(item_mail()) == 2
    clock.now = MONDAY + timedelta(hours=24, minutes=1)
    again.housekeeping()
    again.housekeeping()
    breach = [m for m in item_mail() if "deadline missed" in m["Subject"]]
    settings = desk.settings
    assert sorted(m["To"] for m in breach) == sorted(
        {p.email for p in settings.administrators} | {settings.slt.email}
    )
    [item] = desk2.store.rows("select * from items")
    assert item["status"] == "breached"
    assert (
        desk2.store.rows("select count(*) n from audit where event = 'item.breached'")[0]["n"] == 1
    )


def test_failed_send_stays_in_the_outbox_and_is_retried_with_backoff(tmp_path, make_pipeline, smtp):
    sink, port = smtp
    clock = Clock(MONDAY)
    dead = port + 1 if port < 65535 else port - 1  # nothing listens there
    pipeline, desk = build(tmp_path, one_comment("When is the trip?"), make_pipeline, clock, dead)
    pipeline.run_once()
    clock.now = MONDAY + timedelta(hours=21)
    pipeline.housekeeping()
    rows = outbox_rows(desk.store)
    assert rows and all(r["status"] == "pending" for r in rows)
    tried = [r for r in rows if r["attempts"]]
    assert len(tried) == 1 and tried[0]["next_attempt_at"] > clock.now.isoformat()
    assert tried[0]["last_error"]  # the round stopped at the first refused connection
    pipeline.housekeeping.sender.mailer = SmtpMailer(
        desk.settings.email.model_copy(update={"port": port})
    )
    pipeline.housekeeping()  # the failed one waits for its backoff; the rest go now
    assert len(sink.messages) == len(rows) - 1
    clock.now += timedelta(minutes=5)
    pipeline.housekeeping()
    assert {r["status"] for r in outbox_rows(desk.store)} == {"sent"}
    assert len(sink.messages) == len(rows)


def test_dsl_alert_is_urgent_carries_no_comment_text_and_suggests_a_route(tmp_path, make_pipeline):
    clock = Clock(MONDAY)
    text = "my stepdad hits me when mum is at work"
    pipeline, desk = build(tmp_path, one_comment(text), make_pipeline, clock)
    pipeline.run_once()
    [item] = desk.store.rows("select * from items")
    assert item["kind"] == "escalation" and item["assignee"] == desk.settings.dsl.name
    assert item["due_at"] == "2026-11-16T10:00:00+00:00"  # one hour, in working hours
    [esc] = desk.store.rows("select * from escalations")
    assert esc["urgent"] == 1 and "social care" in esc["route"]
    assert "parent" not in esc["route"].lower()  # the stepdad is family: never "tell the parents"
    pipeline.housekeeping()
    mails = [
        p for p in sorted((tmp_path / "outbox").glob("*.eml")) if b"digest" not in p.read_bytes()
    ]
    assert len(mails) == 2  # DSL and deputy
    for path in mails:
        message = email.message_from_bytes(path.read_bytes())
        assert "URGENT" in message["Subject"]
        body = path.read_bytes().decode("utf-8", "replace")
        assert "stepdad" not in body and "hits me" not in body
    record = evidence(desk.store, esc["id"])
    assert record["comment"]["words"] == text
    assert record["times"]["hidden"] is not None
    json_path, html_path = export(
        desk.store, esc["id"], tmp_path / "export", REPO_ROOT / "config" / "templates"
    )
    assert text in html_path.read_text() and json_path.stat().st_mode & 0o077 == 0


def test_grooming_suggests_ceop_and_staff_concern_suggests_lado(tmp_path, make_pipeline):
    from bot.safeguarding.routes import suggest_route

    assert "CEOP" in suggest_route(["grooming"], [], "our little secret", False, "england").route
    lado = suggest_route(["abuse_disclosure"], [], "Mr Davies touched me", False, "england")
    assert "LADO" in lado.route
    with_image = suggest_route(["grooming"], [], "", True, "england")
    assert "Internet Watch Foundation" in " ".join([with_image.route, *with_image.steps])


def web_client(desk, clock) -> TestClient:
    ctx = WebContext(desk.settings, desk.store.path, desk.secret, clock)
    return TestClient(create_app(ctx))


def test_signed_links_valid_expired_forged_replayed(tmp_path, make_pipeline):
    """A link only checks its signature and leads on to the item's page (sign-in first):
    forged, foreign, malformed and expired links are refused and audited; a good one, however
    often it is opened, acknowledges nothing (tests/test_web_links.py has the sign-in part)."""
    clock = Clock(MONDAY)
    pipeline, desk = build(tmp_path, one_comment("When is the trip?"), make_pipeline, clock)
    pipeline.run_once()
    [item] = desk.store.rows("select * from items")
    client = web_client(desk, clock)
    token = desk.link(item["id"], "Priya Shah").split("t=")[1]

    def follow(t: str):
        return client.get("/ack", params={"t": t})

    forged = token[:-1] + ("0" if token[-1] != "0" else "1")
    assert follow(forged).status_code == 403
    other = sign(b"not the secret", item["id"], "Priya Shah", MONDAY, timedelta(hours=1))
    assert follow(other).status_code == 403
    assert follow("é.ü").status_code == 403  # non-ASCII: refused
    for _ in range(2):  # replayed: harmless
        page = follow(token)
        assert page.status_code == 200 and f'url=/items/{item["id"]}"' in page.text
    clock.now = MONDAY + timedelta(days=4)
    assert follow(token).status_code == 403
    with pytest.raises(LinkRefused, match="expired"):
        verify(desk.secret, token, clock.now)
    refused = desk.store.rows("select count(*) n from audit where event = 'link.refused'")
    assert refused[0]["n"] == 4
    assert desk.store.rows("select status from items")[0]["status"] == "open"


def test_get_and_head_on_a_link_acknowledge_nothing(tmp_path, make_pipeline):
    """Mail scanners fetch every link: a link shows no words and acknowledges nothing; only
    the DSL, signed in, confirms on the escalation's page (tests/test_web_links.py)."""
    clock = Clock(MONDAY)
    pipeline, desk = build(tmp_path, one_comment("my dad hits me"), make_pipeline, clock)
    pipeline.run_once()
    [item] = desk.store.rows("select * from items")
    assert item["kind"] == "escalation"
    client = web_client(desk, clock)
    token = desk.link(item["id"], desk.settings.dsl.name).split("t=")[1]
    for _ in range(3):
        page = client.get("/ack", params={"t": token})
        assert page.status_code == 200 and "my dad hits me" not in page.text
        assert client.head("/ack", params={"t": token}).status_code == 200
    posted = client.post("/ack", data={"t": token, "step": "acknowledge"})
    assert posted.status_code == 403 and "my dad hits me" not in posted.text
    assert desk.store.rows("select status from items")[0]["status"] == "open"
    assert desk.store.rows("select status from escalations")[0]["status"] == "new"
    assert not desk.store.rows("select * from audit where event = 'escalation.viewed'")
    assert "default-src 'none'" in page.headers["content-security-policy"]


def test_an_administrator_cannot_open_an_escalation_link_meant_for_the_dsl(tmp_path, make_pipeline):
    clock = Clock(MONDAY)
    pipeline, desk = build(tmp_path, one_comment("my dad hits me"), make_pipeline, clock)
    pipeline.run_once()
    [item] = desk.store.rows("select * from items")
    client = web_client(desk, clock)
    admin = desk.settings.administrators[0].name
    token = desk.link(item["id"], admin).split("t=")[1]
    page = client.post("/ack", data={"t": token, "step": "open"})
    assert page.status_code == 403 and "my dad hits me" not in page.text


def test_ack_cli_twice_is_harmless(tmp_path):
    cfg = write_config(tmp_path)
    runner = CliRunner()
    assert runner.invoke(cli, ["--config", str(cfg), "run", "--once"]).exit_code == 0
    listed = runner.invoke(cli, ["--config", str(cfg), "items"])
    lines = [line.split() for line in listed.output.splitlines()]
    first_item = next(words[0] for words in lines if words[1] != "escalation")
    escalation_item = next(words[0] for words in lines if words[1] == "escalation")
    admin = runner.invoke(cli, ["--config", str(cfg), "ack", escalation_item, "--by", "Tom Walker"])
    assert admin.exit_code == 2 and "needs dsl" in admin.output  # the DSL's, not an admin's
    one = runner.invoke(cli, ["--config", str(cfg), "ack", first_item, "--by", "Tom Walker"])
    two = runner.invoke(cli, ["--config", str(cfg), "ack", first_item, "--by", "Tom Walker"])
    assert "acknowledged by Tom Walker" in one.output
    assert "already acknowledged" in two.output
    esc = runner.invoke(cli, ["--config", str(cfg), "escalations", "list", "--by", "Helen Okafor"])
    assert "URGENT" in esc.output
    slt = runner.invoke(
        cli, ["--config", str(cfg), "escalations", "show", "1", "--by", "Sarah Linton"]
    )
    assert slt.exit_code == 2 and "may not" in slt.output  # SLT sees no safeguarding words
    missing = runner.invoke(
        cli, ["--config", str(cfg), "escalations", "show", "999", "--by", "Helen Okafor"]
    )
    assert missing.exit_code == 2 and "no escalation 999" in missing.output
    assert "Traceback" not in missing.output
    refer = runner.invoke(
        cli,
        [
            "--config",
            str(cfg),
            "escalations",
            "refer",
            "1",
            "--by",
            "Helen Okafor",
            "--route",
            "MASH",
            "--reference",
            "R-1",
        ],
    )
    assert "referred" in refer.output


def test_digests_on_working_days_once_per_slot_without_comment_text(tmp_path, make_pipeline):
    saturday = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    clock = Clock(MONDAY - timedelta(hours=1))
    platform = one_comment("this school is sh!t", at=MONDAY - timedelta(hours=2))
    pipeline, desk = build(tmp_path, platform, make_pipeline, clock)
    pipeline.run_once()
    clock.now = MONDAY  # 09:00 on a Monday: the 08:00 digest is due
    pipeline.housekeeping()
    pipeline.housekeeping()
    digests = outbox_rows(desk.store, "kind = 'digest'")
    assert len(digests) == len(desk.settings.administrators)
    assert {d["dedupe"].rsplit(":", 1)[0] for d in digests} == {"digest:2026-11-16T08:00:00+00:00"}
    bodies = [p.read_bytes().decode() for p in sorted((tmp_path / "outbox").glob("*.eml"))]
    digest_bodies = [b for b in bodies if "digest" in b]
    assert digest_bodies and all("sh!t" not in b for b in digest_bodies)
    assert any("Offensive language" in b for b in digest_bodies)
    clock.now = saturday
    before = len(outbox_rows(desk.store, "kind = 'digest'"))
    pipeline.housekeeping()
    assert len(outbox_rows(desk.store, "kind = 'digest'")) == before  # none at the weekend


def test_digest_window_is_right_in_summer_time(tmp_path, make_pipeline):
    """The window is compared in UTC: a hide at 07:30 BST (06:30 UTC) belongs to the 08:00
    digest, not to the next day's."""
    june_monday = datetime(2026, 6, 15, 6, 30, tzinfo=UTC)  # 07:30 BST
    clock = Clock(june_monday)
    platform = one_comment("this school is sh!t", at=june_monday)
    pipeline, _ = build(tmp_path, platform, make_pipeline, clock)
    pipeline.run_once()
    clock.now = datetime(2026, 6, 15, 7, 5, tzinfo=UTC)  # 08:05 BST
    pipeline.housekeeping()
    bodies = [p.read_bytes().decode() for p in sorted((tmp_path / "outbox").glob("*.eml"))]
    digest_bodies = [b for b in bodies if "Hidden since the last digest (1)" in b]
    assert digest_bodies
