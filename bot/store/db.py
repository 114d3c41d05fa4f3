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
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import sqlite_utils

from bot.core.clock import Clock, iso, system_clock
from bot.core.errors import StoreError
from bot.core.models import Action, Comment, Decision, Verdict, valid_text

MAX_ATTEMPTS = 5  # a comment that fails this often is parked as `failed` and reported


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()


def valid_unicode(comment: Comment) -> Comment:
    fields = ("text", "author_handle", "author_id", "permalink")
    return replace(comment, **{f: valid_text(getattr(comment, f)) for f in fields})


def _m1_initial(db: sqlite_utils.Database) -> None:
    db["accounts"].create(
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
    db["comments"].create(
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
    db["comments"].create_index(["status"])
    db["verdicts"].create(
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
    db["decisions"].create(
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
    db["decisions"].create_index(["platform", "comment_id"])
    db["actions"].create(
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
    db["actions"].create_index(["decision_id", "kind", "target"], unique=True)
    db["notices"].create(
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
    db["notices"].create_index(["platform", "account", "post_id"])
    db["escalations"].create(
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
    db["escalations"].create_index(["decision_id"], unique=True)
    db["audit"].create(
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
    db["items"].create(
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
    db["items"].create_index(["decision_id"], unique=True)
    db["items"].create_index(["status"])
    db["notifications"].create(
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
    db["notifications"].create_index(["item_id", "step", "recipient"], unique=True)
    db["leave"].create({"id": int, "name": str, "start": str, "end": str, "added_at": str}, pk="id")
    for column, kind in (
        ("route", str),
        ("route_reason", str),
        ("reference", str),
        ("outcome", str),
        ("urgent", int),
        ("updated_at", str),
    ):
        db["escalations"].add_column(column, kind)


MIGRATIONS: list[tuple[int, str, Callable[[sqlite_utils.Database], None]]] = [
    (1, "initial schema", _m1_initial),
    (2, "acknowledgement items, notifications, leave, escalation workflow", _m2_acknowledgement),
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

    # --- schema ---------------------------------------------------------------------------
    def migrate(self) -> list[int]:
        self.db["migrations"].create(
            {"version": int, "name": str, "applied_at": str}, pk="version", if_not_exists=True
        )
        done = {r["version"] for r in self.db["migrations"].rows}
        applied = []
        for version, name, step in MIGRATIONS:
            if version in done:
                continue
            with self.db.conn:
                self.db.execute("BEGIN")
                step(self.db)
                self.db["migrations"].insert(
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
        self.db["audit"].insert(
            {
                "at": iso(self.now()),
                "actor": actor,
                "event": event,
                "platform": platform,
                "comment_id": comment_id,
                "detail": json.dumps(detail, default=str, sort_keys=True),
            }
        )

    # --- accounts ---------------------------------------------------------------------------
    def ensure_account(self, key: str, platform: str, account_id: str, display_name: str) -> dict:
        self.db["accounts"].insert(
            {
                "key": key,
                "platform": platform,
                "account_id": account_id,
                "display_name": display_name,
            },
            ignore=True,
        )
        return self.db["accounts"].get(key)

    def cursor(self, key: str) -> str | None:
        return self.db["accounts"].get(key)["cursor"]

    def poll_succeeded(self, key: str, cursor: str | None) -> None:
        now = iso(self.now())
        self.db["accounts"].update(
            key,
            {
                "cursor": cursor,
                "health": "ok",
                "failures": 0,
                "last_poll_at": now,
                "last_ok_at": now,
                "last_error": None,
            },
        )

    def save_cursor(self, key: str, cursor: str | None) -> None:
        self.db["accounts"].update(key, {"cursor": cursor})

    def poll_failed(self, key: str, health: str, error: str) -> int:
        row = self.db["accounts"].get(key)
        failures = (row["failures"] or 0) + 1
        self.db["accounts"].update(
            key,
            {
                "health": health,
                "failures": failures,
                "last_poll_at": iso(self.now()),
                "last_error": error,
            },
        )
        return failures

    # --- comments ---------------------------------------------------------------------------
    def record_comment(self, comment: Comment) -> bool:
        """True if the comment is new (or its text changed since we decided on it)."""
        comment = valid_unicode(comment)
        digest = text_hash(comment.text)
        existing = self.comment_row(comment.platform, comment.comment_id)
        if existing is None:
            self.db["comments"].insert(
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
            return True
        if existing["text_sha256"] != digest and existing["status"] in ("done", "gone"):
            self.db["comments"].update(
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
            self.audit("comment.edited", platform=comment.platform, comment_id=comment.comment_id)
            return True
        return False

    def comment_row(self, platform: str, comment_id: str) -> dict | None:
        rows = list(
            self.db["comments"].rows_where(
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
        return list(self.db["comments"].rows_where(where, args, order_by="created_at, comment_id"))

    def set_status(
        self,
        platform: str,
        comment_id: str,
        status: str,
        error: str | None = None,
        attempt: bool = False,
    ) -> None:
        row = self.comment_row(platform, comment_id)
        update: dict[str, object] = {"status": status, "updated_at": iso(self.now())}
        if error is not None:
            update["last_error"] = error[:500]
        if attempt:
            update["attempts"] = (row["attempts"] or 0) + 1
            if update["attempts"] >= MAX_ATTEMPTS and status in ("new", "decided"):
                update["status"] = "failed"
        self.db["comments"].update((platform, comment_id), update)

    def forget_text(self, platform: str, comment_id: str) -> None:
        """Data minimisation: an allowed comment's words are not kept (its hash is)."""
        self.db["comments"].update((platform, comment_id), {"text": None})

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
        return (
            self.db["verdicts"]
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
        )

    def record_decision(
        self, platform: str, comment_id: str, verdict_id: int, decision: Decision, mode: str
    ) -> int:
        decision_id = (
            self.db["decisions"]
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
                    "mode": mode,
                    "created_at": iso(self.now()),
                }
            )
            .last_pk
        )
        self.db["comments"].update(
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

    def decision_row(self, decision_id: int) -> dict:
        return self.db["decisions"].get(decision_id)

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
        table = self.db["actions"]
        before = table.count
        table.insert(
            {
                "decision_id": decision_id,
                "platform": platform,
                "comment_id": comment_id,
                "kind": action.kind,
                "target": action.target,
                "payload": payload,
                "status": status,
                "intended_at": iso(self.now()),
            },
            ignore=True,
        )
        row = next(
            table.rows_where(
                "decision_id = ? and kind = ? and target = ?",
                [decision_id, action.kind, action.target],
            )
        )
        return row, table.count > before

    def action_finished(
        self, action_id: int, status: str, ref: str | None = None, error: str | None = None
    ) -> None:
        row = self.db["actions"].get(action_id)
        self.db["actions"].update(
            action_id,
            {
                "status": status,
                "platform_ref": ref,
                "error": (error or "")[:500] or None,
                "attempts": (row["attempts"] or 0) + 1,
                "completed_at": iso(self.now()) if status in ("done", "gone", "shadow") else None,
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
        return list(self.db["actions"].rows_where("decision_id = ?", [decision_id], order_by="id"))

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
        self.db["notices"].insert(
            {
                "platform": platform,
                "account": account,
                "post_id": post_id,
                "template": template,
                "posted_at": iso(self.now()),
                "action_id": action_id,
            }
        )

    def open_escalation(
        self, platform: str, comment_id: str, decision_id: int, decision: Decision
    ) -> None:
        table = self.db["escalations"]
        before = table.count
        table.insert(
            {
                "platform": platform,
                "comment_id": comment_id,
                "decision_id": decision_id,
                "categories": json.dumps([c.value for c in decision.categories]),
                "severity": decision.severity.value,
                "status": "new",
                "created_at": iso(self.now()),
            },
            ignore=True,
        )
        if table.count > before:
            self.audit(
                "escalation.opened",
                platform=platform,
                comment_id=comment_id,
                severity=decision.severity.value,
            )

    # --- reading back ---
    def rows(self, sql: str, params: Iterable[object] = ()) -> list[dict]:
        return list(self.db.query(sql, list(params)))
