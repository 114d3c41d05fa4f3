"""The outbox table: every email modbot sends is first a row here, written in the same
transaction as the state change that causes it (an escalation opened, a deadline passed, an
account failing). A job sends due rows and marks them sent; a failure schedules a retry. A row
is never deleted and never given up on, so a message cannot be lost, only delayed."""

from __future__ import annotations

import json
from datetime import datetime

from bot.core.clock import iso
from bot.store.inserts import insert_once
from bot.store.records import Message, MessageKind, MessageStatus, NewMessage
from bot.store.scrub import stored_text, with_error_scrubbed


class Outbox:
    def __init__(self, store):
        self.store = store

    def put(self, message: NewMessage) -> int | None:
        """Write a message once: the same `dedupe` key is ignored ever after. Returns the new
        row's id, or None when it was already written."""
        context = with_error_scrubbed(message.context)
        row = {
            "kind": message.kind.value,
            "dedupe": message.dedupe,
            "recipient": message.recipient,
            "address": message.address,
            "template": message.template,
            "subject": message.subject,
            "context": json.dumps(context, default=str, sort_keys=True),
            "item_id": message.item_id,
            "escalation_id": message.escalation_id,
            "status": MessageStatus.PENDING.value,
            "attempts": 0,
            "created_at": iso(self.store.now()),
        }
        message_id, created = insert_once(self.store.db, "outbox", row, key=("dedupe",))
        return message_id if created else None

    def due(self, now: datetime, limit: int = 200) -> list[Message]:
        """Pending messages whose time has come, urgent kinds first, then oldest first."""
        rows = self.store.rows(
            "SELECT * FROM outbox WHERE status = 'pending' "
            "AND (next_attempt_at IS NULL OR next_attempt_at <= ?) "
            "ORDER BY CASE kind WHEN 'alert' THEN 0 WHEN 'account' THEN 1 ELSE 2 END, id "
            "LIMIT ?",
            [iso(now), limit],
        )
        return [Message.from_row(r) for r in rows]

    def sent(self, message_id: int) -> None:
        self.store.db.execute(
            "UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1, "
            "last_error = NULL WHERE id = ?",
            [iso(self.store.now()), message_id],
        )

    def failed(self, message_id: int, error: str, retry_at: datetime) -> int:
        """Record a failed send and when to try again; returns the attempts so far."""
        row = self.store.db.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? "
            "WHERE id = ? RETURNING attempts",
            [stored_text(error), iso(retry_at), message_id],
        ).fetchone()
        return row[0] if row else 0

    def get(self, message_id: int) -> Message:
        rows = self.store.rows("SELECT * FROM outbox WHERE id = ?", [message_id])
        return Message.from_row(rows[0])

    def of_kind(self, kind: MessageKind) -> list[Message]:
        rows = self.store.rows("SELECT * FROM outbox WHERE kind = ? ORDER BY id", [kind.value])
        return [Message.from_row(r) for r in rows]

    def sent_to(self, item_id: int, step: str) -> bool:
        """Whether that step of that item has reached anyone yet."""
        return bool(
            self.store.rows(
                "SELECT 1 FROM outbox WHERE item_id = ? AND status = 'sent' AND dedupe LIKE ?",
                [item_id, f"item:{item_id}:{step}:%"],
            )
        )

    def counts(self) -> dict[str, int]:
        """Messages by kind and status, e.g. {'alert sent': 13, 'digest pending': 2}."""
        return {
            f"{r['kind']} {r['status']}": r["n"]
            for r in self.store.rows(
                "SELECT kind, status, count(*) AS n FROM outbox GROUP BY kind, status"
            )
        }

    def stuck(self, min_attempts: int) -> list[Message]:
        """Messages that keep failing: health and the digests name them."""
        rows = self.store.rows(
            "SELECT * FROM outbox WHERE status = ? AND attempts >= ? ORDER BY id",
            [MessageStatus.PENDING.value, min_attempts],
        )
        return [Message.from_row(r) for r in rows]
