"""Instagram over the Graph API: the real facebook-sdk code against documented reply shapes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import responses

from bot.core.models import Hide, Notice, Unhide
from connectors.graph_http import GraphSession
from connectors.instagram import InstagramConnector

FIXTURES = Path(__file__).parent / "fixtures" / "instagram"
IG_USER = "17841400000000000"
BASE = "https://graph.facebook.com/v21.0"
TOKEN = "EAAB-test-ig-token-000"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def connector() -> InstagramConnector:
    return InstagramConnector(IG_USER, TOKEN, GraphSession(timeout=5), clock=lambda: NOW)


def serve_username() -> None:
    """`GET /{ig-user-id}?fields=username`: the account's own name, for the self-filter."""
    responses.add(
        responses.GET, f"{BASE}/{IG_USER}", json={"username": "littlekinvaston", "id": IG_USER}
    )


@responses.activate
def test_reads_recent_media_comments_and_replies_but_not_our_own():
    """Our own reply carries an Instagram-scoped id in `from.id` (as the Graph API documents),
    not the IG user id: it is recognised by its username."""
    serve_username()
    responses.add(responses.GET, f"{BASE}/{IG_USER}/media", json=fixture("media.json"))
    responses.add(
        responses.GET, f"{BASE}/17900000000000001/comments", json=fixture("comments.json")
    )
    result = connector().fetch(None)
    assert [c.comment_id for c in result.comments] == [
        "17850000000000001",
        "17850000000000002",
        "17850000000000003",
    ]
    reply = result.comments[2]
    assert reply.parent_id == "17850000000000001" and reply.author_handle == "hater_99"
    # the old media (outside the 14-day window) was not read, nor the next media page
    paths = [urlparse(c.request.url).path for c in responses.calls]
    assert paths == [
        f"/v21.0/{IG_USER}/media",
        "/v21.0/17900000000000001/comments",
        f"/v21.0/{IG_USER}",  # the username, asked once
    ]
    fields = parse_qs(urlparse(responses.calls[1].request.url).query)["fields"][0]
    assert "replies{" in fields and "hidden" in fields
    responses.calls.reset()
    assert json.loads(result.cursor) == {"newest": "2026-11-18T16:20:00+0000"}
    again = connector().fetch(result.cursor)  # the last day is read again, to find edits
    assert [c.comment_id for c in again.comments] == [c.comment_id for c in result.comments]
    assert again.cursor == result.cursor


@responses.activate
def test_hide_unhide_and_notice_as_a_new_comment_on_the_media():
    responses.add(responses.POST, f"{BASE}/17850000000000003", json={"success": True})
    responses.add(
        responses.POST, f"{BASE}/17900000000000001/comments", json={"id": "17850000000000099"}
    )
    c = connector()
    c.apply(Hide("17850000000000003"))
    c.apply(Unhide("17850000000000003"))
    ref = c.apply(Notice("17850000000000003", post_id="17900000000000001", text="Removed."))
    bodies = [parse_qs(call.request.body) for call in responses.calls]
    assert bodies[0]["hide"] == ["true"] and bodies[1]["hide"] == ["false"]
    assert bodies[2]["message"] == ["Removed."] and ref == "17850000000000099"


@responses.activate
def test_delete_sends_delete():
    from bot.core.models import Delete

    responses.add(responses.DELETE, f"{BASE}/17850000000000003", json={"success": True})
    connector().apply(Delete("17850000000000003"))
    assert responses.calls[0].request.method == "DELETE"
    assert parse_qs(urlparse(responses.calls[0].request.url).query)["access_token"] == [TOKEN]


@responses.activate
def test_replies_are_followed_through_their_paging():
    serve_username()
    responses.add(responses.GET, f"{BASE}/{IG_USER}/media", json=fixture("media.json"))
    responses.add(
        responses.GET, f"{BASE}/17900000000000001/comments", json=fixture("comments_paged.json")
    )
    responses.add(
        responses.GET,
        f"{BASE}/17850000000000011/replies",
        json=fixture("replies_page2.json"),
        match=[
            responses.matchers.query_param_matcher({"after": "QVFIUnJlcDE"}, strict_match=False)
        ],
    )
    result = connector().fetch(None)
    ids = [c.comment_id for c in result.comments]
    # both pages of replies; our own "Thank you" (username in another case) is left out
    assert ids == [
        "17850000000000011",
        "17850000000000012",
        "17850000000000013",
        "17850000000000014",
    ]
    hater = result.comments[-1]
    assert hater.parent_id == "17850000000000011" and hater.author_handle == "hater_99"


@responses.activate
def test_a_notice_we_posted_is_never_read_back_as_a_comment():
    """Even before the username is known to match (a renamed account), the ids of notices
    this process posted are skipped."""
    responses.add(
        responses.POST, f"{BASE}/17900000000000001/comments", json={"id": "17850000000000099"}
    )
    c = connector()
    c.apply(Notice("17850000000000003", post_id="17900000000000001", text="Removed."))
    responses.add(
        responses.GET, f"{BASE}/{IG_USER}", json={"username": "renamed_school", "id": IG_USER}
    )
    ours = {"id": "17850000000000099", "username": "old_name", "from": {"id": "812"}}
    theirs = {"id": "17850000000000098", "username": "paul_d", "from": {"id": "813"}}
    assert c.is_own(ours) and not c.is_own(theirs)


def test_ban_is_refused_with_the_reason():
    import pytest

    from bot.core.errors import Unsupported
    from bot.core.models import Ban

    with pytest.raises(Unsupported, match="no way to block"):
        connector().apply(Ban("17850000000000003", author_id="17841400000000102"))
