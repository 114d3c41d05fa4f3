"""Everything modbot sees and does, in one SQLite file (through sqlite-utils).

Idempotent by (platform, comment id): a comment seen twice is recorded once and acted on once.
Every platform action is written as `intended` before the platform call and `done` after it,
so a crash in between is retried (after asking the platform whether it already happened), never
lost or doubled. The audit log is append-only: triggers refuse updates and deletes."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import sqlite_utils

from bot.core.clock import Clock, iso, system_clock
from bot.core.errors import StoreError
from bot.core.models import Action, Comment, Decision, Verdict, valid_text
from bot.core.redact import redact
from bot.store.accounts import Accounts, migrate_account_backoff
from bot.store.backup import backup_before_migrate, refuse_downgrade
from bot.store.escalations import Escalations
from bot.store.inserts import insert_once
from bot.store.items import Items
from bot.store.outbox import Outbox
from bot.store.reviews import Reviews
from bot.store.scrub import scrub_stored_errors, stored_text
from bot.store.users import Users, migrate_people_and_reviews
from bot.store.views import Views

MAX_ATTEMPTS = 5  # a comment that fails this often is parked as `failed` and reported
_NOT_EVIDENCE = "id NOT IN (SELECT version_id FROM escalations WHERE version_id IS NOT NULL)"


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()


def valid_unicode(comment: Comment) -> Comment:
    return replace(
        comment,
        text=valid_text(comment.text),
        author_handle=valid_text(comment.author_handle),
        author_id=valid_text(comment.author_id),
        permalink=valid_text(comment.permalink),
    )


def _m1_initial(db: sqlite_utils.Database) -> None:
    db.table("accounts").create(
        {
            "key": str,
            "platform": str,
            "account_id": str,
            "display_name": str,
            "cursor": str,
            "health": str,
            "failures": int,
            "last_poll_at": str,
            "last_ok_at": str,
            "last_error": str,
        },
        pk="key",
        defaults={"health": "ok", "failures": 0},
    )
    db.table("comments").create(
        {
            "platform": str,
            "comment_id": str,
            "account": str,
            "post_id": str,
            "parent_id": str,
            "author_id": str,
            "author_handle": str,
            "text": str,
            "text_sha256": str,
            "text_length": int,
            "created_at": str,
            "permalink": str,
            "has_attachment": int,
            "first_seen_at": str,
            "status": str,
            "attempts": int,
            "last_error": str,
            "decision_id": int,
            "updated_at": str,
        },
        pk=("platform", "comment_id"),
        defaults={"status": "new", "attempts": 0},
    )
    db.table("comments").create_index(["status"])
    db.table("verdicts").create(
        {
            "id": int,
            "platform": str,
            "comment_id": str,
            "model": str,
            "model_version": str,
            "scores": str,
            "hits": str,
            "created_at": str,
        },
        pk="id",
    )
    db.table("decisions").create(
        {
            "id": int,
            "platform": str,
            "comment_id": str,
            "verdict_id": int,
            "action": str,
            "categories": str,
            "reasons": str,
            "severity": str,
            "notice_template": str,
            "mode": str,
            "created_at": str,
        },
        pk="id",
    )
    db.table("decisions").create_index(["platform", "comment_id"])
    db.table("actions").create(
        {
            "id": int,
            "decision_id": int,
            "platform": str,
            "comment_id": str,
            "kind": str,
            "target": str,
            "payload": str,
            "status": str,
            "attempts": int,
            "intended_at": str,
            "completed_at": str,
            "platform_ref": str,
            "error": str,
        },
        pk="id",
        defaults={"attempts": 0},
    )
    db.table("actions").create_index(["decision_id", "kind", "target"], unique=True)
    db.table("notices").create(
        {
            "id": int,
            "platform": str,
            "account": str,
            "post_id": str,
            "template": str,
            "posted_at": str,
            "action_id": int,
        },
        pk="id",
    )
    db.table("notices").create_index(["platform", "account", "post_id"])
    db.table("escalations").create(
        {
            "id": int,
            "platform": str,
            "comment_id": str,
            "decision_id": int,
            "categories": str,
            "severity": str,
            "status": str,
            "created_at": str,
        },
        pk="id",
        defaults={"status": "new"},
    )
    db.table("escalations").create_index(["decision_id"], unique=True)
    db.table("audit").create(
        {
            "id": int,
            "at": str,
            "actor": str,
            "event": str,
            "platform": str,
            "comment_id": str,
            "detail": str,
        },
        pk="id",
    )
    db.execute(
        "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit "
        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
    )
    db.execute(
        "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit "
        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
    )


def _m2_acknowledgement(db: sqlite_utils.Database) -> None:
    """Acknowledgement items, who was told what (once per step), recorded leave, escalation
    workflow columns."""
    db.table("items").create(
        {
            "id": int,
            "platform": str,
            "comment_id": str,
            "decision_id": int,
            "kind": str,
            "received_at": str,
            "due_at": str,
            "rule": str,
            "assignee": str,
            "backup": str,
            "status": str,
            "acknowledged_by": str,
            "acknowledged_at": str,
            "breached_at": str,
            "created_at": str,
        },
        pk="id",
        defaults={"status": "open"},
    )
    db.table("items").create_index(["decision_id"], unique=True)
    db.table("items").create_index(["status"])
    db.table("notifications").create(
        {
            "id": int,
            "item_id": int,
            "step": str,
            "recipient": str,
            "address": str,
            "subject": str,
            "status": str,
            "attempts": int,
            "created_at": str,
            "sent_at": str,
            "error": str,
        },
        pk="id",
        defaults={"attempts": 0},
    )
    db.table("notifications").create_index(["item_id", "step", "recipient"], unique=True)
    db.table("leave").create(
        {"id": int, "name": str, "start": str, "end": str, "added_at": str}, pk="id"
    )
    for column, kind in (
        ("route", str),
        ("route_reason", str),
        ("reference", str),
        ("outcome", str),
        ("urgent", int),
        ("updated_at", str),
    ):
        db.table("escalations").add_column(column, kind)


def _m3_workflow(db: sqlite_utils.Database) -> None:
    """The transactional outbox, every version of a comment's words, escalation evidence and
    routes, and the circuit breaker on mass hiding. Plain SQL, so the step is one transaction."""
    for statement in (
        """CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            dedupe TEXT NOT NULL UNIQUE,
            recipient TEXT NOT NULL,
            address TEXT NOT NULL,
            template TEXT NOT NULL,
            subject TEXT NOT NULL,
            context TEXT NOT NULL DEFAULT '{}',
            item_id INTEGER,
            escalation_id INTEGER,
            status TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT,
            created_at TEXT NOT NULL,
            sent_at TEXT,
            last_error TEXT)""",
        "CREATE INDEX outbox_due ON outbox (status, next_attempt_at)",
        """CREATE TABLE comment_versions (
            id INTEGER PRIMARY KEY,
            platform TEXT NOT NULL,
            comment_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            text TEXT,
            text_sha256 TEXT NOT NULL,
            seen_at TEXT NOT NULL,
            purged_at TEXT,
            UNIQUE (platform, comment_id, version))""",
        """INSERT INTO comment_versions (platform, comment_id, version, text, text_sha256, seen_at)
            SELECT platform, comment_id, 1, text, text_sha256, first_seen_at FROM comments""",
        "ALTER TABLE escalations ADD COLUMN version_id INTEGER",
        "ALTER TABLE decisions ADD COLUMN hide INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE escalations ADD COLUMN route_steps TEXT",
        "ALTER TABLE escalations ADD COLUMN family_implicated INTEGER",
        """UPDATE escalations SET version_id = (SELECT v.id FROM comment_versions v
            WHERE v.platform = escalations.platform AND v.comment_id = escalations.comment_id)""",
        """CREATE TRIGGER evidence_words_kept BEFORE UPDATE OF text ON comment_versions
            WHEN OLD.id IN (SELECT version_id FROM escalations WHERE version_id IS NOT NULL)
            BEGIN SELECT RAISE(ABORT, 'escalated words are evidence: append-only'); END""",
        "CREATE TRIGGER versions_no_delete BEFORE DELETE ON comment_versions "
        "BEGIN SELECT RAISE(ABORT, 'comment versions are append-only'); END",
        """CREATE TABLE breakers (
            account TEXT PRIMARY KEY,
            tripped_at TEXT,
            reason TEXT,
            resumed_at TEXT,
            resumed_by TEXT)""",
        """INSERT INTO outbox (kind, dedupe, recipient, address, template, subject, item_id,
            status, attempts, created_at)
            SELECT step, 'legacy:' || id, recipient, address, 'reminder', subject, item_id,
            'pending', 0, created_at FROM notifications
            WHERE status != 'sent' AND item_id != 0""",
    ):
        db.execute(statement)


MIGRATIONS: list[tuple[int, str, Callable[[sqlite_utils.Database], None]]] = [
    (1, "initial schema", _m1_initial),
    (2, "acknowledgement items, notifications, leave, escalation workflow", _m2_acknowledgement),
    (3, "outbox, comment versions, escalation evidence and routes, breakers", _m3_workflow),
    (4, "accounts: next poll time and backoff", migrate_account_backoff),
    (5, "dashboard users, sessions, restores, ban requests", migrate_people_and_reviews),
    (6, "errors stored before the scrubbing: tokens redacted", scrub_stored_errors),
]


def _create_private(path: Path) -> None:
    """The database holds safeguarding data: readable by its owner only, from the start."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    os.chmod(path, 0o600)


