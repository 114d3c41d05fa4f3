"""X (Twitter) replies and mentions through tweepy's v2 Client.

tweepy hard-codes its host and sends no timeout; `XSession` sends to the account's base URL
with a timeout. `wait_on_rate_limit` stays False: with no reset header tweepy would retry at
once, recursively. modbot handles `TooManyRequests` itself (the reset header, else a fixed
backoff), keeping the cursor; every X error is mapped once, in x_errors. X lets no one delete
another user's post, so this connector does not support Delete (the pipeline hides and flags
instead); it can hide replies only in conversations the account started, and says so when
asked to hide anything else. Blocking (Ban) exists only on X's Enterprise tier. The token is
an OAuth 2.0 user-context token with `tweet.read`, `users.read`, `tweet.write` and
`tweet.moderate.write` (and `block.write` for bans)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import requests
import tweepy

from bot.core.errors import PermissionMissing, RateLimited, TransientError, Unsupported
from bot.core.models import Action, Ban, Comment, Delete, Hide, Notice, Unhide
from connectors import x_errors
from connectors.base import Connector, FetchResult
from connectors.http import BaseUrlSession
from connectors.x_errors import CursorTooOld

X_HOST = "https://api.twitter.com"
TWEET_FIELDS = [
    "author_id",
    "conversation_id",
    "created_at",
    "in_reply_to_user_id",
    "referenced_tweets",
    "attachments",
]
MAX_PAGES = 20
MIN_WAIT = 60.0  # never retry a 429 sooner than this
SNOWFLAKE_EPOCH_MS = 1288834974657  # X ids carry milliseconds since this moment, shifted by 22
# Recent search refuses a since_id older than 7 days; switch to start_time a little before.
SINCE_ID_MAX_AGE = timedelta(days=6.9)
SEARCH_REACH = timedelta(days=7)
OVERLAP = timedelta(minutes=1)  # re-read a minute when reading by time (reads de-duplicate daily)


def snowflake_time(tweet_id: str | int) -> datetime:
    """When an X id was made: ids encode their creation time."""
    ms = (int(tweet_id) >> 22) + SNOWFLAKE_EPOCH_MS
    return datetime.fromtimestamp(ms / 1000, UTC)


def snowflake_for(moment: datetime, sequence: int = 0) -> str:
    """An id as X would make it at `moment` (tests and fixtures)."""
    ms = int(moment.timestamp() * 1000) - SNOWFLAKE_EPOCH_MS
    return str((ms << 22) + sequence)


class XSession(BaseUrlSession):
    """tweepy's fixed host sent to `base_url`, with a timeout."""

    def __init__(self, base_url: str = X_HOST, timeout: float = 20):
        super().__init__(X_HOST, base_url, timeout)


