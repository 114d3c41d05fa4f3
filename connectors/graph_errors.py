"""Every documented Graph API error, mapped once onto modbot's exception tree.

From Meta's "Handling Errors" guide and the rate-limiting overview (November 2026). One table,
read by `graph_http.call` for Facebook Pages and Instagram alike, so a code means the same on a
read and on an action. What each end state means for an account:

- TransientError: retry later with exponential backoff; the cursor and pending actions wait.
- RateLimited: wait `retry_after` (the BUC header's estimate, else the table's default).
- AuthExpired / PermissionMissing: a person must act; the account is marked and people told.
- CommentGone: the comment is gone; nothing to retry.
- ConnectorError: a request modbot got wrong; retried with backoff and reported.
"""

from __future__ import annotations

from bot.core.errors import (
    AuthExpired,
    CommentGone,
    ConnectorError,
    PermissionMissing,
    RateLimited,
    TransientError,
)
from connectors.base import MINUTE, ErrorRule

CODES: dict[int, ErrorRule] = {
    1: ErrorRule(TransientError, "unknown API error, possibly temporary downtime"),
    2: ErrorRule(TransientError, "API service temporarily unavailable"),
    3: ErrorRule(PermissionMissing, "the app lacks the capability or permission for this call"),
    4: ErrorRule(RateLimited, "the app's call limit was reached", 15 * MINUTE),
    10: ErrorRule(PermissionMissing, "a permission was not granted or was removed"),
    17: ErrorRule(RateLimited, "the user's call limit was reached", 15 * MINUTE),
    32: ErrorRule(RateLimited, "the Page's request limit was reached", 15 * MINUTE),
    102: ErrorRule(AuthExpired, "the API session expired or was invalidated"),
    190: ErrorRule(AuthExpired, "the access token expired, was revoked or is invalid"),
    341: ErrorRule(RateLimited, "the application limit was reached", 15 * MINUTE),
    368: ErrorRule(RateLimited, "temporarily blocked by Meta for policy violations", 60 * MINUTE),
    613: ErrorRule(RateLimited, "calls within one hour exceeded the rate limit", 15 * MINUTE),
    80001: ErrorRule(
        RateLimited, "the Page's Business Use Case rate limit was reached", 15 * MINUTE
    ),
    80002: ErrorRule(
        RateLimited, "the Instagram Business Use Case rate limit was reached", 15 * MINUTE
    ),
}
PERMISSION_CODES = range(200, 300)  # "API Permission (multiple values depending on permission)"
PERMISSION_RULE = ErrorRule(PermissionMissing, "a permission was not granted or was removed")

# Subcodes of 190 (and 102), so the administrator is told what actually happened.
AUTH_SUBCODES: dict[int, str] = {
    458: "the app is not installed for the person whose token this is",
    459: "the person must log in at facebook.com to unlock their account (checkpoint)",
    460: "the password was changed, which invalidates the token",
    463: "the token has expired",
    464: "the person's account is not confirmed",
    467: "the token is invalid (logged out, or revoked)",
    492: "invalid session: the person who made the token may have lost their role on the Page",
}
GONE = {(100, 33)}  # the object does not exist (deleted), or cannot be loaded
GONE_RULE = ErrorRule(CommentGone, "the comment no longer exists")
UNKNOWN_TRANSIENT = ErrorRule(TransientError, "a temporary error (is_transient)")
SERVER_ERROR = ErrorRule(TransientError, "a server error")
UNREADABLE = ErrorRule(TransientError, "an unreadable reply (an HTML error page?)")
HTTP_429 = ErrorRule(RateLimited, "too many requests (HTTP 429)", 15 * MINUTE)
OTHER = ErrorRule(ConnectorError, "a request the Graph API refused")


def rule_for(
    code: int | None,
    subcode: int | None = None,
    is_transient: bool = False,
    http_status: int | None = None,
) -> ErrorRule:
    """The one place a Graph API error becomes an end state."""
    if (code, subcode) in GONE:
        return GONE_RULE
    if code in CODES:
        return CODES[code]
    if code in PERMISSION_CODES:
        return PERMISSION_RULE
    if is_transient:
        return UNKNOWN_TRANSIENT
    if http_status == 429:
        return HTTP_429
    if code is None:
        return UNREADABLE
    if http_status is not None and http_status >= 500:
        return SERVER_ERROR
    return OTHER


def describe(rule: ErrorRule, code: int | None, subcode: int | None, message: str) -> str:
    """A sentence for the administrator: the code, what it means, and Meta's own words."""
    why = AUTH_SUBCODES.get(subcode or 0) if rule.error is AuthExpired else None
    numbers = f"{code}/{subcode}" if subcode else str(code)
    return f"Graph API error {numbers}: {why or rule.meaning} ({message})"
