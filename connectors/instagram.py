"""Instagram business account comments over the same Graph API (facebook-sdk + graph_http).

Reads recent media, then each media's comments with their replies (field expansion, following
`replies.paging` when a thread has more than one page), and keeps those newer than the cursor.
Hides with `hide=true`. Instagram will not accept a reply to a hidden comment, so the audience
notice is a new comment on the media from the account.

The account's own comments (its notices) are skipped by `username`: the Graph API gives
`from.id` as an Instagram-scoped id, never the IG user id, so ids cannot be compared. The ids
of notices this process posted are remembered too, as a second net."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import ClassVar

from bot.core.models import Action, Ban, Comment, Delete, Hide, Notice, Unhide
from connectors.base import FetchResult
from connectors.graph_http import GraphConnector, parse_time

FIELDS = "id,text,timestamp,username,hidden,from,parent_id"
# Comments of the last day are read again on every poll: the Graph API gives no edit time,
# so an edited comment is found by its changed words (the store classifies it again).
RECHECK = timedelta(hours=24)
REMEMBERED_NOTICES = 1000


class InstagramConnector(GraphConnector):
    platform = "instagram"
    supports = frozenset({Hide, Unhide, Delete, Notice})
    unsupported_why: ClassVar[dict[type[Action], str]] = {
        Ban: "the Instagram Graph API has no way to block or restrict an account; "
        "do it in the Instagram app"
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._username: str | None = None
        self._posted: dict[str, None] = {}  # ids of notices we posted (an ordered, bounded set)

    def own_username(self) -> str:
        """The account's username, asked once (`GET /{ig-user-id}?fields=username`)."""
        if self._username is None:
            me = self._call(
                lambda: self.graph.request(
                    f"{self.graph.version}/{self.account_id}", {"fields": "username"}
                )
            )
            self._username = str(me.get("username") or "").lower()
        return self._username

    def is_own(self, raw: dict) -> bool:
        """A comment the account itself wrote (a notice), in a read or a webhook delivery."""
        author = raw.get("from") or {}
        username = str(raw.get("username") or author.get("username") or "").lower()
        return (
            str(raw.get("id")) in self._posted
            or author.get("id") == self.account_id
            or bool(username and username == self.own_username())
        )

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
                    entries = [(raw, None)] + [(r, raw.get("id")) for r in self._replies(raw)]
                    for entry, parent in entries:
                        try:
                            comment = self._to_comment(item, entry, parent)
                        except (KeyError, TypeError, ValueError) as exc:
                            problems.append(f"media {item['id']}: comment skipped ({exc!r})")
                            continue
                        if newest_seen and comment.created_at < newest_seen - RECHECK:
                            continue
                        if newest is None or comment.created_at > newest:
                            newest = comment.created_at
                        if not self.is_own(entry):
                            comments.append(comment)
        comments.sort(key=lambda c: (c.created_at, c.comment_id))
        new_cursor = (
            json.dumps({"newest": newest.strftime("%Y-%m-%dT%H:%M:%S%z")}) if newest else cursor
        )
        return FetchResult(comments, new_cursor, problems=problems)

    def _replies(self, raw: dict) -> list[dict]:
        """The replies expanded with the comment, then any further pages of them."""
        replies = raw.get("replies") or {}
        found = list(replies.get("data", []))
        paging = replies.get("paging") or {}
        after = (paging.get("cursors") or {}).get("after")
        if after and paging.get("next"):
            for page in self._pages(
                f"{raw['id']}/replies", {"fields": FIELDS, "limit": 50, "after": after}
            ):
                found += page
        return found

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
        assert isinstance(action, Notice)
        result = self._call(
            lambda: self.graph.request(
                f"{self.graph.version}/{action.post_id}/comments",
                post_args={"message": action.text},
            )
        )
        ref = str(result["id"])
        self._posted[ref] = None
        while len(self._posted) > REMEMBERED_NOTICES:
            del self._posted[next(iter(self._posted))]
        return ref

    def already_applied(self, action: Action) -> bool | None:
        if isinstance(action, Hide | Unhide):
            state = self._call(
                lambda: self.graph.request(
                    f"{self.graph.version}/{action.comment_id}", {"fields": "hidden"}
                )
            )
            return bool(state.get("hidden")) == isinstance(action, Hide)
        return None