class XConnector(Connector):
    platform = "x"
    supports = frozenset({Hide, Unhide, Notice, Ban})
    unsupported_why: ClassVar[dict[type[Action], str]] = {
        Delete: "X lets no one delete another user's post (hide it instead)"
    }

    def __init__(
        self,
        user_id: str,
        token: str,
        session: XSession | None = None,
        window_days: int = 7,
        clock=None,
    ):
        super().__init__(user_id)
        self.own_conversations: set[str] = set()  # the school's own posts seen on this run
        self.client = tweepy.Client(bearer_token=token, wait_on_rate_limit=False)
        self.client.session = session or XSession()
        self.window = timedelta(days=min(window_days, 7))  # recent search covers 7 days
        self.clock = clock or (lambda: datetime.now(UTC))

    def _call(self, fn, permission: str = "tweet.read"):
        """Run one X API call; every failure through the one table in x_errors."""
        where = {"platform": self.platform, "account": self.account_id}
        try:
            return fn()
        except tweepy.HTTPException as exc:
            rule = x_errors.rule_for(exc)
            message = f"{rule.meaning} ({exc})"
            if rule.error is RateLimited:
                reset = getattr(exc, "reset_time", None)
                wait = reset - self.clock().timestamp() if reset else rule.wait
                raise RateLimited(message, retry_after=max(wait or 0, MIN_WAIT), **where) from None
            if rule.error is PermissionMissing:
                raise PermissionMissing(message, permission=permission, **where) from None
            raise rule.error(message, **where) from None
        except requests.RequestException as exc:
            raise TransientError(f"network: {type(exc).__name__}", **where) from None
        except ValueError as exc:  # truncated or malformed JSON
            raise TransientError(f"malformed reply from X: {exc}", **where) from None

    def _paged(self, fn, token_param: str, **params):
        token = None
        for _ in range(MAX_PAGES):
            response = self._call(lambda t=token: fn(**params, **({token_param: t} if t else {})))
            yield response
            token = (response.meta or {}).get("next_token")
            if not token:
                return

    def fetch(self, cursor: str | None) -> FetchResult:
        """Replies to the account's recent posts and its mentions, newer than the cursor.

        The cursor holds the newest id seen and when modbot last read. Recent search refuses a
        `since_id` older than 7 days, so a quiet account (no new replies for a week) is read
        from the time of the last read instead, and never stops being watched."""
        state = json.loads(cursor) if cursor else {}
        since_id = state.get("since_id")
        now = self.clock()
        reach = now - self.window + OVERLAP  # the oldest moment recent search will accept
        problems: list[str] = []
        read_to = datetime.fromisoformat(state["read_to"]) if state.get("read_to") else None
        last = read_to or (snowflake_time(since_id) if since_id else reach)
        if since_id and now - snowflake_time(since_id) <= SINCE_ID_MAX_AGE:
            window: dict = {"since_id": since_id}
        elif since_id or read_to:
            if read_to and read_to < reach:
                problems.append(
                    f"modbot last read this X account at {read_to:%Y-%m-%d %H:%M} UTC, more "
                    "than 7 days ago; replies older than 7 days are out of reach of X's "
                    "recent search and were not checked"
                )
            window = {"start_time": max(reach, last - OVERLAP)}
        else:
            window = {"start_time": reach}
        try:
            pages = self._read(reach, window)
        except CursorTooOld:  # X's clock and ours disagree about the 7 days: read by time
            window = {"start_time": max(reach, last - OVERLAP)}
            pages = self._read(reach, window)
        comments: dict[str, Comment] = {}
        newest = int(since_id) if since_id else 0
        for page in pages:
            users = {str(u.id): u.username for u in (page.includes or {}).get("users", [])}
            for tweet in page.data or []:
                newest = max(newest, int(tweet.id))
                if str(tweet.author_id) == self.account_id:
                    continue
                comments[str(tweet.id)] = self._to_comment(tweet, users)
        ordered = sorted(comments.values(), key=lambda c: (c.created_at, c.comment_id))
        new_state = {"since_id": str(newest) if newest else None, "read_to": now.isoformat()}
        return FetchResult(ordered, json.dumps(new_state), problems=problems)

    def _read(self, reach: datetime, window: dict) -> list:
        common = {
            "tweet_fields": TWEET_FIELDS,
            "expansions": ["author_id"],
            "user_fields": ["username"],
            "max_results": 100,
        }
        own = [
            t
            for page in self._paged(
                self.client.get_users_tweets,
                "pagination_token",
                id=self.account_id,
                start_time=reach,
                tweet_fields=["conversation_id", "created_at"],
                max_results=100,
            )
            for t in (page.data or [])
        ]
        self.own_conversations.update(str(t.conversation_id or t.id) for t in own)
        pages = []
        for chunk in _query_chunks([str(t.conversation_id or t.id) for t in own]):
            pages += list(
                self._paged(
                    self.client.search_recent_tweets, "next_token", query=chunk, **common, **window
                )
            )
        pages += list(
            self._paged(
                self.client.get_users_mentions,
                "pagination_token",
                id=self.account_id,
                **common,
                **window,
            )
        )
        return pages

    def notice_allowed(self, comment: Comment) -> bool:
        """Only under the school's own posts: a reply to a mention would land in the author's
        thread. After a restart, until the next read, none (the safe side)."""
        return comment.post_id in self.own_conversations

    def _to_comment(self, tweet, users: dict[str, str]) -> Comment:
        replied = [r.id for r in (tweet.referenced_tweets or []) if r.type == "replied_to"]
        return Comment(
            platform=self.platform,
            account=self.account_id,
            post_id=str(tweet.conversation_id or tweet.id),
            comment_id=str(tweet.id),
            text=tweet.text or "",
            created_at=tweet.created_at or self.clock(),
            author_id=str(tweet.author_id),
            author_handle=users.get(str(tweet.author_id), ""),
            parent_id=str(replied[0]) if replied else None,
            permalink=f"https://x.com/i/status/{tweet.id}",
            has_attachment=bool(tweet.attachments),
        )

    def _apply(self, action: Action) -> str:
        if isinstance(action, Hide | Unhide):
            fn = self.client.hide_reply if isinstance(action, Hide) else self.client.unhide_reply
            try:
                self._call(
                    lambda: fn(action.comment_id, user_auth=False),
                    permission="tweet.moderate.write",
                )
            except PermissionMissing as exc:
                if "do not own" not in str(exc):
                    raise  # a missing scope: the account's health says so
                raise Unsupported(
                    self.name,
                    type(action).__name__,
                    f"X lets an account hide replies only in conversations it started ({exc})",
                    platform=self.platform,
                    account=self.account_id,
                ) from None
            return action.comment_id
        if isinstance(action, Ban):
            return self._block(action)
        assert isinstance(action, Notice)
        response = self._call(
            lambda: self.client.create_tweet(
                text=action.text, in_reply_to_tweet_id=action.post_id, user_auth=False
            ),
            permission="tweet.write",
        )
        return str(response.data["id"])

    def _block(self, action: Ban) -> str:
        """`POST /2/users/:id/blocking`. X offers it only on the Enterprise tier (scope
        `block.write`); on other tiers X answers 403 and the person is told so."""
        response = self._call(
            lambda: self.client.request(
                "POST",
                f"/2/users/{self.account_id}/blocking",
                json={"target_user_id": action.author_id},
                user_auth=False,
            ),
            permission="block.write (X API Enterprise tier)",
        )
        body = response.json()
        if not (body.get("data") or {}).get("blocking"):
            raise TransientError(
                f"X did not confirm the block of user {action.author_id}",
                platform=self.platform,
                account=self.account_id,
            )
        return action.author_id


def _query_chunks(conversation_ids: list[str], limit: int = 512) -> list[str]:
    """`conversation_id:A OR conversation_id:B ...` within X's query length, so a school's
    handful of recent posts costs one search, not one each."""
    chunks, current = [], ""
    for cid in conversation_ids:
        term = f"conversation_id:{cid}"
        candidate = f"{current} OR {term}" if current else term
        if len(candidate) > limit and current:
            chunks.append(current)
            candidate = term
        current = candidate
    if current:
        chunks.append(current)
    return chunks
