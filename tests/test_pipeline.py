"""End to end on the sandbox platform: what the platform ends up showing is what we assert."""

import json
import os
import stat
import threading

import pytest

from bot.core.errors import AuthExpired, TransientError
from bot.store import Store
from connectors.sandbox import SandboxPlatform
from tests.conftest import SMALL_SCENARIO, make_settings, write_config


class SimulatedCrash(BaseException):
    """Like a kill: not an Exception, so nothing in the pipeline catches it."""


def statuses(store: Store) -> dict[str, str]:
    return {r["comment_id"]: r["status"] for r in store.rows("select * from comments")}


def decisions(store: Store) -> dict[str, str]:
    return {
        r["comment_id"]: r["action"]
        for r in store.rows(
            "select c.comment_id, d.action from comments c join decisions d on d.id = c.decision_id"
        )
    }


def test_scenario_bad_lines_are_reported_with_line_numbers(sandbox):
    assert len(sandbox.comments) == 7
    assert any(p.startswith("small.jsonl line 7:") for p in sandbox.problems)
    assert any(
        p.startswith("small.jsonl line 12:") and "unknown post" in p for p in sandbox.problems
    )


def test_end_to_end_platform_state(sandbox, make_pipeline):
    pipeline = make_pipeline(sandbox)
    [report] = pipeline.run_once()
    assert report.health == "ok" and report.fetched == 7 and report.processed == 7
    assert decisions(pipeline.store) == {
        "c1": "allow",
        "c2": "hide",
        "c3": "escalate",
        "c4": "respond",
        "c5": "allow",
        "c6": "hide",
        "c7": "hide",
    }
    hidden = {c.id for c in sandbox.comments if c.hidden}
    assert hidden == {"c2", "c3", "c6", "c7"}
    # one notice per post per window, and never one on the post where a child disclosed
    notices = sandbox.notices()
    assert [n.post for n in notices] == ["p1", "p2"]
    assert all("sh!t" not in n.text and "die" not in n.text for n in notices)
    esc = pipeline.store.rows("select * from escalations")
    assert [(e["comment_id"], e["status"]) for e in esc] == [("c3", "new")]
    # data minimisation: allowed comments keep no words, flagged ones do
    rows = {r["comment_id"]: r for r in pipeline.store.rows("select * from comments")}
    assert rows["c1"]["text"] is None and rows["c1"]["text_sha256"]
    assert rows["c3"]["text"] == "i want to die, nobody likes me"


def test_disclosure_post_gets_no_notice_even_when_first(make_pipeline, tmp_path):
    platform = SandboxPlatform(account_id="lks-page")
    platform.add_record({"type": "post", "id": "p9", "created_at": "2026-11-16T08:00:00+00:00"})
    platform.add_comment("d1", "p9", "my dad hits me every night", "2026-11-16T08:01:00+00:00")
    make_pipeline(platform).run_once()
    assert platform.comment("d1").hidden
    assert platform.notices() == []


def test_second_poll_acts_on_nothing(sandbox, make_pipeline):
    pipeline = make_pipeline(sandbox)
    pipeline.run_once()
    log_before = list(sandbox.log)
    [report] = pipeline.run_once()
    assert report.fetched == 0 and report.processed == 0
    assert sandbox.log == log_before


def test_new_comment_after_the_cursor_is_picked_up(sandbox, make_pipeline):
    pipeline = make_pipeline(sandbox)
    pipeline.run_once()
    sandbox.add_comment("c99", "p1", "fuuuck this", "2026-11-16T10:00:00+00:00", author="late")
    [report] = pipeline.run_once()
    assert report.fetched == 1
    assert sandbox.comment("c99").hidden


