"""Instagram business account comments over the same Graph API (facebook-sdk + graph_http).

Reads recent media, then each media's comments with their replies (field expansion), and keeps
those newer than the cursor. Hides with `hide=true`. Instagram will not accept a reply to a
hidden comment, so the audience notice is a new comment on the media from the account."""

from __future__ import annotations

import json
from datetime import timedelta

from bot.core.models import Action, Comment, Delete, Hide, Notice, Unhide
from connectors.base import FetchResult
from connectors.graph_http import GraphConnector, parse_time

FIELDS = "id,text,timestamp,username,hidden,from"
# Comments of the last day are read again on every poll: the Graph API gives no edit time,
# so an edited comment is found by its changed words (the store classifies it again).
RECHECK = timedelta(hours=24)


class InstagramConnector(GraphConnector):
    platform = "instagram"
    supports = frozenset({Hide, Unhide, Delete, Notice})

    def fetch(self, cursor: str | None) -> FetchResult:
        state = json.loads(cursor) if cursor else {}
        newest_seen = parse_time(state["newest"]) if state.get("newest") else None
        oldest_media = self.clock() - self.window
        comments: list[Comment] = []
        problems: list[str] = []
        newest = newest_seen
        media: list[dict] = []
        for page in self._pages(
            f"{self.account_id}/media", {"fields": "id,timestamp,permalink", "limit": 25}
        ):
            recent = [m for m in page if parse_time(m["timestamp"]) >= oldest_media]
            media += recent
            if len(recent) < len(page):
                break  # media come newest first: the rest are older than the window
        for item in media:
            for page in self._pages(
                f"{item['id']}/comments", {"fields": f"{FIELDS},replies{{{FIELDS}}}", "limit": 50}
            ):
                for raw in page:
                    replies = (raw.get("replies") or {}).get("data", [])
                    for entry, parent in [(raw, None)] + [(r, raw.get("id")) for r in replies]:
                        try:
                            comment = self._to_comment(item, entry, parent)
                        except (KeyError, TypeError, ValueError) as exc:
                            problems.append(f"media {item['id']}: comment skipped ({exc!r})")
                            continue
                        if newest_seen and comment.created_at < newest_seen - RECHECK:
                            continue
                        if newest is None or comment.created_at > newest:
                            newest = comment.created_at
                        if (entry.get("from") or {}).get("id") != self.account_id:
                            comments.append(comment)
        comments.sort(key=lambda c: (c.created_at, c.comment_id))
        new_cursor = (
            json.dumps({"newest": newest.strftime("%Y-%m-%dT%H:%M:%S%z")}) if newest else cursor
        )
        return FetchResult(comments, new_cursor, problems=problems)

    def _to_comment(self, media: dict, raw: dict, parent: str | None) -> Comment:
        author = raw.get("from") or {}
        return Comment(
            platform=self.platform,
            account=self.account_id,
            post_id=media["id"],
            comment_id=str(raw["id"]),
            text=raw.get("text") or "",
            created_at=parse_time(raw["timestamp"]),
            author_id=str(author.get("id", "")),
            author_handle=str(raw.get("username") or author.get("username", "")),
            parent_id=parent,
            permalink=media.get("permalink", ""),
        )

    def _apply(self, action: Action) -> str:
        path = f"{self.graph.version}/{action.comment_id}"
        if isinstance(action, Hide | Unhide):
            hide = "true" if isinstance(action, Hide) else "false"
            self._call(lambda: self.graph.request(path, post_args={"hide": hide}))
            return action.comment_id
        if isinstance(action, Delete):
            self._call(lambda: self.graph.delete_object(action.comment_id))
            return action.comment_id
        result = self._call(
            lambda: self.graph.request(
                f"{self.graph.version}/{action.post_id}/comments",
                post_args={"message": action.text},
            )
        )
        return str(result["id"])

    def already_applied(self, action: Action) -> bool | None:
        if isinstance(action, Hide | Unhide):
            state = self._call(
                lambda: self.graph.request(
                    f"{self.graph.version}/{action.comment_id}", {"fields": "hidden"}
                )
            )
            return bool(state.get("hidden")) == isinstance(action, Hide)
        return None
