"""X (Twitter) replies and mentions through tweepy's v2 Client.

tweepy hard-codes its host and sends no timeout; `XSession` sends to the account's base URL
with a timeout. `wait_on_rate_limit` stays False: with no reset header tweepy would retry at
once, recursively. modbot handles `TooManyRequests` itself (the reset header, else a fixed
backoff), keeping the cursor. X lets no one delete another user's post, so this connector
does not support Delete (the pipeline hides and flags instead); it can hide replies only in
conversations the account started, and says so when asked to hide anything else. The token is
an OAuth 2.0 user-context token with `tweet.read`, `users.read`, `tweet.write` and
`tweet.moderate.write`."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import requests
import tweepy

from bot.core.errors import (
    AuthExpired,
    CommentGone,
    ConnectorError,
    PermissionMissing,
    RateLimited,
    TransientError,
    Unsupported,
)
from bot.core.models import Action, Comment, Hide, Notice, Unhide
from connectors.base import Connector, FetchResult
from connectors.http import BaseUrlSession

X_HOST = "https://api.twitter.com"
TWEET_FIELDS = [
    "author_id",
    "conversation_id",
    "created_at",
    "in_reply_to_user_id",
    "referenced_tweets",
    "attachments",
]
DEFAULT_BACKOFF = 15 * 60  # a 429 without a reset header (or the monthly cap): wait 15 min
MAX_PAGES = 20


class XSession(BaseUrlSession):
    """tweepy's fixed host sent to `base_url`, with a timeout."""

    def __init__(self, base_url: str = X_HOST, timeout: float = 20):
        super().__init__(X_HOST, base_url, timeout)


class XConnector(Connector):
    platform = "x"
    supports = frozenset({Hide, Unhide, Notice})

    def __init__(
        self,
        user_id: str,
        token: str,
        session: XSession | None = None,
        window_days: int = 7,
        clock=None,
    ):
        super().__init__(user_id)
        self.client = tweepy.Client(bearer_token=token, wait_on_rate_limit=False)
        self.client.session = session or XSession()
        self.window = timedelta(days=min(window_days, 7))  # recent search covers 7 days
        self.clock = clock or (lambda: datetime.now(UTC))

    def _call(self, fn):
        where = {"platform": self.platform, "account": self.account_id}
        try:
            return fn()
        except tweepy.TooManyRequests as exc:
            wait = (exc.reset_time - time.time()) if exc.reset_time else DEFAULT_BACKOFF
            raise RateLimited(
                "X rate limit or usage cap reached", retry_after=max(wait, 60), **where
            ) from None
        except tweepy.Unauthorized:
            raise AuthExpired("X token rejected (expired or revoked)", **where) from None
        except tweepy.Forbidden as exc:
            raise PermissionMissing(
                f"X refused: {exc}", permission="tweet.moderate.write", **where
            ) from None
        except tweepy.NotFound:
            raise CommentGone("the post no longer exists on X", **where) from None
        except tweepy.TwitterServerError as exc:
            raise TransientError(f"X server error: {exc}", **where) from None
        except tweepy.HTTPException as exc:
            raise ConnectorError(f"X error: {exc}", **where) from None
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
        state = json.loads(cursor) if cursor else {}
        since_id = state.get("since_id")
        start = self.clock() - self.window + timedelta(minutes=1)
        common = {
            "tweet_fields": TWEET_FIELDS,
            "expansions": ["author_id"],
            "user_fields": ["username"],
            "max_results": 100,
        }
        window = {"since_id": since_id} if since_id else {"start_time": start}
        own = [
            t
            for page in self._paged(
                self.client.get_users_tweets,
                "pagination_token",
                id=self.account_id,
                start_time=start,
                tweet_fields=["conversation_id", "created_at"],
                max_results=100,
            )
            for t in (page.data or [])
        ]
        comments: dict[str, Comment] = {}
        newest = int(since_id) if since_id else 0
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
        for page in pages:
            users = {str(u.id): u.username for u in (page.includes or {}).get("users", [])}
            for tweet in page.data or []:
                newest = max(newest, int(tweet.id))
                if str(tweet.author_id) == self.account_id:
                    continue
                comments[str(tweet.id)] = self._to_comment(tweet, users)
        ordered = sorted(comments.values(), key=lambda c: (c.created_at, c.comment_id))
        new_cursor = json.dumps({"since_id": str(newest)}) if newest else cursor
        return FetchResult(ordered, new_cursor)

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
                self._call(lambda: fn(action.comment_id, user_auth=False))
            except PermissionMissing as exc:
                raise Unsupported(
                    self.name,
                    type(action).__name__,
                    f"X lets an account hide replies only in conversations it started ({exc})",
                    platform=self.platform,
                    account=self.account_id,
                ) from None
            return action.comment_id
        response = self._call(
            lambda: self.client.create_tweet(
                text=action.text, in_reply_to_tweet_id=action.post_id, user_auth=False
            )
        )
        return str(response.data["id"])


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