@pytest.mark.parametrize(
    "after", [False, True], ids=["before-platform-call", "after-platform-call"]
)
@pytest.mark.parametrize("kind", ["hide", "notice"])
def test_crash_between_intent_and_completion_acts_exactly_once(
    tmp_path, make_pipeline, after, kind
):
    db = tmp_path / "crash.db"
    platform = SandboxPlatform.from_scenario(SMALL_SCENARIO, "lks-page")
    platform.fail_on(kind, exc=SimulatedCrash(), after=after)
    first = make_pipeline(platform, db=db)
    with pytest.raises(SimulatedCrash):
        first.run_once()
    intended = first.store.rows("select * from actions where status = 'intended'")
    assert len(intended) == 1 and intended[0]["kind"] == kind
    first.store.close()

    second = make_pipeline(platform, db=db)  # a new process on the same database
    second.run_once()
    second.run_once()
    assert set(statuses(second.store).values()) == {"done"}
    log = [(e["action"], e["target"]) for e in platform.log]
    assert len(log) == len(set(log)), f"an action happened twice: {log}"
    assert {c.id for c in platform.comments if c.hidden} == {"c2", "c3", "c6", "c7"}
    assert len(platform.notices()) == 2
    rows = second.store.rows(
        "select kind, target, status from actions where status != 'done' and status != 'throttled'"
    )
    assert rows == []


def test_real_process_kill_and_rerun(tmp_path):
    """`modbot run --once` killed with SIGKILL mid-run, then run again: exactly once."""
    import subprocess
    import sys
    import textwrap

    cfg = write_config(tmp_path)
    killer = textwrap.dedent("""
        import os, signal, sys
        import connectors.sandbox as sb
        original = sb.SandboxPlatform._do
        count = 0
        def dying(self, action):
            global count
            ref = original(self, action)
            count += 1
            if count == 7:
                self.log.append({"action": action.kind, "target": action.target, "ref": ref})
                self._save_state()
                os.kill(os.getpid(), signal.SIGKILL)
            return ref
        sb.SandboxPlatform._do = dying
        from bot.faces.cli import main
        sys.argv = ["modbot", "--config", sys.argv[1], "run", "--once"]
        main()
    """)
    killed = subprocess.run([sys.executable, "-c", killer, str(cfg)], capture_output=True)
    assert killed.returncode == -9
    again = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(cfg), "run", "--once"],
        capture_output=True,
        text=True,
    )
    assert again.returncode == 0, again.stderr
    state = json.loads((tmp_path / "m.sandbox-lks-page.json").read_text())
    log = [(e["action"], e["target"]) for e in state["log"]]
    assert len(log) == len(set(log)), "an action was carried out twice"
    store = Store(tmp_path / "m.db")
    assert store.rows("select count(*) as n from comments")[0]["n"] == 91
    assert store.rows("select count(*) as n from comments where status != 'done'")[0]["n"] == 0
    assert store.rows("select count(*) as n from decisions")[0]["n"] == 91


def test_shadow_mode_records_but_touches_nothing(sandbox, make_pipeline, settings_data):
    settings_data["accounts"][0]["mode"] = "shadow"
    pipeline = make_pipeline(sandbox, settings=make_settings(settings_data))
    pipeline.run_once()
    assert sandbox.log == []
    assert not any(c.hidden for c in sandbox.comments)
    assert decisions(pipeline.store)["c2"] == "hide"
    actions = pipeline.store.rows("select kind, status from actions")
    assert actions and all(a["status"] == "shadow" for a in actions)
    # the DSL still hears about safeguarding concerns in shadow mode
    assert pipeline.store.rows("select comment_id from escalations") == [{"comment_id": "c3"}]


def test_one_failing_comment_does_not_stop_the_rest(sandbox, make_pipeline):
    sandbox.fail_on("hide", comment_id="c2", exc=RuntimeError("platform said no"))
    pipeline = make_pipeline(sandbox)
    [report] = pipeline.run_once()
    assert any("c2" in e for e in report.errors)
    assert sandbox.comment("c6").hidden and sandbox.comment("c7").hidden
    row = pipeline.store.comment_row("sandbox", "c2")
    assert (
        row["status"] == "decided"
        and row["attempts"] == 1
        and "platform said no" in row["last_error"]
    )
    pipeline.run_once()  # retried next poll
    assert sandbox.comment("c2").hidden
    assert pipeline.store.comment_row("sandbox", "c2")["status"] == "done"


