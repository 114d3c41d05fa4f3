"""Facebook Page comments through facebook-sdk (with the HTTP layer in graph_http).

Reads the Page's recent posts, then each post's comments with `filter=stream` (so replies are
included), newest first, stopping at what was already seen. The cursor is the newest comment
time seen; comments at that exact second are read again and the store's idempotency drops
them. Acts: hide/unhide (`is_hidden`), delete, and the audience notice as a comment by the
Page on the post. Bans (a person's decision, never modbot's) block the author from the Page."""

from __future__ import annotations

import json
from datetime import timedelta

from bot.core.errors import ConnectorError
from bot.core.models import Action, Ban, Comment, Delete, Hide, Notice, Unhide
from connectors.base import FetchResult
from connectors.graph_http import GraphConnector, parse_time

COMMENT_FIELDS = "id,message,from,created_time,parent,permalink_url,attachment,is_hidden,can_hide"
# Comments of the last day are read again on every poll: the Graph API gives no edit time,
# so an edited comment is found by its changed words (the store classifies it again).
RECHECK = timedelta(hours=24)


class FacebookConnector(GraphConnector):
    platform = "facebook"
    supports = frozenset({Hide, Unhide, Delete, Notice, Ban})

    def fetch(self, cursor: str | None) -> FetchResult:
        state = json.loads(cursor) if cursor else {}
        newest_seen = parse_time(state["newest"]) if state.get("newest") else None
        since = self.clock() - self.window
        comments: list[Comment] = []
        problems: list[str] = []
        newest = newest_seen
        posts = [
            p
            for page in self._pages(
                f"{self.account_id}/published_posts",
                {"fields": "id,created_time", "since": int(since.timestamp()), "limit": 25},
            )
            for p in page
        ]
        for post in posts:
            done = False
            for page in self._pages(
                f"{post['id']}/comments",
                {
                    "filter": "stream",
                    "order": "reverse_chronological",
                    "fields": COMMENT_FIELDS,
                    "limit": 100,
                },
            ):
                for raw in page:
                    try:
                        comment = self._to_comment(post["id"], raw)
                    except (KeyError, TypeError, ValueError) as exc:
                        problems.append(f"post {post['id']}: comment skipped ({exc!r})")
                        continue
                    if newest_seen and comment.created_at < newest_seen - RECHECK:
                        done = True
                        break
                    if newest is None or comment.created_at > newest:
                        newest = comment.created_at
                    if raw.get("from", {}).get("id") != self.account_id:
                        comments.append(comment)
                if done:
                    break
        comments.sort(key=lambda c: (c.created_at, c.comment_id))
        new_cursor = (
            json.dumps({"newest": newest.strftime("%Y-%m-%dT%H:%M:%S%z")}) if newest else cursor
        )
        return FetchResult(comments, new_cursor, problems=problems)

    def _to_comment(self, post_id: str, raw: dict) -> Comment:
        author = raw.get("from") or {}
        return Comment(
            platform=self.platform,
            account=self.account_id,
            post_id=post_id,
            comment_id=str(raw["id"]),
            text=raw.get("message") or "",
            created_at=parse_time(raw["created_time"]),
            author_id=str(author.get("id", "")),
            author_handle=str(author.get("name", "")),
            parent_id=(raw.get("parent") or {}).get("id"),
            permalink=raw.get("permalink_url", ""),
            has_attachment="attachment" in raw,
        )

    def _apply(self, action: Action) -> str:
        path = f"{self.graph.version}/{action.comment_id}"
        if isinstance(action, Hide | Unhide):
            hidden = "true" if isinstance(action, Hide) else "false"
            self._call(lambda: self.graph.request(path, post_args={"is_hidden": hidden}))
            return action.comment_id
        if isinstance(action, Delete):
            self._call(lambda: self.graph.delete_object(action.comment_id))
            return action.comment_id
        if isinstance(action, Ban):
            return self._block(action)
        assert isinstance(action, Notice)
        result = self._call(
            lambda: self.graph.put_object(action.post_id, "comments", message=action.text)
        )
        return str(result["id"])

    def _block(self, action: Ban) -> str:
        """`POST /{page-id}/blocked` with `user`; the reply maps each id to whether it was
        blocked."""
        result = self._call(
            lambda: self.graph.request(
                f"{self.graph.version}/{self.account_id}/blocked",
                post_args={"user": action.author_id},
            )
        )
        if result.get(action.author_id) is not True:
            raise ConnectorError(
                f"Facebook did not block user {action.author_id} (reply: {result})",
                platform=self.platform,
                account=self.account_id,
            )
        return action.author_id

    def already_applied(self, action: Action) -> bool | None:
        if isinstance(action, Hide | Unhide):
            state = self._call(
                lambda: self.graph.request(
                    f"{self.graph.version}/{action.comment_id}", {"fields": "is_hidden"}
                )
            )
            return bool(state.get("is_hidden")) == isinstance(action, Hide)
        return None
