"""No token in the database: errors an earlier modbot stored unscrubbed are redacted when the
database is opened (migration 6), and every path that writes an error column redacts it.
Real SQLite files throughout: the old database is built by the real migrations 1 to 5."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta

import pytest
import sqlite_utils

from bot.core.models import Comment, Hide
from bot.core.redact import REDACTED
from bot.store.db import MIGRATIONS, Store
from bot.store.records import MessageKind, NewMessage
from bot.store.scrub import ERROR_COLUMNS

TOKEN = "EAAGm0PX4ZCpsBAKZAZBZCZAuM8nTvq1xZBdY2ZAxyZAbcDEF0123456789"
URL_SECRET = "abc123def456ghi789"
URL = f"https://graph.facebook.com/v21.0/17_42/comments?access_token={URL_SECRET}&fields=id"
LEAKY = f"(#190) Error validating access token {TOKEN}: session expired; GET {URL} failed"
CLEAN = (
    f"(#190) Error validating access token {REDACTED}: session expired; GET "
    f"https://graph.facebook.com/v21.0/17_42/comments?access_token={REDACTED}&fields=id failed"
)
NOW = "2025-03-03T09:00:00+00:00"
PREVIOUS = 5  # the schema version before the scrubbing migration
ABOUT = {"platform": "facebook", "comment_id": "c1", "account": "17"}  # the comment in question


def _old_database(path) -> None:
    """A database exactly as an earlier modbot (schema 5) left it, errors stored unscrubbed."""
    db = sqlite_utils.Database(sqlite3.connect(str(path), isolation_level=None))
    db.table("migrations").create({"version": int, "name": str, "applied_at": str}, pk="version")
    for version, name, step in MIGRATIONS:
        if version <= PREVIOUS:
            step(db)
            db.table("migrations").insert({"version": version, "name": name, "applied_at": NOW})
    rows = {
        "accounts": {"key": "facebook:17", "platform": "facebook", "account_id": "17"},
        "comments": {"platform": "facebook", "comment_id": "c1", "text_sha256": "x"},
        "actions": {"decision_id": 1, "platform": "facebook", "comment_id": "c1", "kind": "hide"},
        "notifications": {"item_id": 1, "step": "alert", "recipient": "dsl", "status": "sent"},
        "outbox": {
            "kind": "account",
            "dedupe": "account:facebook:17:never:dsl",
            "recipient": "dsl",
            "address": "dsl@school.example",
            "template": "account",
            "subject": "[modbot] ACTION NEEDED",
            "context": json.dumps({"account": "Main page", "error": LEAKY}),
            "created_at": NOW,
        },
        "feedback": {
            **ABOUT,
            "decision_id": 1,
            "source": "restored",
            "status": "restore",
            "reason": "harmless",
            "by": "admin",
            "created_at": NOW,
        },
        "ban_requests": {
            **ABOUT,
            "decision_id": 1,
            "author_id": "a1",
            "reason": "repeated abuse",
            "suggested_by": "dsl",
            "suggested_at": NOW,
        },
        "users": {
            "name": "admin",
            "email": "a@school.example",
            "role": "admin",
            "created_at": NOW,
            "created_by": "setup",
        },
        "sessions": {
            "id": "s1",
            "user_id": 1,
            "csrf": "c",
            "created_at": NOW,
            "last_seen_at": NOW,
            "expires_at": NOW,
        },
    }
    for table, column in ERROR_COLUMNS:
        rows[table][column] = LEAKY
    for table, row in rows.items():  # the user before the session that names it
        db[table].insert(row)
    db.execute(
        "INSERT INTO audit (at, actor, event, detail) VALUES (?, 'modbot', 'action.gone', ?)",
        [NOW, json.dumps({"error": LEAKY})],
    )
    db.conn.close()


@pytest.fixture
def old_store(tmp_path):
    path = tmp_path / "modbot.db"
    _old_database(path)
    store = Store(path, clock=lambda: datetime.fromisoformat(NOW))
    yield store
    store.close()


def test_the_old_database_really_holds_the_tokens(tmp_path):
    """The fixture is what the migration must mend: every error column holds both tokens."""
    path = tmp_path / "old.db"
    _old_database(path)
    conn = sqlite3.connect(str(path))
    for table, column in ERROR_COLUMNS:
        assert conn.execute(f"SELECT {column} FROM {table}").fetchone()[0] == LEAKY
    assert max(v for (v,) in conn.execute("SELECT version FROM migrations")) == PREVIOUS


def test_opening_an_old_database_redacts_every_stored_error(old_store):
    for table, column in ERROR_COLUMNS:
        (text,) = old_store.db.execute(f"SELECT {column} FROM {table}").fetchone()
        assert text == CLEAN, f"{table}.{column}"
    (context,) = old_store.db.execute("SELECT context FROM outbox").fetchone()
    assert json.loads(context) == {"account": "Main page", "error": CLEAN}
    assert old_store.outbox.get(1).context["error"] == CLEAN
    assert old_store.accounts.get("facebook:17").last_error == CLEAN


def test_no_token_left_anywhere_but_the_append_only_audit(old_store, tmp_path):
    """The audit log is append-only, so an old row keeps what it said: the triggers still
    refuse the update, and nothing else in the file holds either token."""
    db = old_store.db
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE audit SET detail = '{}'")
    for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
        if table == "audit":
            continue
        for row in db.execute(f"SELECT * FROM {table}").fetchall():
            assert not any(TOKEN in str(v) or URL_SECRET in str(v) for v in row), table


def test_the_scrubbing_runs_once_and_leaves_clean_text_alone(old_store):
    assert [v for v, *_ in MIGRATIONS][-1] == 6
    assert old_store.migrate() == []
    old_store.db.execute("UPDATE comments SET last_error = 'classifier: timeout'")
    old_store.close()
    again = Store(old_store.path)
    assert again.comment_row("facebook", "c1")["last_error"] == "classifier: timeout"
    again.close()


# --- new writes -----------------------------------------------------------------------------
@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "new.db", clock=lambda: datetime.fromisoformat(NOW))
    yield s
    s.close()


def _column(store: Store, table: str, column: str) -> str:
    return store.db.execute(f"SELECT {column} FROM {table} ORDER BY rowid DESC").fetchone()[0]


def test_every_writer_of_an_error_column_redacts(store):
    comment = Comment(
        **ABOUT,
        post_id="p1",
        text="hello",
        author_id="a1",
        author_handle="someone",
        created_at=datetime.fromisoformat(NOW),
    )
    store.record_comment(comment)
    store.set_status("facebook", "c1", "new", error=LEAKY)
    assert _column(store, "comments", "last_error") == CLEAN

    row, _ = store.intend(1, "facebook", "c1", Hide("c1"))
    store.action_pending(row["id"], LEAKY)
    assert _column(store, "actions", "error") == CLEAN
    store.action_finished(row["id"], "gone", error=LEAKY)
    assert _column(store, "actions", "error") == CLEAN

    message = NewMessage(
        kind=MessageKind.ACCOUNT,
        dedupe="k",
        recipient="dsl",
        address="dsl@school.example",
        template="account",
        subject="s",
        context={"error": LEAKY, "account": "Main page"},
    )
    message_id = store.outbox.put(message)
    assert message_id is not None
    assert store.outbox.get(message_id).context == {"error": CLEAN, "account": "Main page"}
    store.outbox.failed(message_id, LEAKY, datetime.fromisoformat(NOW))
    assert store.outbox.get(message_id).last_error == CLEAN

    store.accounts.ensure("facebook:17", "facebook", "17", "Main page")
    store.accounts.failed("facebook:17", RuntimeError(LEAKY))
    assert store.accounts.get("facebook:17").last_error == f"RuntimeError: {CLEAN}"

    feedback = store.reviews.add_feedback(
        **ABOUT,
        decision_id=1,
        text=None,
        label="allow",
        category=None,
        rules=[],
        status="restore",
        reason="harmless",
        by="admin",
    )
    store.reviews.restored(feedback.id, error=LEAKY)
    assert _column(store, "feedback", "restore_error") == CLEAN
    ban, _ = store.reviews.suggest_ban(
        **ABOUT,
        decision_id=1,
        author_id="a1",
        reason="abuse",
        by="dsl",
    )
    store.reviews.decide_ban(ban.id, "approved", "dsl", LEAKY)
    assert _column(store, "ban_requests", "result") == CLEAN
    store.reviews.ban_result(ban.id, f"Approved and recorded. {LEAKY}")
    assert _column(store, "ban_requests", "result") == f"Approved and recorded. {CLEAN}"

    user = store.users.add("admin", "a@school.example", "admin", "hash", by="setup")
    store.users.open_session(user.id, "cookie", "csrf", timedelta(hours=1), "ip")
    session_id = store.users.session("cookie").id
    store.users.set_flash(session_id, f"Not restored: {LEAKY}")
    assert store.users.pop_flash(session_id) == f"Not restored: {CLEAN}"

    store.audit("backup failed", error=LEAKY)
    assert json.loads(_column(store, "audit", "detail")) == {"error": CLEAN}

    dump = "\n".join(store.db.conn.iterdump())
    assert TOKEN not in dump and URL_SECRET not in dump