def test_comment_deleted_on_the_platform_is_recorded_gone_not_retried(sandbox, make_pipeline):
    sandbox.fail_on("hide", comment_id="c2", exc=None)
    sandbox._faults.clear()
    original = sandbox._do

    def delete_first(action):
        if action.comment_id == "c2":
            sandbox.comment("c2").deleted = True
        return original(action)

    sandbox._do = delete_first
    pipeline = make_pipeline(sandbox)
    pipeline.run_once()
    assert pipeline.store.comment_row("sandbox", "c2")["status"] == "gone"
    pipeline.run_once()
    assert pipeline.store.comment_row("sandbox", "c2")["status"] == "gone"


class BrokenConnector:
    platform = "sandbox"

    def __init__(self, exc):
        self.exc = exc
        self.account_id = "lks-page"
        self.name = "sandbox:lks-page"
        self.lock = threading.RLock()  # as every Connector has: polls and webhooks take turns

    def fetch(self, cursor):
        raise self.exc


@pytest.mark.parametrize(
    ("exc", "health"),
    [
        (TransientError("502 from platform"), "failing"),
        (AuthExpired("token revoked"), "auth_expired"),
        (ValueError("malformed reply"), "failing"),
    ],
)
def test_failing_account_keeps_its_cursor_and_health_says_so(sandbox, make_pipeline, exc, health):
    pipeline = make_pipeline(sandbox)
    pipeline.run_once()
    key = pipeline.settings.accounts[0].key
    cursor = pipeline.store.accounts.cursor(key)
    pipeline.connectors[key] = BrokenConnector(exc)
    [report] = pipeline.run_once()
    assert report.health == health
    account = pipeline.store.db["accounts"].get(key)
    assert account["cursor"] == cursor and account["health"] == health
    assert account["failures"] == 1


def test_strange_comments_are_processed(make_pipeline):
    platform = SandboxPlatform(account_id="lks-page")
    platform.add_record({"type": "post", "id": "p", "created_at": "2026-11-16T08:00:00+00:00"})
    texts = ["", "😀" * 2000, "x" * 100_000, "\u202eevil\u200b\u200f", "\ud800broken", "مرحبا"]
    for i, text in enumerate(texts):
        platform.add_comment(f"s{i}", "p", text, "2026-11-16T08:01:00+00:00")
    pipeline = make_pipeline(platform)
    [report] = pipeline.run_once()
    assert report.processed == len(texts) and report.errors == []
    assert decisions(pipeline.store)["s2"] == "respond"  # too long to check whole


def test_database_is_private_and_in_wal_mode(tmp_path):
    store = Store(tmp_path / "db" / "m.db")
    mode = stat.S_IMODE(os.stat(tmp_path / "db" / "m.db").st_mode)
    assert mode == 0o600
    assert store.rows("pragma journal_mode")[0]["journal_mode"] == "wal"


def test_audit_log_is_append_only(tmp_path):
    import sqlite3

    store = Store(tmp_path / "m.db")
    store.audit("test.event", detail="x")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        store.db.execute("update audit set event = 'forged'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        store.db.execute("delete from audit")


def test_migrations_run_once(tmp_path):
    Store(tmp_path / "m.db").close()
    store = Store(tmp_path / "m.db")
    assert store.migrate() == []
    from bot.store.db import MIGRATIONS

    applied = [r["version"] for r in store.rows("select version from migrations")]
    assert applied == [version for version, _, _ in MIGRATIONS]


def test_edited_comment_is_classified_again(sandbox, make_pipeline):
    pipeline = make_pipeline(sandbox)
    pipeline.run_once()
    from dataclasses import replace

    from bot.moderation.pipeline import AccountReport, comment_from_row

    row = pipeline.store.comment_row("sandbox", "c1")
    edited = replace(comment_from_row({**row, "text": "now it says fuck"}))
    assert pipeline.store.record_comment(edited)
    pipeline._process_pending(pipeline.settings.accounts[0], AccountReport("k"))
    assert sandbox.comment("c1").hidden
