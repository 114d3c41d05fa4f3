"""X through the real tweepy Client, against the X API v2's documented reply shapes."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import requests
import responses

from bot.core.errors import AuthExpired, RateLimited, TransientError, Unsupported
from bot.core.models import Delete, Hide, Notice
from connectors.x import XConnector, XSession

FIXTURES = Path(__file__).parent / "fixtures" / "x"
USER = "1500000000000000000"
API = "https://api.twitter.com/2"
TOKEN = "x-oauth2-user-token-000"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def connector(base: str = "https://api.twitter.com") -> XConnector:
    return XConnector(USER, TOKEN, XSession(base, timeout=5), clock=lambda: NOW)


def serve_reads(api: str = API) -> None:
    responses.add(responses.GET, f"{api}/users/{USER}/tweets", json=fixture("own_tweets.json"))
    responses.add(
        responses.GET,
        f"{api}/tweets/search/recent",
        json=fixture("search_page2.json"),
        match=[
            responses.matchers.query_param_matcher(
                {"next_token": "b26v89c19zqg8o3fpzbkk7bqfrm5wl2v5acvy9r7p29fh"}, strict_match=False
            )
        ],
    )
    responses.add(responses.GET, f"{api}/tweets/search/recent", json=fixture("search_page1.json"))
    responses.add(responses.GET, f"{api}/users/{USER}/mentions", json=fixture("mentions.json"))


@responses.activate
def test_reads_replies_to_own_posts_and_mentions_with_paging():
    serve_reads()
    result = connector().fetch(None)
    assert [c.comment_id for c in result.comments] == [
        "1858000000000000101",
        "1858000000000000102",
        "1858000000000000201",
    ]
    hater = result.comments[0]
    assert hater.author_handle == "hater_99" and hater.parent_id == "1858000000000000001"
    assert json.loads(result.cursor) == {"since_id": "1858000000000000201"}
    search = next(c.request for c in responses.calls if "search/recent" in c.request.url)
    query = parse_qs(urlparse(search.url).query)
    assert query["query"] == ["conversation_id:1858000000000000001"]
    assert "start_time" in query and search.headers["Authorization"] == f"Bearer {TOKEN}"


@responses.activate
def test_since_id_cursor_is_sent():
    serve_reads()
    connector().fetch(json.dumps({"since_id": "1858000000000000150"}))
    mention = next(c.request for c in responses.calls if "mentions" in c.request.url)
    assert parse_qs(urlparse(mention.url).query)["since_id"] == ["1858000000000000150"]


@responses.activate
def test_hide_and_notice_send_the_documented_requests():
    responses.add(
        responses.PUT, f"{API}/tweets/1858000000000000101/hidden", json={"data": {"hidden": True}}
    )
    responses.add(
        responses.POST,
        f"{API}/tweets",
        json={
            "data": {
                "id": "1858000000000000999",
                "text": "Removed.",
                "edit_history_tweet_ids": ["1858000000000000999"],
            }
        },
    )
    c = connector()
    c.apply(Hide("1858000000000000101"))
    ref = c.apply(Notice("1858000000000000101", post_id="1858000000000000001", text="Removed."))
    assert json.loads(responses.calls[0].request.body) == {"hidden": True}
    body = json.loads(responses.calls[1].request.body)
    assert body == {"text": "Removed.", "reply": {"in_reply_to_tweet_id": "1858000000000000001"}}
    assert ref == "1858000000000000999"


def test_delete_is_refused_loudly():
    with pytest.raises(Unsupported, match="x:1500000000000000000 cannot carry out Delete"):
        connector().apply(Delete("1858000000000000101"))


@responses.activate
def test_hiding_outside_our_own_conversation_says_why():
    responses.add(
        responses.PUT,
        f"{API}/tweets/1858000000000000201/hidden",
        json=fixture("error_403_hide.json"),
        status=403,
    )
    with pytest.raises(Unsupported, match="only in conversations it started"):
        connector().apply(Hide("1858000000000000201"))


@pytest.mark.parametrize(
    ("reset_in", "body", "expected_wait"),
    [
        (600, {"title": "Too Many Requests"}, 600),
        (None, fixture("error_429_cap.json"), 900),  # the monthly cap: no reset header
    ],
)
@responses.activate
def test_429_with_and_without_reset_header_backs_off(reset_in, body, expected_wait):
    headers = {"x-rate-limit-reset": str(int(time.time()) + reset_in)} if reset_in else {}
    responses.add(
        responses.GET, f"{API}/users/{USER}/tweets", json=body, status=429, headers=headers
    )
    with pytest.raises(RateLimited) as info:
        connector().fetch(None)
    assert abs(info.value.retry_after - expected_wait) < 5
    assert len(responses.calls) == 1  # no hammering


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ({"json": fixture("error_401.json"), "status": 401}, AuthExpired),
        ({"body": "<html>502 Bad Gateway</html>", "status": 502}, TransientError),
        (
            {"body": '{"data": [{"id": "18', "status": 200, "content_type": "application/json"},
            TransientError,
        ),
        ({"body": requests.exceptions.ConnectTimeout("timed out")}, TransientError),
    ],
)
@responses.activate
def test_errors_map_onto_modbot_errors(reply, error):
    responses.add(responses.GET, f"{API}/users/{USER}/tweets", **reply)
    with pytest.raises(error) as info:
        connector().fetch(None)
    assert TOKEN not in str(info.value)


@responses.activate
def test_base_url_routes_tweepy_to_another_host():
    serve_reads("http://127.0.0.1:9/2")
    result = connector("http://127.0.0.1:9").fetch(None)
    assert len(result.comments) == 3
    assert all(c.request.url.startswith("http://127.0.0.1:9/2/") for c in responses.calls)


@responses.activate
def test_unhide_sends_hidden_false():
    from bot.core.models import Unhide

    responses.add(
        responses.PUT, f"{API}/tweets/1858000000000000101/hidden", json={"data": {"hidden": False}}
    )
    connector().apply(Unhide("1858000000000000101"))
    assert json.loads(responses.calls[0].request.body) == {"hidden": False}
