"""X through the real tweepy Client, against the X API v2's documented reply shapes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import requests
import responses

from bot.core.errors import (
    AuthExpired,
    PermissionMissing,
    RateLimited,
    TransientError,
    Unsupported,
)
from bot.core.models import Ban, Delete, Hide, Notice
from connectors.x import XConnector, XSession, snowflake_for, snowflake_time

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
        "2123086326789046373",
        "2123088843371446374",
        "2123340501611446473",
    ]
    hater = result.comments[0]
    assert hater.author_handle == "hater_99" and hater.parent_id == "2123076260459446273"
    assert json.loads(result.cursor) == {
        "since_id": "2123340501611446473",
        "read_to": NOW.isoformat(),
    }
    search = next(c.request for c in responses.calls if "search/recent" in c.request.url)
    query = parse_qs(urlparse(search.url).query)
    assert query["query"] == ["conversation_id:2123076260459446273"]
    assert "start_time" in query and search.headers["Authorization"] == f"Bearer {TOKEN}"


@responses.activate
def test_since_id_cursor_is_sent():
    serve_reads()
    connector().fetch(json.dumps({"since_id": "2123087585080246422"}))
    search = next(c.request for c in responses.calls if "search/recent" in c.request.url)
    assert parse_qs(urlparse(search.url).query)["since_id"] == ["2123087585080246422"]
    mention = next(c.request for c in responses.calls if "mentions" in c.request.url)
    assert parse_qs(urlparse(mention.url).query)["since_id"] == ["2123087585080246422"]


@responses.activate
def test_hide_and_notice_send_the_documented_requests():
    responses.add(
        responses.PUT, f"{API}/tweets/2123086326789046373/hidden", json={"data": {"hidden": True}}
    )
    responses.add(
        responses.POST,
        f"{API}/tweets",
        json={
            "data": {
                "id": "2123748187960247271",
                "text": "Removed.",
                "edit_history_tweet_ids": ["2123748187960247271"],
            }
        },
    )
    c = connector()
    c.apply(Hide("2123086326789046373"))
    ref = c.apply(Notice("2123086326789046373", post_id="2123076260459446273", text="Removed."))
    assert json.loads(responses.calls[0].request.body) == {"hidden": True}
    body = json.loads(responses.calls[1].request.body)
    assert body == {"text": "Removed.", "reply": {"in_reply_to_tweet_id": "2123076260459446273"}}
    assert ref == "2123748187960247271"


def test_delete_is_refused_loudly():
    with pytest.raises(Unsupported, match="x:1500000000000000000 cannot carry out Delete"):
        connector().apply(Delete("2123086326789046373"))


@responses.activate
def test_hiding_outside_our_own_conversation_says_why():
    responses.add(
        responses.PUT,
        f"{API}/tweets/2123340501611446473/hidden",
        json=fixture("error_403_hide.json"),
        status=403,
    )
    with pytest.raises(Unsupported, match="only in conversations it started"):
        connector().apply(Hide("2123340501611446473"))


@pytest.mark.parametrize(
    ("reset_in", "body", "expected_wait"),
    [
        (600, {"title": "Too Many Requests"}, 600),
        (None, {"title": "Too Many Requests"}, 900),  # no reset header: 15 minutes
        (None, fixture("error_429_cap.json"), 3600),  # the monthly cap: an hour
    ],
)
@responses.activate
def test_429_with_and_without_reset_header_backs_off(reset_in, body, expected_wait):
    headers = {"x-rate-limit-reset": str(int(NOW.timestamp()) + reset_in)} if reset_in else {}
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
        responses.PUT, f"{API}/tweets/2123086326789046373/hidden", json={"data": {"hidden": False}}
    )
    connector().apply(Unhide("2123086326789046373"))
    assert json.loads(responses.calls[0].request.body) == {"hidden": False}


# --- X's 7-day window -----------------------------------------------------------------------
SINCE_ID_TOO_OLD = {
    "errors": [
        {
            "parameters": {"since_id": ["{since_id}"]},
            "message": "Invalid 'since_id':'{since_id}'. 'since_id' must be a tweet id created "
            "after 2026-11-13T12:01Z.",
        }
    ],
    "title": "Invalid Request",
    "detail": "One or more parameters to your request was invalid.",
    "type": "https://api.twitter.com/2/problems/invalid-request",
}


def too_old(since_id: str) -> dict:
    return json.loads(json.dumps(SINCE_ID_TOO_OLD).replace("{since_id}", since_id))


def search_refusing_old_since_ids(request):
    """Recent search as documented: a since_id older than 7 days is a 400."""
    query = parse_qs(urlparse(request.url).query)
    if "since_id" in query:
        since = query["since_id"][0]
        if NOW - snowflake_time(since) > timedelta(days=7):
            return 400, {}, json.dumps(too_old(since))
        return 200, {}, json.dumps(fixture("empty.json"))
    start = datetime.fromisoformat(query["start_time"][0].replace("Z", "+00:00"))
    assert NOW - start <= timedelta(days=7), "recent search refuses start_time beyond 7 days"
    return 200, {}, json.dumps(fixture("search_page2.json"))


def test_snowflake_ids_carry_their_time():
    assert snowflake_time("2123086326789046373") == datetime(2026, 11, 18, 16, 10, tzinfo=UTC)
    moment = datetime(2026, 11, 12, 8, 30, tzinfo=UTC)
    assert snowflake_time(snowflake_for(moment)) == moment


@pytest.mark.parametrize("with_read_to", [False, True])
@responses.activate
def test_an_account_silent_for_8_days_resumes_on_the_next_poll(with_read_to):
    """The stored since_id is 8 days old (nobody replied for 8 days): the next poll reads by
    start_time instead of failing with X's 400, and finds the new reply."""
    old = snowflake_for(NOW - timedelta(days=8))
    state = {"since_id": old}
    if with_read_to:  # modbot kept polling through the silence
        state["read_to"] = (NOW - timedelta(minutes=5)).isoformat()
    responses.add(responses.GET, f"{API}/users/{USER}/tweets", json=fixture("own_tweets.json"))
    responses.add_callback(
        responses.GET, f"{API}/tweets/search/recent", callback=search_refusing_old_since_ids
    )
    responses.add(responses.GET, f"{API}/users/{USER}/mentions", json=fixture("empty.json"))
    result = connector().fetch(json.dumps(state))
    assert [c.comment_id for c in result.comments] == ["2123086326789046373"]
    assert result.problems == []
    search = next(c.request for c in responses.calls if "search/recent" in c.request.url)
    query = parse_qs(urlparse(search.url).query)
    assert "since_id" not in query
    start = datetime.fromisoformat(query["start_time"][0].replace("Z", "+00:00"))
    if with_read_to:  # from the last read (a minute's overlap), not the whole week again
        assert start == NOW - timedelta(minutes=6)
    else:
        assert start == NOW - timedelta(days=7) + timedelta(minutes=1)
    assert json.loads(result.cursor)["since_id"] == "2123086326789046373"  # fresh again


