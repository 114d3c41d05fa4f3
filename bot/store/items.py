"""Acknowledgement items: one per decision that needs a person, with its due time, who has it
and whether it was acknowledged or breached. Leave is recorded here too (it decides who)."""

from __future__ import annotations

from datetime import date, datetime

from bot.core.clock import iso
from bot.store.inserts import insert_once
from bot.store.records import Item, ItemStatus


class Items:
    def __init__(self, store):
        self.store = store

    def open(
        self,
        *,
        platform: str,
        comment_id: str,
        decision_id: int,
        kind: str,
        received_at: datetime,
        due_at: datetime,
        rule: str,
        assignee: str,
        backup: str,
    ) -> tuple[int, bool]:
        """Open the decision's item once. Returns (item id, created)."""
        row = {
            "platform": platform,
            "comment_id": comment_id,
            "decision_id": decision_id,
            "kind": kind,
            "received_at": iso(received_at),
            "due_at": iso(due_at),
            "rule": rule,
            "assignee": assignee,
            "backup": backup,
            "status": ItemStatus.OPEN.value,
            "created_at": iso(self.store.now()),
        }
        return insert_once(self.store.db, "items", row, key=("decision_id",))

    def get(self, item_id: int) -> Item | None:
        rows = self.store.rows("SELECT * FROM items WHERE id = ?", [item_id])
        return Item.from_row(rows[0]) if rows else None

    def for_decision(self, decision_id: int) -> Item | None:
        rows = self.store.rows("SELECT * FROM items WHERE decision_id = ?", [decision_id])
        return Item.from_row(rows[0]) if rows else None

    def waiting(self) -> list[Item]:
        """Items nobody has acknowledged yet (open or breached), soonest due first."""
        rows = self.store.rows(
            "SELECT * FROM items WHERE status IN ('open', 'breached') ORDER BY due_at, id"
        )
        return [Item.from_row(r) for r in rows]

    def with_status(self, status: str | None) -> list[Item]:
        if status is None:
            rows = self.store.rows("SELECT * FROM items ORDER BY due_at, id")
        else:
            rows = self.store.rows(
                "SELECT * FROM items WHERE status = ? ORDER BY due_at, id", [status]
            )
        return [Item.from_row(r) for r in rows]

    def mark_breached(self, item_id: int) -> bool:
        """True the first time only."""
        row = self.store.db.execute(
            "UPDATE items SET status = 'breached', breached_at = ? WHERE id = ? "
            "AND status = 'open' RETURNING id",
            [iso(self.store.now()), item_id],
        ).fetchone()
        return row is not None

    def acknowledge(self, item_id: int, by: str) -> bool:
        """True the first time only; an acknowledged item stays acknowledged."""
        row = self.store.db.execute(
            "UPDATE items SET status = ?, acknowledged_by = ?, acknowledged_at = ? "
            "WHERE id = ? AND acknowledged_at IS NULL RETURNING id",
            [ItemStatus.ACKNOWLEDGED.value, by, iso(self.store.now()), item_id],
        ).fetchone()
        return row is not None

    def counts_by_kind(self) -> dict[str, int]:
        return {
            r["kind"]: r["n"]
            for r in self.store.rows("SELECT kind, count(*) AS n FROM items GROUP BY kind")
        }

    # --- leave ----------------------------------------------------------------------------
    def add_leave(self, name: str, start: date, end: date) -> None:
        self.store.db.execute(
            "INSERT INTO leave (name, start, end, added_at) VALUES (?, ?, ?, ?)",
            [name, start.isoformat(), end.isoformat(), iso(self.store.now())],
        )

    def on_recorded_leave(self, name: str, day: date) -> bool:
        return bool(
            self.store.rows(
                "SELECT 1 FROM leave WHERE name = ? AND start <= ? AND end >= ?",
                [name, day.isoformat(), day.isoformat()],
            )
        )

    def leave(self) -> list[dict]:
        return self.store.rows("SELECT name, start, end, added_at FROM leave ORDER BY start")
