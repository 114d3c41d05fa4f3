"""Every documented Graph API and X API v2 error, on a read and on an action, ends in a tested
state: the exception, the account's health, the alert, the cursor, the pending actions and
`next_poll_at`. Replies are replayed at the requests layer (`responses`) from the documented
shapes in tests/fixtures; the connectors, the pipeline and the store are the real ones."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import requests
import responses

from bot.app import build_pipeline
from bot.config.settings import EXAMPLE_CONFIG, parse_settings
from bot.core.errors import (
    AuthExpired,
    CommentGone,
    ConnectorError,
    PermissionMissing,
    RateLimited,
    TransientError,
)
from bot.core.models import Hide
from connectors.base import Connector
from connectors.facebook import FacebookConnector
from connectors.graph_http import GraphSession
from connectors.x import XConnector, XSession
from tests.conftest import example_data

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
PAGE = "123456789012345"
GRAPH = "https://graph.facebook.com/v21.0"
FB_TOKEN = "EAABsbCS1iHgBAKZCZBo0ZAtestpagetoken0ZDZD"
X_USER = "1500000000000000000"
X_API = "https://api.twitter.com/2"
X_TOKEN = "bWVzc2FnZS11c2VyLXRva2VuLWZvci10ZXN0cy0xMjM0NTY3ODk"
BACKOFF = "backoff"  # the first transient failure waits 30-60 s (jitter)
HIDDEN = "1001_2003"  # the toxic comment in comments_1001.json
X_HIDDEN = "2123086326789046373"  # the toxic reply in search_page2.json


def graph_error(name: str) -> dict:
    errors = json.loads((FIXTURES / "facebook" / "errors.json").read_text())
    return json.loads(json.dumps(errors[name]).replace("{token}", FB_TOKEN))


def buc(minutes: int) -> dict[str, str]:
    usage = {
        PAGE: [
            {
                "type": "pages",
                "call_count": 100,
                "total_cputime": 12,
                "total_time": 15,
                "estimated_time_to_regain_access": minutes,
            }
        ]
    }
    return {"X-Business-Use-Case-Usage": json.dumps(usage)}


def graph_reply(name: str, status: int = 400, headers: dict | None = None) -> dict:
    return {"json": graph_error(name), "status": status, "headers": headers or {}}


# name, reply, exception, health, wait before the next poll (seconds, BACKOFF or None)
GRAPH_CASES = [
    ("1 unknown", graph_reply("1", 500), TransientError, "failing", BACKOFF),
    ("2 service (is_transient)", graph_reply("2", 503), TransientError, "failing", BACKOFF),
    ("3 capability", graph_reply("3"), PermissionMissing, "permission_missing", None),
    ("4 app limit", graph_reply("4", 403), RateLimited, "failing", 900),
    ("10 permission", graph_reply("10", 403), PermissionMissing, "permission_missing", None),
    ("17 user limit", graph_reply("17", 403), RateLimited, "failing", 900),
    ("32 page limit + BUC", graph_reply("32", 403, buc(12)), RateLimited, "failing", 720),
    ("102 session", graph_reply("102"), AuthExpired, "auth_expired", None),
    ("190 echoing the token", graph_reply("190"), AuthExpired, "auth_expired", None),
    ("190/458 app not installed", graph_reply("190/458"), AuthExpired, "auth_expired", None),
    ("190/459 checkpoint", graph_reply("190/459"), AuthExpired, "auth_expired", None),
    ("190/460 password", graph_reply("190/460"), AuthExpired, "auth_expired", None),
    ("190/463 expired", graph_reply("190/463"), AuthExpired, "auth_expired", None),
    ("190/464 unconfirmed", graph_reply("190/464"), AuthExpired, "auth_expired", None),
    ("190/467 invalid", graph_reply("190/467"), AuthExpired, "auth_expired", None),
    ("200 permission", graph_reply("200", 403), PermissionMissing, "permission_missing", None),
    ("210 page token", graph_reply("210", 403), PermissionMissing, "permission_missing", None),
    ("299 permission", graph_reply("299", 403), PermissionMissing, "permission_missing", None),
    ("341 app limit", graph_reply("341"), RateLimited, "failing", 900),
    ("368 policy block", graph_reply("368"), RateLimited, "failing", 3600),
    ("613 hourly limit", graph_reply("613", 403), RateLimited, "failing", 900),
    ("80001 page BUC", graph_reply("80001", 403, buc(12)), RateLimited, "failing", 720),
    ("80001 without header", graph_reply("80001", 403), RateLimited, "failing", 900),
    ("80002 instagram BUC", graph_reply("80002", 403, buc(45)), RateLimited, "failing", 2700),
    ("100 bad parameter", graph_reply("100"), ConnectorError, "failing", BACKOFF),
    (
        "HTML 502",
        {
            "body": "<html><body>502 Bad Gateway</body></html>",
            "status": 502,
            "content_type": "text/html",
        },
        TransientError,
        "failing",
        BACKOFF,
    ),
    (
        "HTML 429",
        {"body": "<html>Too Many Requests</html>", "status": 429, "content_type": "text/html"},
        RateLimited,
        "failing",
        900,
    ),
    (
        "truncated JSON",
        {"body": '{"data": [{"id": "1001_', "status": 200, "content_type": "application/json"},
        TransientError,
        "failing",
        BACKOFF,
    ),
    (
        "timeout",
        {"body": requests.exceptions.ReadTimeout("timed out")},
        TransientError,
        "failing",
        BACKOFF,
    ),
]


def x_problem(status: int, body: dict, headers: dict | None = None) -> dict:
    return {"json": body, "status": status, "headers": headers or {}}


X_INVALID = {
    "errors": [
        {
            "parameters": {"max_results": ["500"]},
            "message": "The `max_results` query parameter value [500] is not between 5 and 100",
        }
    ],
    "title": "Invalid Request",
    "detail": "One or more parameters to your request was invalid.",
    "type": "https://api.twitter.com/2/problems/invalid-request",
}
X_FORBIDDEN = {
    "title": "Unsupported Authentication",
    "detail": "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint. "
    "Supported authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context].",
    "type": "https://api.twitter.com/2/problems/unsupported-authentication",
    "status": 403,
}
X_NOT_FOUND = {
    "errors": [
        {
            "value": X_HIDDEN,
            "detail": f"Could not find tweet with id: [{X_HIDDEN}].",
            "title": "Not Found Error",
            "resource_type": "tweet",
            "parameter": "id",
            "resource_id": X_HIDDEN,
            "type": "https://api.twitter.com/2/problems/resource-not-found",
        }
    ],
    "title": "Not Found Error",
    "detail": "Not Found",
    "type": "https://api.twitter.com/2/problems/resource-not-found",
}
X_CASES = [
    ("400 invalid request", x_problem(400, X_INVALID), ConnectorError, "failing", BACKOFF),
    (
        "401 token",
        x_problem(
            401,
            {
                "title": "Unauthorized",
                "type": "about:blank",
                "status": 401,
                "detail": "Unauthorized",
            },
        ),
        AuthExpired,
        "auth_expired",
        None,
    ),
    ("403 forbidden", x_problem(403, X_FORBIDDEN), PermissionMissing, "permission_missing", None),
    ("404 gone", x_problem(404, X_NOT_FOUND), CommentGone, "failing", BACKOFF),
    (
        "429 with reset",
        x_problem(
            429,
            {
                "title": "Too Many Requests",
                "detail": "Too Many Requests",
                "type": "about:blank",
                "status": 429,
            },
            {
                "x-rate-limit-limit": "50",
                "x-rate-limit-remaining": "0",
                "x-rate-limit-reset": str(int(NOW.timestamp()) + 600),
            },
        ),
        RateLimited,
        "failing",
        600,
    ),
    (
        "429 monthly cap",
        x_problem(429, json.loads((FIXTURES / "x" / "error_429_cap.json").read_text())),
        RateLimited,
        "failing",
        3600,
    ),
    ("500", x_problem(500, {"title": "Internal Server Error"}), TransientError, "failing", BACKOFF),
    (
        "502 HTML",
        {"body": "<html>Bad Gateway</html>", "status": 502, "content_type": "text/html"},
        TransientError,
        "failing",
        BACKOFF,
    ),
    ("503", x_problem(503, {"title": "Service Unavailable"}), TransientError, "failing", BACKOFF),
    ("504", x_problem(504, {"title": "Gateway Timeout"}), TransientError, "failing", BACKOFF),
]


# --- the Graph API and X stand-ins, and a pipeline over each ---------------------------------
def fb_fixture(name: str) -> dict:
    return json.loads((FIXTURES / "facebook" / name).read_text())


def x_fixture(name: str) -> dict:
    return json.loads((FIXTURES / "x" / name).read_text())


def serve_graph_reads(rsps) -> None:
    """The Page's two pages of posts (by cursor), their comments, and the notice and state
    endpoints; every request can be made any number of times."""

    def posts(request):
        after = parse_qs(urlparse(request.url).query).get("after")
        page = "posts_page2.json" if after == ["QVFIUmAfter1"] else "posts_page1.json"
        return 200, {}, json.dumps(fb_fixture(page))

    rsps.add_callback(
        responses.GET,
        f"{GRAPH}/{PAGE}/published_posts",
        callback=posts,
        content_type="application/json",
    )
    rsps.add(responses.GET, f"{GRAPH}/{PAGE}_1001/comments", json=fb_fixture("comments_1001.json"))
    rsps.add(responses.GET, f"{GRAPH}/{PAGE}_1000/comments", json=fb_fixture("comments_1000.json"))
    rsps.add(responses.POST, f"{GRAPH}/{PAGE}_1001/comments", json={"id": "1001_2099"})
    rsps.add(responses.GET, f"{GRAPH}/{HIDDEN}", json={"is_hidden": False, "id": HIDDEN})


def serve_x_reads(rsps) -> None:
    rsps.add(responses.GET, f"{X_API}/users/{X_USER}/tweets", json=x_fixture("own_tweets.json"))
    rsps.add(responses.GET, f"{X_API}/tweets/search/recent", json=x_fixture("search_page2.json"))
    rsps.add(responses.GET, f"{X_API}/users/{X_USER}/mentions", json=x_fixture("empty.json"))
    rsps.add(
        responses.POST,
        f"{X_API}/tweets",
        json={
            "data": {
                "id": "2123748187960247271",
                "text": "Removed.",
                "edit_history_tweet_ids": ["2123748187960247271"],
            }
        },
    )


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


# --- one table: every documented error of both platforms, and where each platform answers ---
@dataclass(frozen=True)
class Platform:
    name: str
    token: str
    hidden: str  # the toxic comment the first poll hides
    read: tuple[str, str]  # the request a poll starts with
    hide: tuple[str, str]  # the Hide request
    hide_done: dict  # the platform's reply when the Hide worked
    serve_reads: Callable[[object], None]
    connector: Callable[[Callable[[], datetime]], Connector]

    def __str__(self) -> str:
        return self.name


FACEBOOK = Platform(
    "facebook",
    FB_TOKEN,
    HIDDEN,
    (responses.GET, f"{GRAPH}/{PAGE}/published_posts"),
    (responses.POST, f"{GRAPH}/{HIDDEN}"),
    {"json": {"success": True}},
    serve_graph_reads,
    lambda clock: FacebookConnector(PAGE, FB_TOKEN, GraphSession(timeout=5), clock=clock),
)
X = Platform(
    "x",
    X_TOKEN,
    X_HIDDEN,
    (responses.GET, f"{X_API}/users/{X_USER}/tweets"),
    (responses.PUT, f"{X_API}/tweets/{X_HIDDEN}/hidden"),
    {"json": {"data": {"hidden": True}}},
    serve_x_reads,
    lambda clock: XConnector(X_USER, X_TOKEN, XSession(timeout=5), clock=clock),
)
PLATFORMS = {p.name: p for p in (FACEBOOK, X)}
# platform, name, reply, exception, health, wait before the next poll
CASES = [(FACEBOOK, *case) for case in GRAPH_CASES] + [(X, *case) for case in X_CASES]
CASE_IDS = [f"{platform} {name}" for platform, name, *_ in CASES]
FIELDS = ("platform", "name", "reply", "error", "health", "wait")


def pipeline_for(tmp_path: Path, classifiers, platform: str):
    clock = Clock()
    data = example_data()
    # every file the service's jobs write (backups, reports) stays in tmp_path
    data["storage"] = {**data.get("storage", {}), "database": str(tmp_path / "m.db")}
    data["report"] = {**data.get("report", {}), "out_dir": str(tmp_path / "reports")}
    account_id, token = (PAGE, FB_TOKEN) if platform == "facebook" else (X_USER, X_TOKEN)
    data["accounts"] = [
        {
            "platform": platform,
            "account_id": account_id,
            "display_name": "LKS",
            "mode": "enforce",
            "token_env": "MODBOT_TEST_TOKEN",
        }
    ]
    settings = parse_settings(data, EXAMPLE_CONFIG, environ={"MODBOT_TEST_TOKEN": token})
    connector = PLATFORMS[platform].connector(clock)
    key = settings.accounts[0].key
    pipeline, _ = build_pipeline(
        settings,
        tmp_path / "m.db",
        clock=clock,
        connectors={key: connector},
        classifiers=classifiers,
        outbox=tmp_path / "outbox",
    )
    return pipeline, settings, key, clock


def alerts(pipeline) -> list[str]:
    return sorted(
        r["recipient"]
        for r in pipeline.store.rows("SELECT recipient FROM outbox WHERE kind = 'account'")
    )


def people_told(settings) -> list[str]:
    return sorted([*(a.name for a in settings.administrators), settings.dsl.name])


def assert_wait(state, wait, now: datetime) -> None:
    if wait is None:
        assert state.next_poll_at is None
    elif wait == BACKOFF:
        assert 30 <= (state.next_poll_at - now).total_seconds() <= 60
    else:
        assert abs((state.next_poll_at - now).total_seconds() - wait) <= 1


def hide_row(pipeline, comment_id: str) -> dict:
    return pipeline.store.rows(
        "SELECT * FROM actions WHERE kind = 'hide' AND comment_id = ?", [comment_id]
    )[0]


# --- the exception each error becomes -------------------------------------------------------
@pytest.mark.parametrize(FIELDS, CASES, ids=CASE_IDS)
@pytest.mark.parametrize("where", ["read", "action"])
@responses.activate
def test_error_becomes_its_exception(platform, name, reply, error, health, wait, where):
    connector = platform.connector(lambda: NOW)
    if where == "read":
        responses.add(*platform.read, **reply)
        call = lambda: connector.fetch(None)  # noqa: E731
    else:
        responses.add(*platform.hide, **reply)
        call = lambda: connector.apply(Hide(platform.hidden))  # noqa: E731
    with pytest.raises(ConnectorError) as info:
        call()
    assert type(info.value) is error
    if error is RateLimited:
        assert info.value.retry_after == wait
    assert platform.token not in str(info.value) and platform.token not in repr(info.value)


def test_every_documented_graph_code_is_in_the_one_table():
    from connectors import graph_errors

    for code in (1, 2, 3, 4, 10, 17, 32, 102, 190, 341, 368, 613, 80001, 80002):
        assert code in graph_errors.CODES
    assert set(graph_errors.AUTH_SUBCODES) >= {458, 459, 460, 463, 464, 467}
    assert graph_errors.rule_for(250).error is PermissionMissing  # the 200-299 range
    assert graph_errors.rule_for(999, is_transient=True).error is TransientError


# --- end states through the pipeline: a read fails ------------------------------------------
@pytest.mark.parametrize(FIELDS, CASES, ids=CASE_IDS)
@responses.activate
def test_read_error_end_state(tmp_path, rules_only, platform, name, reply, error, health, wait):
    pipeline, settings, key, clock = pipeline_for(tmp_path, rules_only, platform.name)
    platform.serve_reads(responses)
    responses.add(*platform.hide, **platform.hide_done)
    pipeline.run_once()
    accounts = pipeline.store.accounts
    cursor = accounts.cursor(key)
    assert accounts.get(key).health == "ok" and cursor
    responses.reset()
    responses.add(*platform.read, **reply)
    clock.now = NOW + timedelta(minutes=5)
    [report] = pipeline.run_once()
    state = accounts.get(key)
    assert (report.health, state.health) == (health, health)
    assert state.cursor == cursor and state.failures == 1
    reset = "x-rate-limit-reset" in reply.get("headers", {})  # an absolute time: 5 min passed
    assert_wait(state, wait - 300 if reset else wait, clock.now)
    assert platform.token not in (state.last_error or "")
    expected = people_told(settings) if health in ("auth_expired", "permission_missing") else []
    assert alerts(pipeline) == expected
    clock.now += timedelta(hours=2)
    pipeline.run_once()  # still failing: the same episode, nobody told twice
    assert alerts(pipeline) == expected and accounts.get(key).failures == 2


# --- end states through the pipeline: an action fails ---------------------------------------
@pytest.mark.parametrize(FIELDS, CASES, ids=CASE_IDS)
@responses.activate
def test_action_error_end_state(tmp_path, rules_only, platform, name, reply, error, health, wait):
    """The Hide is refused: the account's health says why, the Hide stays pending (never
    `failed`), the comment stays decided, people are told when a person must act."""
    pipeline, settings, key, clock = pipeline_for(tmp_path, rules_only, platform.name)
    platform.serve_reads(responses)
    responses.add(*platform.hide, **reply)
    pipeline.run_once()
    state = pipeline.store.accounts.get(key)
    row = hide_row(pipeline, platform.hidden)
    if error is CommentGone:  # the reply was deleted before we acted: nothing to retry
        assert state.health == "ok" and row["status"] == "gone"
        return
    assert state.health == health and row["status"] == "intended"
    assert_wait(state, wait, clock.now)
    comment = pipeline.store.comment_row(platform.name, platform.hidden)
    assert comment["status"] == "decided"
    assert platform.token not in (state.last_error or "") + (row["error"] or "")
    expected = people_told(settings) if health in ("auth_expired", "permission_missing") else []
    assert alerts(pipeline) == expected


@responses.activate
def test_graph_hide_of_a_deleted_comment_is_gone_not_an_account_problem(tmp_path, rules_only):
    pipeline, _settings, key, _clock = pipeline_for(tmp_path, rules_only, "facebook")
    serve_graph_reads(responses)
    responses.add(responses.POST, f"{GRAPH}/{HIDDEN}", **graph_reply("100/33"))
    pipeline.run_once()
    assert pipeline.store.accounts.get(key).health == "ok"
    assert hide_row(pipeline, HIDDEN)["status"] == "gone"
    assert alerts(pipeline) == []


# --- recovery ------------------------------------------------------------------------------------
@pytest.mark.parametrize("refusal", ["200", "190/460"])
@responses.activate
def test_a_permission_fixed_after_6_failed_polls_still_gets_the_comment_hidden(
    tmp_path, rules_only, refusal
):
    pipeline, settings, key, clock = pipeline_for(tmp_path, rules_only, "facebook")
    serve_graph_reads(responses)
    responses.add(responses.POST, f"{GRAPH}/{HIDDEN}", **graph_reply(refusal, 403))
    for poll in range(6):
        clock.now = NOW + timedelta(minutes=5 * poll)
        pipeline.run_once()
    accounts = pipeline.store.accounts
    assert accounts.get(key).health in ("permission_missing", "auth_expired")
    assert accounts.get(key).failures == 6
    assert hide_row(pipeline, HIDDEN)["status"] == "intended"
    assert alerts(pipeline) == people_told(settings)  # once, for the whole episode
    hides = lambda: [  # noqa: E731
        c
        for c in responses.calls
        if c.request.method == "POST"
        and c.request.url.endswith(f"/{HIDDEN}")
        and "is_hidden=true" in (c.request.body or "")
    ]
    assert len(hides()) == 6  # tried once a poll, never given up
    responses.replace(responses.POST, f"{GRAPH}/{HIDDEN}", json={"success": True})
    clock.now = NOW + timedelta(minutes=35)
    [report] = pipeline.run_once()
    assert hide_row(pipeline, HIDDEN)["status"] == "done"
    assert pipeline.store.comment_row("facebook", HIDDEN)["status"] == "done"
    state = accounts.get(key)
    assert (report.health, state.health, state.failures) == ("ok", "ok", 0)
    assert state.last_ok_at == clock.now


@responses.activate
def test_a_rate_limited_hide_is_done_once_the_limit_passes(tmp_path, rules_only):
    pipeline, _settings, key, clock = pipeline_for(tmp_path, rules_only, "facebook")
    serve_graph_reads(responses)
    responses.add(responses.POST, f"{GRAPH}/{HIDDEN}", **graph_reply("80001", 403, buc(12)))
    pipeline.run_once()
    state = pipeline.store.accounts.get(key)
    assert state.next_poll_at == NOW + timedelta(minutes=12)
    assert not pipeline.store.accounts.due(key)
    clock.now = NOW + timedelta(minutes=12)
    assert pipeline.store.accounts.due(key)
    responses.replace(responses.POST, f"{GRAPH}/{HIDDEN}", json={"success": True})
    pipeline.run_once()
    assert hide_row(pipeline, HIDDEN)["status"] == "done"
    assert pipeline.store.accounts.get(key).next_poll_at is None