@responses.activate
def test_a_since_id_x_still_refuses_is_recovered_by_reading_by_time():
    """Clocks disagree: our since_id looks 6.8 days old, X says it is too old. The connector
    reads by start_time at once instead of failing every poll."""
    since = snowflake_for(NOW - timedelta(days=6, hours=19))

    def strict(request):
        query = parse_qs(urlparse(request.url).query)
        if "since_id" in query:
            return 400, {}, json.dumps(too_old(query["since_id"][0]))
        return 200, {}, json.dumps(fixture("search_page2.json"))

    responses.add(responses.GET, f"{API}/users/{USER}/tweets", json=fixture("own_tweets.json"))
    responses.add_callback(responses.GET, f"{API}/tweets/search/recent", callback=strict)
    responses.add(responses.GET, f"{API}/users/{USER}/mentions", json=fixture("empty.json"))
    result = connector().fetch(json.dumps({"since_id": since}))
    assert [c.comment_id for c in result.comments] == ["2123086326789046373"]


@responses.activate
def test_a_gap_longer_than_the_window_is_reported_not_hidden():
    """modbot was stopped for 9 days: replies older than 7 days cannot be read; it says so."""
    state = {
        "since_id": snowflake_for(NOW - timedelta(days=9)),
        "read_to": (NOW - timedelta(days=9)).isoformat(),
    }
    responses.add(responses.GET, f"{API}/users/{USER}/tweets", json=fixture("own_tweets.json"))
    responses.add_callback(
        responses.GET, f"{API}/tweets/search/recent", callback=search_refusing_old_since_ids
    )
    responses.add(responses.GET, f"{API}/users/{USER}/mentions", json=fixture("empty.json"))
    result = connector().fetch(json.dumps(state))
    assert len(result.comments) == 1
    assert len(result.problems) == 1 and "more than 7 days ago" in result.problems[0]


# --- hiding refused, bans ---------------------------------------------------------------------
@responses.activate
def test_a_missing_scope_on_hide_is_a_permission_problem_not_unsupported():
    responses.add(
        responses.PUT,
        f"{API}/tweets/2123086326789046373/hidden",
        json={
            "title": "Forbidden",
            "type": "about:blank",
            "status": 403,
            "detail": "Forbidden",
        },
        status=403,
    )
    with pytest.raises(PermissionMissing) as info:
        connector().apply(Hide("2123086326789046373"))
    assert info.value.permission == "tweet.moderate.write"


@responses.activate
def test_ban_blocks_the_author_where_the_tier_allows():
    responses.add(
        responses.POST,
        f"{API}/users/{USER}/blocking",
        json={"data": {"blocking": True}},
    )
    assert connector().apply(Ban("2123086326789046373", author_id="1600000000000000001")) == (
        "1600000000000000001"
    )
    assert json.loads(responses.calls[0].request.body) == {"target_user_id": "1600000000000000001"}
    assert responses.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"


@responses.activate
def test_ban_outside_the_enterprise_tier_says_why():
    responses.add(
        responses.POST,
        f"{API}/users/{USER}/blocking",
        json={
            "client_id": "101010101",
            "required_enrollment": "Enterprise",
            "registration_url": "https://developer.x.com/en/portal/product",
            "title": "Client Forbidden",
            "detail": "This request must be made using an approved developer account that is "
            "enrolled in the requested endpoint.",
            "reason": "client-not-enrolled",
            "type": "https://api.x.com/2/problems/client-forbidden",
        },
        status=403,
    )
    with pytest.raises(PermissionMissing) as info:
        connector().apply(Ban("", author_id="1600000000000000001"))
    assert "Enterprise" in info.value.permission and TOKEN not in str(info.value)
