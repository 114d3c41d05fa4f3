"""People reviewing what modbot did: hidden comments put back (each one a labelled false
positive that `modbot evaluate` and the exemplar library can learn from), second opinions, and
ban requests. Also the named reads the review pages need (hidden comments, an item with its
comment and verdict), so no face or use case writes SQL. Tables: migration 5 in users.py."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.core.clock import iso
from bot.store.inserts import insert_once
from bot.store.records import Record
from bot.store.scrub import stored_text

if TYPE_CHECKING:
    from bot.store.db import Store

# feedback.status
AWAITING_SECOND = "awaiting_second"  # the first reviewer would restore it but is unsure
RESTORE = "restore"  # a person (or two) decided it is harmless: label allow, unhide
KEEP = "keep"  # the second reviewer disagreed: it stays hidden, label hide

# ban_requests.status
SUGGESTED, APPROVED, DECLINED = "suggested", "approved", "declined"


@dataclass(frozen=True)
class Feedback(Record):
    id: int
    decision_id: int
    platform: str
    comment_id: str
    account: str
    text: str | None
    label: str | None
    category: str | None
    rules: tuple[str, ...]
    source: str
    status: str
    reason: str
    by: str
    created_at: datetime
    second_by: str | None
    second_reason: str | None
    restored_at: datetime | None
    restore_error: str | None


@dataclass(frozen=True)
class BanRequest(Record):
    id: int
    decision_id: int
    platform: str
    comment_id: str
    account: str
    author_id: str
    reason: str
    suggested_by: str
    suggested_at: datetime
    status: str
    decided_by: str | None
    decided_at: datetime | None
    result: str | None


_REVIEWED = (
    "SELECT d.id AS decision_id, d.platform, d.comment_id, d.action, d.categories, d.reasons, "
    "d.severity, d.mode, d.created_at AS decided_at, c.account, c.post_id, c.author_handle, "
    "c.author_id, c.text, c.created_at AS posted_at, c.permalink, c.has_attachment, "
    "h.status AS hide_status, h.completed_at AS hidden_at, u.status AS unhide_status, "
    "f.status AS review_status, f.by AS reviewed_by, f.restored_at "
    "FROM decisions d JOIN comments c ON c.platform = d.platform "
    "AND c.comment_id = d.comment_id "
    "LEFT JOIN actions h ON h.decision_id = d.id AND h.kind = 'hide' "
    "LEFT JOIN actions u ON u.decision_id = d.id AND u.kind = 'unhide' "
    "LEFT JOIN feedback f ON f.decision_id = d.id"
)


def _decoded(row: dict) -> dict:
    row["categories"] = json.loads(row.get("categories") or "[]")
    row["reasons"] = json.loads(row.get("reasons") or "[]")
    return row


class Reviews:
    """The feedback and ban_requests tables, and the reads the review pages need."""

    def __init__(self, store: Store):
        self.store = store

    # --- what the pages show -------------------------------------------------------------
    def hidden(self, include_escalated: bool, limit: int = 200) -> list[dict]:
        """Comments modbot hid (the platform said done), newest first, with any review."""
        actions = "('hide', 'escalate')" if include_escalated else "('hide')"
        rows = self.store.rows(
            f"{_REVIEWED} WHERE d.action IN {actions} AND h.status = 'done' "
            "ORDER BY h.completed_at DESC, d.id DESC LIMIT ?",
            [limit],
        )
        return [_decoded(r) for r in rows]

    def decision(self, decision_id: int) -> dict | None:
        """One decision with its comment, hide and review state, rule hits and scores."""
        rows = self.store.rows(f"{_REVIEWED} WHERE d.id = ?", [decision_id])
        if not rows:
            return None
        row = _decoded(rows[0])
        verdict = self.store.rows(
            "SELECT v.scores, v.hits, v.model FROM verdicts v JOIN decisions d "
            "ON d.verdict_id = v.id WHERE d.id = ?",
            [decision_id],
        )
        row["scores"] = json.loads(verdict[0]["scores"]) if verdict else {}
        row["hits"] = json.loads(verdict[0]["hits"]) if verdict else []
        row["model"] = verdict[0]["model"] if verdict else ""
        return row

    def waiting_items(self) -> list[dict]:
        """Items nobody has acknowledged yet, soonest due first, with the comment's account,
        author and words (the face decides who may see the words)."""
        rows = self.store.rows(
            "SELECT i.id, i.kind, i.due_at, i.status, i.assignee, i.backup, i.decision_id, "
            "i.platform, c.account, c.author_handle, c.text, d.categories "
            "FROM items i JOIN decisions d ON d.id = i.decision_id "
            "JOIN comments c ON c.platform = i.platform AND c.comment_id = i.comment_id "
            "WHERE i.status IN ('open', 'breached') ORDER BY i.due_at, i.id"
        )
        for r in rows:
            r["categories"] = json.loads(r["categories"] or "[]")
        return rows

    def decision_counts(self) -> dict[str, int]:
        """Decisions by action: numbers only."""
        return {
            r["action"]: r["n"]
            for r in self.store.rows("SELECT action, count(*) AS n FROM decisions GROUP BY action")
        }

    def category_counts(self) -> dict[str, int]:
        """How often each category was decided (a decision may have several): numbers only."""
        return {
            r["category"]: r["n"]
            for r in self.store.rows(
                "SELECT j.value AS category, count(*) AS n FROM decisions d, "
                "json_each(d.categories) j GROUP BY j.value ORDER BY n DESC"
            )
        }

    # --- restores and second opinions ---------------------------------------------------------
    def feedback_for(self, decision_id: int) -> Feedback | None:
        rows = self.store.rows("SELECT * FROM feedback WHERE decision_id = ?", [decision_id])
        return Feedback.from_row(rows[0]) if rows else None

    def add_feedback(
        self,
        *,
        decision_id: int,
        platform: str,
        comment_id: str,
        account: str,
        text: str | None,
        label: str | None,
        category: str | None,
        rules: list[str],
        status: str,
        reason: str,
        by: str,
    ) -> Feedback:
        """Once per decision: a second call returns the existing review unchanged."""
        row = {
            "decision_id": decision_id,
            "platform": platform,
            "comment_id": comment_id,
            "account": account,
            "text": text,
            "label": label,
            "category": category,
            "rules": json.dumps(rules),
            "source": "restored",
            "status": status,
            "reason": reason,
            "by": by,
            "created_at": iso(self.store.now()),
        }
        insert_once(self.store.db, "feedback", row, key=("decision_id",))
        feedback = self.feedback_for(decision_id)
        assert feedback is not None
        return feedback

    def second_opinion(
        self, feedback_id: int, status: str, label: str, by: str, reason: str, category: str | None
    ) -> bool:
        """The second reviewer's answer; True the first time only."""
        row = self.store.db.execute(
            "UPDATE feedback SET status = ?, label = ?, category = ?, second_by = ?, "
            "second_reason = ?, second_at = ? WHERE id = ? AND status = ? RETURNING id",
            [
                status,
                label,
                category,
                by,
                reason,
                iso(self.store.now()),
                feedback_id,
                AWAITING_SECOND,
            ],
        ).fetchone()
        return row is not None

    def restored(self, feedback_id: int, error: str | None = None) -> None:
        """The platform unhid it (error None), or could not yet (error kept for the page)."""
        if error is None:
            self.store.db.execute(
                "UPDATE feedback SET restored_at = ?, restore_error = NULL WHERE id = ?",
                [iso(self.store.now()), feedback_id],
            )
        else:
            self.store.db.execute(
                "UPDATE feedback SET restore_error = ? WHERE id = ?",
                [stored_text(error), feedback_id],
            )

    def awaiting_second(self) -> list[Feedback]:
        rows = self.store.rows(
            "SELECT * FROM feedback WHERE status = ? ORDER BY id", [AWAITING_SECOND]
        )
        return [Feedback.from_row(r) for r in rows]

    def labelled(self) -> list[Feedback]:
        """Reviews with a decided label and the words still kept: the training examples."""
        rows = self.store.rows(
            "SELECT * FROM feedback WHERE label IS NOT NULL AND status != ? "
            "AND text IS NOT NULL ORDER BY id",
            [AWAITING_SECOND],
        )
        return [Feedback.from_row(r) for r in rows]

    def feedback_counts(self) -> dict[str, int]:
        return {
            r["status"]: r["n"]
            for r in self.store.rows("SELECT status, count(*) AS n FROM feedback GROUP BY status")
        }

    # --- ban requests -----------------------------------------------------------------------
    def suggest_ban(
        self,
        *,
        decision_id: int,
        platform: str,
        comment_id: str,
        account: str,
        author_id: str,
        reason: str,
        by: str,
    ) -> tuple[BanRequest, bool]:
        """(request, created): an open request for the same author is reused."""
        row = {
            "decision_id": decision_id,
            "platform": platform,
            "comment_id": comment_id,
            "account": account,
            "author_id": author_id,
            "reason": reason,
            "suggested_by": by,
            "suggested_at": iso(self.store.now()),
        }
        request_id, created = insert_once(
            self.store.db,
            "ban_requests",
            row,
            key=("platform", "account", "author_id"),
            where=f"status = '{SUGGESTED}'",
        )
        request = self.ban(request_id)
        assert request is not None
        return request, created

    def ban(self, request_id: int) -> BanRequest | None:
        rows = self.store.rows("SELECT * FROM ban_requests WHERE id = ?", [request_id])
        return BanRequest.from_row(rows[0]) if rows else None

    def bans(self, status: str | None = None) -> list[BanRequest]:
        if status is None:
            rows = self.store.rows("SELECT * FROM ban_requests ORDER BY id DESC")
        else:
            rows = self.store.rows(
                "SELECT * FROM ban_requests WHERE status = ? ORDER BY id", [status]
            )
        return [BanRequest.from_row(r) for r in rows]

    def bans_for(self, decision_id: int) -> list[BanRequest]:
        rows = self.store.rows(
            "SELECT * FROM ban_requests WHERE decision_id = ? ORDER BY id", [decision_id]
        )
        return [BanRequest.from_row(r) for r in rows]

    def decide_ban(self, request_id: int, status: str, by: str, result: str) -> bool:
        """Approve or decline an open request; True the first time only."""
        row = self.store.db.execute(
            "UPDATE ban_requests SET status = ?, decided_by = ?, decided_at = ?, result = ? "
            "WHERE id = ? AND status = ? RETURNING id",
            [status, by, iso(self.store.now()), stored_text(result), request_id, SUGGESTED],
        ).fetchone()
        return row is not None

    def ban_result(self, request_id: int, result: str) -> None:
        self.store.db.execute(
            "UPDATE ban_requests SET result = ? WHERE id = ?", [stored_text(result), request_id]
        )
