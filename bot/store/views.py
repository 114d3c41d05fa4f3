"""Read-only views for the faces (the demo summary, health, listings): named queries, so no
face writes SQL."""

from __future__ import annotations

import json
from collections import Counter


class Views:
    def __init__(self, store):
        self.store = store

    def comments_with_decisions(self) -> list[dict]:
        rows = self.store.rows(
            "SELECT c.comment_id, c.post_id, c.author_handle, c.text, c.status, d.action, "
            "d.categories, d.reasons, d.mode FROM comments c LEFT JOIN decisions d "
            "ON d.id = c.decision_id ORDER BY c.created_at, c.comment_id"
        )
        for r in rows:
            r["categories"] = json.loads(r["categories"] or "[]")
            r["reasons"] = json.loads(r["reasons"] or "[]")
        return rows

    def notices_posted(self) -> list[dict]:
        return self.store.rows(
            "SELECT n.post_id, n.template, a.platform_ref FROM notices n "
            "JOIN actions a ON a.id = n.action_id ORDER BY n.id"
        )

    def action_counts(self) -> Counter:
        return Counter(
            f"{r['kind']} {r['status']}"
            for r in self.store.rows("SELECT kind, status FROM actions")
        )

    def accounts(self) -> dict[str, dict]:
        return {r["key"]: r for r in self.store.rows("SELECT * FROM accounts")}

    def unhealthy_accounts(self) -> int:
        return self.store.rows("SELECT count(*) AS n FROM accounts WHERE health != 'ok'")[0]["n"]
