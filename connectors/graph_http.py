"""The HTTP layer under facebook-sdk (Facebook Pages and Instagram share the Graph API).

facebook-sdk 3.1.0 (2018) hard-codes its host, sends no timeout, drops response headers and
accepts only API versions up to 3.1. This module gives it a `requests.Session` that sends to
the account's base URL, applies timeouts, retries connection failures (nothing was sent, so a
retry cannot act twice), and keeps the platform's usage headers; and it maps every way a call
can fail onto modbot's exception tree."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import facebook
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from bot.core.errors import PermissionMissing, RateLimited, TransientError
from connectors import graph_errors
from connectors.base import Connector
from connectors.http import BaseUrlSession

DEFAULT_VERSION = "v21.0"  # live until January 2027; configurable per account later
T = TypeVar("T")


class GraphSession(BaseUrlSession):
    """facebook-sdk's fixed host sent to `base_url`, with a timeout, connection retries and the
    usage headers kept."""

    def __init__(self, base_url: str = facebook.FACEBOOK_GRAPH_URL, timeout: float = 20):
        super().__init__(facebook.FACEBOOK_GRAPH_URL, base_url, timeout)
        self.usage: dict[str, object] = {}  # the latest value of each usage header seen
        self.last_usage: dict[str, object] = {}  # the usage headers of the last reply only
        self.last_status: int | None = None
        retry = Retry(
            total=3,
            connect=3,
            read=0,
            status=0,
            backoff_factor=0.5,
            allowed_methods=None,
            raise_on_status=False,
        )
        self.mount("https://", HTTPAdapter(max_retries=retry))
        self.mount("http://", HTTPAdapter(max_retries=retry))
        self.hooks["response"].append(self._remember)

    def _remember(self, response: requests.Response, *args, **kwargs) -> None:
        self.last_status = response.status_code
        self.last_usage = {}
        for header in ("X-App-Usage", "X-Business-Use-Case-Usage", "X-Page-Usage"):
            if header in response.headers:
                try:
                    self.last_usage[header] = json.loads(response.headers[header])
                except ValueError:
                    self.last_usage[header] = response.headers[header]
        self.usage.update(self.last_usage)

    def retry_after(self) -> float | None:
        """`estimated_time_to_regain_access` (minutes) from the last reply's
        X-Business-Use-Case-Usage, in seconds; None when it gives none."""
        buc = self.last_usage.get("X-Business-Use-Case-Usage")
        if isinstance(buc, dict):
            waits = [
                entry.get("estimated_time_to_regain_access", 0)
                for entries in buc.values()
                if isinstance(entries, list)
                for entry in entries
                if isinstance(entry, dict)
            ]
            if waits and max(waits) > 0:
                return 60.0 * max(waits)
        return None


def make_graph(token: str, session: GraphSession, version: str = DEFAULT_VERSION):
    graph = facebook.GraphAPI(access_token=token, session=session)
    graph.version = version  # the constructor refuses anything after 3.1
    return graph


def call(session: GraphSession, platform: str, account: str, fn: Callable[[], T]) -> T:
    """Run one Graph API call; translate every failure into modbot's exception tree through
    the one table in graph_errors."""
    where = {"platform": platform, "account": account}
    try:
        return fn()
    except facebook.GraphAPIError as exc:
        result = exc.result if isinstance(exc.result, dict) else {}
        error = result.get("error", {}) if isinstance(result.get("error"), dict) else {}
        code, subcode = _int(error.get("code")), _int(error.get("error_subcode"))
        rule = graph_errors.rule_for(
            code, subcode, bool(error.get("is_transient")), session.last_status
        )
        if not error:  # "Maintype was not text, image, or querystring": an HTML error page
            message = f"{rule.meaning} (HTTP {session.last_status})"
        else:
            message = graph_errors.describe(rule, code, subcode, str(exc.message))
        if rule.error is RateLimited:
            wait = session.retry_after() or rule.wait
            raise RateLimited(message, retry_after=wait, **where) from None
        if rule.error is PermissionMissing:
            permission = _permission_in(str(exc.message))
            raise PermissionMissing(message, permission=permission, **where) from None
        raise rule.error(message, **where) from None
    except KeyError as exc:  # facebook-sdk reads a missing Content-Type as KeyError
        raise TransientError(f"reply without {exc} (HTTP {session.last_status})", **where) from None
    except ValueError as exc:  # a truncated or malformed JSON body
        raise TransientError(f"malformed reply: {exc}", **where) from None
    except requests.RequestException as exc:
        raise TransientError(f"network: {type(exc).__name__}", **where) from None


def _int(value: object) -> int | None:
    try:
        return int(value) if isinstance(value, int | str) else None
    except ValueError:
        return None


def _permission_in(message: str) -> str:
    for name in (
        "pages_manage_engagement",
        "pages_read_user_content",
        "pages_read_engagement",
        "pages_show_list",
        "instagram_manage_comments",
        "instagram_basic",
    ):
        if name in message:
            return name
    return "pages_manage_engagement"


def parse_time(value: str) -> datetime:
    """Graph API times look like 2026-11-16T16:30:00+0000."""
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")


class GraphConnector(Connector):
    """What Facebook Pages and Instagram share: the client, error mapping and cursor paging."""

    max_pages = 50

    def __init__(
        self,
        account_id: str,
        token: str,
        session: GraphSession | None = None,
        version: str = DEFAULT_VERSION,
        window_days: int = 14,
        clock=None,
    ):
        super().__init__(account_id)
        self.session = session or GraphSession()
        self.graph = make_graph(token, self.session, version)
        self.window = timedelta(days=window_days)
        self.clock = clock or (lambda: datetime.now(UTC))

    def _call(self, fn):
        return call(self.session, self.platform, self.account_id, fn)

    def _pages(self, path: str, args: dict) -> Iterator[list[dict]]:
        """Follow cursor paging ourselves (facebook-sdk's helper breaks on some `next` links)."""
        args = dict(args)
        for _ in range(self.max_pages):
            page = self._call(
                lambda a=dict(args): self.graph.request(f"{self.graph.version}/{path}", a)
            )
            yield page.get("data", [])
            paging = page.get("paging", {})
            after = paging.get("cursors", {}).get("after")
            if not after or "next" not in paging:
                return
            args["after"] = after
