"""Every documented X API v2 error, mapped once onto modbot's exception tree.

From the X API v2 "Response codes and errors" reference and its problem types (November
2026). X answers by HTTP status, with a problem `type` that sometimes says more: a 429 of type
`usage-capped` is the monthly cap, not the 15-minute window; a 400 naming `since_id` means the
stored cursor has aged out of recent search's 7 days. Read by `XConnector._call`."""

from __future__ import annotations

import tweepy

from bot.core.errors import (
    AuthExpired,
    CommentGone,
    ConnectorError,
    PermissionMissing,
    RateLimited,
    TransientError,
)
from connectors.base import MINUTE, ErrorRule


class CursorTooOld(ConnectorError):
    """Recent search refused a `since_id` older than its 7-day window (HTTP 400). The X
    connector recovers by itself (it reads from `start_time`); seen outside, it is a bug."""


STATUS: dict[int, ErrorRule] = {
    400: ErrorRule(ConnectorError, "X refused the request as invalid"),
    401: ErrorRule(AuthExpired, "X rejected the token (expired or revoked)"),
    403: ErrorRule(
        PermissionMissing,
        "X refused: the token lacks a scope, or the app's access tier does not include this",
    ),
    404: ErrorRule(CommentGone, "the post no longer exists on X"),
    429: ErrorRule(RateLimited, "X's rate limit was reached", 15 * MINUTE),
    500: ErrorRule(TransientError, "X server error"),
    502: ErrorRule(TransientError, "X is down or being upgraded"),
    503: ErrorRule(TransientError, "X is over capacity"),
    504: ErrorRule(TransientError, "X's servers timed out"),
}
USAGE_CAPPED = ErrorRule(
    RateLimited, "the app's monthly X usage cap was reached (pay-per-use limit)", 60 * MINUTE
)
CURSOR_TOO_OLD = ErrorRule(CursorTooOld, "since_id is older than recent search's 7 days")
SERVER_ERROR = ErrorRule(TransientError, "X server error")
OTHER = ErrorRule(ConnectorError, "X refused the request")


def rule_for(exc: tweepy.HTTPException) -> ErrorRule:
    """The one place an X API error becomes an end state."""
    status = exc.response.status_code
    problem = _problem_type(exc)
    if status == 429 and problem.endswith("/usage-capped"):
        return USAGE_CAPPED
    if status == 400 and _names_since_id(exc):
        return CURSOR_TOO_OLD
    if status in STATUS:
        return STATUS[status]
    return SERVER_ERROR if status >= 500 else OTHER


def _problem_type(exc: tweepy.HTTPException) -> str:
    try:
        body = exc.response.json()
    except ValueError:
        return ""
    return str(body.get("type", "")) if isinstance(body, dict) else ""


def _names_since_id(exc: tweepy.HTTPException) -> bool:
    for error in exc.api_errors:
        if isinstance(error, dict) and (
            "since_id" in (error.get("parameters") or {}) or "since_id" in str(error.get("message"))
        ):
            return True
    return False
