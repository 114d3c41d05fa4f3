"""The read queries behind the monthly report and the dashboard's senior-leader figures.

Every query takes a period as stored UTC ISO bounds `[lo, hi)` and returns plain rows of
references, times, categories and rule ids. None of them returns a comment's words, an author's
handle or id, or a post's text: SLT and governors see aggregates only. The one query that must
read words (whether a comment names an identity group) reads them here and returns only the
groups named."""

from __future__ import annotations

import json
from collections.abc import Callable

DecisionRow = dict  # see `decisions` for the keys


class Reporting:
    def __init__(self, store):
        self.store = store

    # --- what was decided -----------------------------------------------------------------
    def decisions(self, lo: str, hi: str) -> list[DecisionRow]:
        """Every decision made in the period, oldest first, with the account, the rules that
        fired, what happened on the platform, and the item and escalation it opened. Keys: id,
        platform, account, post_id, action, categories (list), reasons (list), severity,
        mode, hide, created_at, comment_created_at, rules (list of rule ids), model,
        hide_status, unhide_status, item_id, item_kind, item_status, item_due_at,
        item_acknowledged_at, escalation_id."""
        rows = self.store.rows(
            "SELECT d.id, d.platform, c.account, c.post_id, d.action, d.categories, d.reasons, "
            "d.severity, d.mode, d.hide, d.created_at, c.created_at AS comment_created_at, "
            "v.hits, v.model, h.status AS hide_status, u.status AS unhide_status, "
            "i.id AS item_id, i.kind AS item_kind, i.status AS item_status, "
            "i.due_at AS item_due_at, i.acknowledged_at AS item_acknowledged_at, "
            "e.id AS escalation_id "
            "FROM decisions d "
            "JOIN comments c ON c.platform = d.platform AND c.comment_id = d.comment_id "
            "LEFT JOIN verdicts v ON v.id = d.verdict_id "
            "LEFT JOIN actions h ON h.decision_id = d.id AND h.kind = 'hide' "
            "LEFT JOIN actions u ON u.decision_id = d.id AND u.kind = 'unhide' "
            "LEFT JOIN items i ON i.decision_id = d.id "
            "LEFT JOIN escalations e ON e.decision_id = d.id "
            "WHERE d.created_at >= ? AND d.created_at < ? ORDER BY d.created_at, d.id",
            [lo, hi],
        )
        for r in rows:
            r["categories"] = json.loads(r["categories"] or "[]")
            r["reasons"] = json.loads(r["reasons"] or "[]")
            r["rules"] = [h["rule"] for h in json.loads(r.pop("hits") or "[]")]
        return rows

    def latest_decision_ids(self, lo: str, hi: str) -> set[int]:
        """Each comment's last decision in the period (an edited comment is decided again:
        it counts once, as what was decided last)."""
        return {
            r["id"]
            for r in self.store.rows(
                "SELECT max(id) AS id FROM decisions WHERE created_at >= ? AND created_at < ? "
                "GROUP BY platform, comment_id",
                [lo, hi],
            )
        }

    # --- what was done on the platforms ---------------------------------------------------
    def actions(self, kind: str, lo: str, hi: str) -> list[dict]:
        """Platform actions of `kind` finished in the period (done, shadow, paused...), with
        the comment's own time, for time-to-hide, and the decision's rules and reasons, for
        restores by rule and layer. Keys: decision_id, platform, comment_id (the platform's
        reference, for counting, never shown), account, status, completed_at,
        comment_created_at, rules, reasons, model."""
        rows = self.store.rows(
            "SELECT a.decision_id, a.platform, a.comment_id, c.account, a.status, a.completed_at, "
            "c.created_at AS comment_created_at, v.hits, v.model, d.reasons "
            "FROM actions a "
            "JOIN comments c ON c.platform = a.platform AND c.comment_id = a.comment_id "
            "LEFT JOIN decisions d ON d.id = a.decision_id "
            "LEFT JOIN verdicts v ON v.id = d.verdict_id "
            "WHERE a.kind = ? AND a.completed_at >= ? AND a.completed_at < ? "
            "ORDER BY a.completed_at, a.id",
            [kind, lo, hi],
        )
        for r in rows:
            r["rules"] = [h["rule"] for h in json.loads(r.pop("hits") or "[]")]
            r["reasons"] = json.loads(r["reasons"] or "[]")
        return rows

    def restores(self, lo: str, hi: str) -> tuple[list[dict], bool]:
        """Hidden comments put back on the platform in the period: the restores people made
        on the dashboard (migration 5's `feedback` table: labelled false positives) and any
        other unhide carried out. Returns (rows, whether the feedback table exists)."""
        restored = {r["decision_id"]: r for r in self.actions("unhide", lo, hi)}
        has_feedback = self._table_has("feedback", {"decision_id", "restored_at", "status"})
        if has_feedback:
            for r in self.store.rows(
                "SELECT f.decision_id, d.platform, d.comment_id, c.account, "
                "f.restored_at AS completed_at, v.hits, v.model, d.reasons FROM feedback f "
                "JOIN decisions d ON d.id = f.decision_id "
                "JOIN comments c ON c.platform = d.platform AND c.comment_id = d.comment_id "
                "LEFT JOIN verdicts v ON v.id = d.verdict_id "
                "WHERE f.status = 'restore' AND f.restored_at >= ? AND f.restored_at < ?",
                [lo, hi],
            ):
                r["rules"] = [h["rule"] for h in json.loads(r.pop("hits") or "[]")]
                r["reasons"] = json.loads(r["reasons"] or "[]")
                restored.setdefault(r["decision_id"], {**r, "status": "done"})
        return list(restored.values()), has_feedback

    # --- the 24-hour rule and the DSL's clock ---------------------------------------------
    def items_due(self, lo: str, hi: str) -> list[dict]:
        """Acknowledgement items whose deadline fell in the period: by the end of the period
        each one was acknowledged in time, late, or not at all."""
        return self.store.rows(
            "SELECT id, kind, received_at, due_at, status, assignee, backup, acknowledged_by, "
            "acknowledged_at, breached_at, created_at FROM items "
            "WHERE due_at >= ? AND due_at < ? ORDER BY due_at, id",
            [lo, hi],
        )

    def leave(self, lo: str, hi: str) -> list[dict]:
        """Leave recorded with `modbot leave` that overlaps the period (dates, school time)."""
        return self.store.rows(
            "SELECT name, start, end FROM leave WHERE start < ? AND end >= ? ORDER BY start",
            [hi[:10], lo[:10]],
        )

    def escalations(self, lo: str, hi: str) -> list[dict]:
        """Escalations opened in the period: reference, categories, route, status, urgency and
        when the DSL acknowledged it (its item, else the first acknowledgement in the audit
        log). Never the words, the author or an agency's reference."""
        rows = self.store.rows(
            "SELECT e.id, e.categories, e.route, e.status, e.urgent, e.created_at, "
            "i.due_at, coalesce(i.acknowledged_at, (SELECT min(a.at) FROM audit a "
            "WHERE a.event = 'escalation.acknowledged' "
            "AND json_extract(a.detail, '$.escalation') = e.id)) AS acknowledged_at "
            "FROM escalations e LEFT JOIN items i ON i.decision_id = e.decision_id "
            "WHERE e.created_at >= ? AND e.created_at < ? ORDER BY e.created_at, e.id",
            [lo, hi],
        )
        for r in rows:
            r["categories"] = json.loads(r["categories"] or "[]")
            r["urgent"] = bool(r["urgent"])
        return rows

    # --- watching ---------------------------------------------------------------------------
    def watch_events(self, hi: str) -> list[dict]:
        """Every account-health and circuit-breaker event before the end of the period (the
        ones before its start say what state the period began in). Keys: at, event, account
        (the account's key, e.g. facebook:123)."""
        return self.store.rows(
            "SELECT at, event, json_extract(detail, '$.account') AS account FROM audit "
            "WHERE (event LIKE 'account.%' OR event LIKE 'breaker.%') AND at < ? "
            "ORDER BY at, id",
            [hi],
        )

    def first_read_after(self, platform: str, account_id: str, after: str, hi: str) -> str | None:
        """When a comment was next read from the account after `after`: proof that reading
        worked again (used when no recovery event was recorded)."""
        rows = self.store.rows(
            "SELECT min(first_seen_at) AS at FROM comments WHERE platform = ? AND account = ? "
            "AND first_seen_at > ? AND first_seen_at < ?",
            [platform, account_id, after, hi],
        )
        return rows[0]["at"] if rows else None

    def account_states(self) -> dict[str, dict]:
        """Each account's health now and when it last worked."""
        return {
            r["key"]: r
            for r in self.store.rows(
                "SELECT key, platform, account_id, display_name, health, last_ok_at FROM accounts"
            )
        }

    # --- fairness ---------------------------------------------------------------------------
    def identity_groups(
        self, decision_ids: list[int], detect: Callable[[str], tuple[str, ...]]
    ) -> dict[int, tuple[str, ...] | None]:
        """For each decision, the identity groups its comment names, found by `detect` on the
        words; None where the words are no longer kept (allowed comments' words are dropped
        unless `policy.store_allowed_text`, and every comment's after the retention period).
        The words never leave this method."""
        out: dict[int, tuple[str, ...] | None] = {}
        for start in range(0, len(decision_ids), 500):
            chunk = decision_ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for r in self.store.rows(
                f"SELECT d.id, c.text FROM decisions d JOIN comments c ON c.platform = "
                f"d.platform AND c.comment_id = d.comment_id WHERE d.id IN ({marks})",
                chunk,
            ):
                out[r["id"]] = None if r["text"] is None else detect(r["text"])
        return out

    # --- the scheduled job --------------------------------------------------------------------
    def report_queued(self, month: str) -> bool:
        """Whether the report for `month` (YYYY-MM) is already in the outbox, for anyone."""
        return bool(
            self.store.rows(
                "SELECT 1 FROM outbox WHERE kind = 'report' AND dedupe LIKE ? LIMIT 1",
                [f"report:{month}:%"],
            )
        )

    def _table_has(self, table: str, columns: set[str]) -> bool:
        found = {r["name"] for r in self.store.rows(f"PRAGMA table_info({table})")}
        return columns <= found
