"""Escalations to the DSL: opened once per decision, with the version of the words that were
escalated, the suggested route and a status history. Nothing here deletes or overwrites
evidence: status changes add to the audit log."""

from __future__ import annotations

import json

from bot.core.clock import iso
from bot.store.inserts import insert_once
from bot.store.records import Escalation, EscalationStatus


class Escalations:
    def __init__(self, store):
        self.store = store

    def open(
        self,
        *,
        platform: str,
        comment_id: str,
        decision_id: int,
        categories: list[str],
        severity: str,
        urgent: bool,
        route: str,
        route_reason: str,
        route_steps: list[str],
        family_implicated: bool,
        version_id: int | None,
    ) -> tuple[int, bool]:
        """Open the decision's escalation once. Returns (escalation id, created)."""
        now = iso(self.store.now())
        row = {
            "platform": platform,
            "comment_id": comment_id,
            "decision_id": decision_id,
            "categories": json.dumps(categories),
            "severity": severity,
            "status": EscalationStatus.NEW.value,
            "created_at": now,
            "urgent": int(urgent),
            "route": route,
            "route_reason": route_reason,
            "route_steps": json.dumps(route_steps),
            "family_implicated": int(family_implicated),
            "version_id": version_id,
            "updated_at": now,
        }
        return insert_once(self.store.db, "escalations", row, key=("decision_id",))

    def get(self, escalation_id: int) -> Escalation | None:
        rows = self.store.rows("SELECT * FROM escalations WHERE id = ?", [escalation_id])
        return Escalation.from_row(rows[0]) if rows else None

    def for_decision(self, decision_id: int) -> Escalation | None:
        rows = self.store.rows("SELECT * FROM escalations WHERE decision_id = ?", [decision_id])
        return Escalation.from_row(rows[0]) if rows else None

    def all(self) -> list[Escalation]:
        return [
            Escalation.from_row(r)
            for r in self.store.rows("SELECT * FROM escalations ORDER BY id DESC")
        ]

    def set_status(
        self,
        escalation_id: int,
        status: EscalationStatus,
        reference: str | None = None,
        outcome: str | None = None,
    ) -> None:
        self.store.db.execute(
            "UPDATE escalations SET status = ?, updated_at = ?, "
            "reference = coalesce(?, reference), outcome = coalesce(?, outcome) WHERE id = ?",
            [status.value, iso(self.store.now()), reference, outcome, escalation_id],
        )

    def evidence_rows(self, escalation: Escalation) -> dict:
        """Everything the evidence record is made of, read in one place."""
        store = self.store
        comment = store.comment_row(escalation.platform, escalation.comment_id) or {}
        decision = store.rows("SELECT * FROM decisions WHERE id = ?", [escalation.decision_id])[0]
        verdict = store.rows("SELECT * FROM verdicts WHERE id = ?", [decision["verdict_id"]])[0]
        versions = store.rows(
            "SELECT id, version, text, text_sha256, seen_at, purged_at FROM comment_versions "
            "WHERE platform = ? AND comment_id = ? ORDER BY version",
            [escalation.platform, escalation.comment_id],
        )
        history = store.rows(
            "SELECT at, actor, event, detail FROM audit WHERE platform = ? AND comment_id = ? "
            "ORDER BY id",
            [escalation.platform, escalation.comment_id],
        )
        return {
            "comment": comment,
            "decision": decision,
            "verdict": verdict,
            "versions": versions,
            "actions": store.actions_for(escalation.decision_id),
            "history": history,
        }