class Store:
    def __init__(self, path: Path | str, clock: Clock = system_clock):
        self.path = Path(path)
        self.now = clock
        self.accounts = Accounts(self)
        self.outbox = Outbox(self)
        self.items = Items(self)
        self.escalations = Escalations(self)
        self.views = Views(self)
        self.users, self.reviews = Users(self), Reviews(self)
        try:
            if str(path) != ":memory:":
                _create_private(self.path)
            conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            self.db = sqlite_utils.Database(conn)
            if str(path) != ":memory:":
                self.db.enable_wal()
            self.db.execute("PRAGMA busy_timeout = 5000")
            self.db.execute("PRAGMA foreign_keys = ON")
            self.migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open database {path}: {exc}") from None

    def close(self) -> None:
        self.db.conn.close()

    def transaction(self) -> AbstractContextManager[sqlite_utils.Database]:
        """All or nothing: a state change and the messages it causes are written together.
        Nested calls become savepoints of the outer transaction."""
        return self.db.atomic()

    # --- schema ---------------------------------------------------------------------------
    def migrate(self) -> list[int]:
        self.db.table("migrations").create(
            {"version": int, "name": str, "applied_at": str}, pk="version", if_not_exists=True
        )
        done = {r["version"] for r in self.db.table("migrations").rows}
        refuse_downgrade(max(done, default=None), MIGRATIONS[-1][0], f"the database {self.path}")
        if done and any(version not in done for version, _name, _step in MIGRATIONS):
            backup_before_migrate(self.path)  # an upgrade: a copy first, in case
        applied = []
        for version, name, step in MIGRATIONS:
            if version in done:
                continue
            with self.db.conn:
                self.db.execute("BEGIN")
                step(self.db)
                self.db.table("migrations").insert(
                    {"version": version, "name": name, "applied_at": iso(self.now())}
                )
            applied.append(version)
        return applied

    # --- audit ------------------------------------------------------------------------------
    def audit(
        self,
        event: str,
        *,
        actor: str = "modbot",
        platform: str = "",
        comment_id: str = "",
        **detail: object,
    ) -> None:
        self.db.table("audit").insert(
            {
                "at": iso(self.now()),
                "actor": actor,
                "event": event,
                "platform": platform,
                "comment_id": comment_id,
                # error text in a detail must not carry a token into the append-only log
                "detail": redact(json.dumps(detail, default=str, sort_keys=True)),
            }
        )

    # --- accounts (the repository is bot/store/accounts.py: store.accounts) -------------
    def account_last_ok(self, key: str) -> str | None:
        rows = self.rows("SELECT last_ok_at FROM accounts WHERE key = ?", [key])
        return rows[0]["last_ok_at"] if rows else None

    # --- comments ---------------------------------------------------------------------------
    def record_comment(self, comment: Comment) -> bool:
        """True if the comment is new (or its text changed since we decided on it)."""
        with self.transaction():
            return self._record_comment(valid_unicode(comment))

    def _record_comment(self, comment: Comment) -> bool:
        digest = text_hash(comment.text)
        existing = self.comment_row(comment.platform, comment.comment_id)
        if existing is None:
            self.db.table("comments").insert(
                {
                    "platform": comment.platform,
                    "comment_id": comment.comment_id,
                    "account": comment.account,
                    "post_id": comment.post_id,
                    "parent_id": comment.parent_id,
                    "author_id": comment.author_id,
                    "author_handle": comment.author_handle,
                    "text": comment.text,
                    "text_sha256": digest,
                    "text_length": len(comment.text),
                    "created_at": iso(comment.created_at),
                    "permalink": comment.permalink,
                    "has_attachment": int(comment.has_attachment),
                    "first_seen_at": iso(self.now()),
                    "status": "new",
                    "updated_at": iso(self.now()),
                }
            )
            self._add_version(comment, digest)
            return True
        if existing["text_sha256"] != digest and existing["status"] in ("done", "gone"):
            self.db.table("comments").update(
                (comment.platform, comment.comment_id),
                {
                    "text": comment.text,
                    "text_sha256": digest,
                    "text_length": len(comment.text),
                    "status": "new",
                    "attempts": 0,
                    "updated_at": iso(self.now()),
                },
            )
            version = self._add_version(comment, digest)
            self.audit(
                "comment.edited",
                platform=comment.platform,
                comment_id=comment.comment_id,
                version=version,
            )
            return True
        return False

    def _add_version(self, comment: Comment, digest: str) -> int:
        """Every wording a comment ever had is kept as a version: an edit adds, never replaces."""
        row = self.db.execute(
            "INSERT INTO comment_versions (platform, comment_id, version, text, text_sha256, "
            "seen_at) SELECT ?, ?, coalesce(max(version), 0) + 1, ?, ?, ? FROM comment_versions "
            "WHERE platform = ? AND comment_id = ? RETURNING version",
            [
                comment.platform,
                comment.comment_id,
                comment.text,
                digest,
                iso(self.now()),
                comment.platform,
                comment.comment_id,
            ],
        ).fetchone()
        return int(row[0])

    def latest_version_id(self, platform: str, comment_id: str) -> int | None:
        rows = self.rows(
            "SELECT id FROM comment_versions WHERE platform = ? AND comment_id = ? "
            "ORDER BY version DESC LIMIT 1",
            [platform, comment_id],
        )
        return rows[0]["id"] if rows else None

    def comment_row(self, platform: str, comment_id: str) -> dict | None:
        rows = list(
            self.db.table("comments").rows_where(
                "platform = ? and comment_id = ?", [platform, comment_id]
            )
        )
        return rows[0] if rows else None

    def pending(self, account: str | None = None, platform: str | None = None) -> list[dict]:
        """Comments not finished yet (new, or decided with actions outstanding), oldest first."""
        where = "status in ('new', 'decided') and attempts < ?"
        args: list[object] = [MAX_ATTEMPTS]
        if account is not None:
            where += " and account = ? and platform = ?"
            args += [account, platform]
        return list(
            self.db.table("comments").rows_where(where, args, order_by="created_at, comment_id")
        )

    def set_status(
        self,
        platform: str,
        comment_id: str,
        status: str,
        error: str | None = None,
        attempt: bool = False,
    ) -> None:
        row = self.comment_row(platform, comment_id) or {}
        update: dict[str, object] = {"status": status, "updated_at": iso(self.now())}
        if error is not None:
            update["last_error"] = stored_text(error)
        if attempt:
            attempts = (row.get("attempts") or 0) + 1
            update["attempts"] = attempts
            if attempts >= MAX_ATTEMPTS and status in ("new", "decided"):
                update["status"] = "failed"
        self.db.table("comments").update((platform, comment_id), update)

    def forget_text(self, platform: str, comment_id: str) -> None:
        """Data minimisation: an allowed comment's words are not kept (its hash is). Words
        that were escalated are evidence and stay, whatever the comment says now."""
        with self.transaction():
            self.db.execute(
                "UPDATE comments SET text = NULL WHERE platform = ? AND comment_id = ?",
                [platform, comment_id],
            )
            self.db.execute(
                f"UPDATE comment_versions SET text = NULL, purged_at = ? WHERE platform = ? "
                f"AND comment_id = ? AND text IS NOT NULL AND {_NOT_EVIDENCE}",
                [iso(self.now()), platform, comment_id],
            )

    def purge_text(self, before: datetime) -> int:
        """Retention: drop the words of comments first seen before `before`, except the
        versions that were escalated (kept by the school's records policy). Returns how many
        versions lost their words; the caller audits the purge."""
        with self.transaction():
            cut = iso(before)
            purged = self.db.execute(
                f"UPDATE comment_versions SET text = NULL, purged_at = ? WHERE text IS NOT NULL "
                f"AND seen_at < ? AND {_NOT_EVIDENCE}",
                [iso(self.now()), cut],
            ).rowcount
            self.db.execute(
                "UPDATE comments SET text = NULL WHERE text IS NOT NULL AND first_seen_at < ? "
                "AND NOT EXISTS (SELECT 1 FROM escalations e WHERE e.platform = "
                "comments.platform AND e.comment_id = comments.comment_id)",
                [cut],
            )
        return purged

    # --- verdicts and decisions ----------------------------------------------------------------
    def record_verdict(self, platform: str, comment_id: str, verdict: Verdict) -> int:
        hits = [
            {
                "rule": h.rule_id,
                "category": h.category.value,
                "severity": h.severity.value,
                "action": h.action.value,
                "reason": h.reason,
                "matched": h.matched,
            }
            for h in verdict.hits
        ]
        return int(
            self.db.table("verdicts")
            .insert(
                {
                    "platform": platform,
                    "comment_id": comment_id,
                    "model": verdict.model,
                    "model_version": verdict.model_version,
                    "scores": json.dumps({k: round(v, 4) for k, v in verdict.scores.items()}),
                    "hits": json.dumps(hits),
                    "created_at": iso(self.now()),
                }
            )
            .last_pk
            or 0
        )

    def record_decision(
        self, platform: str, comment_id: str, verdict_id: int, decision: Decision, mode: str
    ) -> int:
        decision_id = int(
            self.db.table("decisions")
            .insert(
                {
                    "platform": platform,
                    "comment_id": comment_id,
                    "verdict_id": verdict_id,
                    "action": decision.action.value,
                    "categories": json.dumps([c.value for c in decision.categories]),
                    "reasons": json.dumps(list(decision.reasons)),
                    "severity": decision.severity.value,
                    "notice_template": decision.notice_template,
                    "hide": int(decision.hide),
                    "mode": mode,
                    "created_at": iso(self.now()),
                }
            )
            .last_pk
            or 0
        )
        self.db.table("comments").update(
            (platform, comment_id), {"decision_id": decision_id, "status": "decided"}
        )
        self.audit(
            "decision",
            platform=platform,
            comment_id=comment_id,
            action=decision.action.value,
            mode=mode,
            categories=[c.value for c in decision.categories],
        )
        return decision_id

    def rule_ids(self, decision_id: int) -> list[str]:
        """The rules (and model layers) that fired for a decision."""
        rows = self.rows(
            "SELECT v.hits FROM decisions d JOIN verdicts v ON v.id = d.verdict_id WHERE d.id = ?",
            [decision_id],
        )
        return [h["rule"] for h in json.loads(rows[0]["hits"])] if rows else []

    def item_facts(self, decision_id: int) -> dict:
        """What a reminder needs about the comment behind an item."""
        row = self.rows(
            "SELECT c.account, c.text, d.categories, d.severity FROM decisions d JOIN comments c "
            "ON c.platform = d.platform AND c.comment_id = d.comment_id WHERE d.id = ?",
            [decision_id],
        )[0]
        return {**row, "categories": json.loads(row["categories"])}

    def hidden_between(self, since: datetime, until: datetime) -> list[dict]:
        """Comments decided `hide` in the window: account and reasons only, never words."""
        rows = self.rows(
            "SELECT c.account, d.reasons FROM decisions d JOIN comments c ON c.platform = "
            "d.platform AND c.comment_id = d.comment_id WHERE d.action = 'hide' "
            "AND d.created_at > ? AND d.created_at <= ? ORDER BY d.id",
            [iso(since), iso(until)],
        )
        return [{**r, "reasons": json.loads(r["reasons"])} for r in rows]

    def failing_accounts(self) -> list[dict]:
        return self.rows("SELECT * FROM accounts WHERE health != 'ok' ORDER BY key")

    def decision_row(self, decision_id: int) -> dict:
        return self.db.table("decisions").get(decision_id)

    # --- actions --------------------------------------------------------------------------------
    def intend(
        self,
        decision_id: int,
        platform: str,
        comment_id: str,
        action: Action,
        status: str = "intended",
    ) -> tuple[dict, bool]:
        """Write the action down before doing it. Returns (row, created): created is False on
        a retry, when an earlier run already wrote it down."""
        payload = json.dumps(
            {"template": getattr(action, "template", ""), "post_id": getattr(action, "post_id", "")}
        )
        action_id, created = insert_once(
            self.db,
            "actions",
            {
                "decision_id": decision_id,
                "platform": platform,
                "comment_id": comment_id,
                "kind": action.kind,
                "target": action.target,
                "payload": payload,
                "status": status,
                "attempts": 0,
                "intended_at": iso(self.now()),
            },
            key=("decision_id", "kind", "target"),
        )
        return self.rows("SELECT * FROM actions WHERE id = ?", [action_id])[0], created

    def action_pending(self, action_id: int, error: str) -> None:
        """The platform could not do it now (rate limit, token, permission, outage): it stays
        intended, and is carried out when the account works again."""
        self.db.execute(
            "UPDATE actions SET attempts = attempts + 1, error = ? WHERE id = ?",
            [stored_text(error), action_id],
        )

    def action_finished(
        self, action_id: int, status: str, ref: str | None = None, error: str | None = None
    ) -> None:
        row = self.db.table("actions").get(action_id)
        self.db.table("actions").update(
            action_id,
            {
                "status": status,
                "platform_ref": ref,
                "error": stored_text(error) if error else None,
                "attempts": (row["attempts"] or 0) + 1,
                "completed_at": iso(self.now())
                if status in ("done", "gone", "shadow", "paused", "skipped")
                else None,
            },
        )
        self.audit(
            f"action.{status}",
            platform=row["platform"],
            comment_id=row["comment_id"],
            kind=row["kind"],
            target=row["target"],
            ref=ref,
            error=error,
        )

    def actions_for(self, decision_id: int) -> list[dict]:
        return list(
            self.db.table("actions").rows_where("decision_id = ?", [decision_id], order_by="id")
        )

    # --- notices and escalations ---
    def last_notice_at(self, platform: str, account: str, post_id: str) -> datetime | None:
        rows = list(
            self.db.query(
                "select max(posted_at) as at from notices where platform = ? and account = ? "
                "and post_id = ?",
                [platform, account, post_id],
            )
        )
        at = rows[0]["at"] if rows else None
        return datetime.fromisoformat(at) if at else None

    def record_notice(
        self, platform: str, account: str, post_id: str, template: str, action_id: int
    ) -> None:
        self.db.table("notices").insert(
            {
                "platform": platform,
                "account": account,
                "post_id": post_id,
                "template": template,
                "posted_at": iso(self.now()),
                "action_id": action_id,
            }
        )

    # --- the circuit breaker on mass hiding ---
    def hides_since(self, platform: str, account: str, since: datetime) -> int:
        return self.rows(
            "SELECT count(*) AS n FROM actions a JOIN comments c ON c.platform = a.platform "
            "AND c.comment_id = a.comment_id WHERE a.kind = 'hide' AND a.status = 'done' "
            "AND a.platform = ? AND c.account = ? AND a.completed_at >= ?",
            [platform, account, iso(since)],
        )[0]["n"]

    def breaker_tripped(self, account_key: str) -> bool:
        return bool(
            self.rows(
                "SELECT 1 FROM breakers WHERE account = ? AND tripped_at IS NOT NULL "
                "AND resumed_at IS NULL",
                [account_key],
            )
        )

    def trip_breaker(self, account_key: str, reason: str) -> bool:
        """True the first time: later calls while it is tripped change nothing."""
        row = self.db.execute(
            "INSERT INTO breakers (account, tripped_at, reason) VALUES (?, ?, ?) "
            "ON CONFLICT (account) DO UPDATE SET tripped_at = excluded.tripped_at, "
            "reason = excluded.reason, resumed_at = NULL, resumed_by = NULL "
            "WHERE breakers.resumed_at IS NOT NULL OR breakers.tripped_at IS NULL "
            "RETURNING account",
            [account_key, iso(self.now()), reason],
        ).fetchone()
        return row is not None

    def resume_breaker(self, account_key: str, by: str) -> bool:
        row = self.db.execute(
            "UPDATE breakers SET resumed_at = ?, resumed_by = ? WHERE account = ? "
            "AND resumed_at IS NULL AND tripped_at IS NOT NULL RETURNING account",
            [iso(self.now()), by, account_key],
        ).fetchone()
        return row is not None

    def breakers(self) -> list[dict]:
        return self.rows("SELECT * FROM breakers ORDER BY account")

    # --- reading back ---
    def rows(self, sql: str, params: Iterable[object] = ()) -> list[dict]:
        return list(self.db.query(sql, list(params)))
