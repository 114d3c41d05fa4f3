"""The real facebook-sdk client code against the Graph API's documented reply shapes."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import requests
import responses

from bot.config.settings import EXAMPLE_CONFIG, parse_settings
from bot.core.errors import AuthExpired, CommentGone, PermissionMissing, RateLimited, TransientError
from bot.core.models import Ban, Delete, Hide, Notice, Unhide
from connectors.facebook import FacebookConnector
from connectors.graph_http import GraphSession
from tests.conftest import example_data

FIXTURES = Path(__file__).parent / "fixtures" / "facebook"
PAGE = "123456789012345"
BASE = "https://graph.facebook.com/v21.0"
TOKEN = "EAAB-test-page-token-000"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def connector(base_url: str = "https://graph.facebook.com/") -> FacebookConnector:
    return FacebookConnector(PAGE, TOKEN, GraphSession(base_url, timeout=5), clock=lambda: NOW)


def facebook_pipeline(tmp_path: Path, classifiers):
    """A pipeline watching one Facebook Page, as `modbot run` builds it."""
    from bot.app import build_pipeline

    data = example_data()
    data["accounts"] = [
        {
            "platform": "facebook",
            "account_id": PAGE,
            "display_name": "LKS",
            "mode": "enforce",
            "token_env": "MODBOT_TEST_FB_TOKEN",
        }
    ]
    settings = parse_settings(data, EXAMPLE_CONFIG, environ={"MODBOT_TEST_FB_TOKEN": TOKEN})
    key = settings.accounts[0].key
    pipeline, _ = build_pipeline(
        settings,
        tmp_path / "m.db",
        connectors={key: connector()},
        classifiers=classifiers,
        outbox=tmp_path / "outbox",
    )
    return pipeline, settings, key


def serve_reads(rsps, base: str = BASE) -> None:
    posts = f"{base}/{PAGE}/published_posts"
    rsps.add(
        responses.GET,
        posts,
        json=fixture("posts_page2.json"),
        match=[
            responses.matchers.query_param_matcher({"after": "QVFIUmAfter1"}, strict_match=False)
        ],
    )
    rsps.add(responses.GET, posts, json=fixture("posts_page1.json"))
    rsps.add(responses.GET, f"{base}/{PAGE}_1001/comments", json=fixture("comments_1001.json"))
    rsps.add(responses.GET, f"{base}/{PAGE}_1000/comments", json=fixture("comments_1000.json"))


@responses.activate
def test_reads_posts_and_comments_with_replies_through_paging():
    serve_reads(responses)
    result = connector().fetch(None)
    ids = [c.comment_id for c in result.comments]
    assert ids == ["1000_3001", "1000_3002", "1001_2001", "1001_2003"]  # oldest first, no own
    photo = result.comments[1]
    assert photo.has_attachment and photo.author_handle == "Parent Two"
    assert json.loads(result.cursor) == {"newest": "2026-11-16T16:30:00+0000"}
    first = responses.calls[0].request
    query = parse_qs(urlparse(first.url).query)
    assert urlparse(first.url).path == f"/v21.0/{PAGE}/published_posts"
    assert query["access_token"] == [TOKEN] and query["limit"] == ["25"]
    assert int(query["since"][0]) == int(NOW.timestamp()) - 14 * 86400
    assert "after=QVFIUmAfter1" in responses.calls[1].request.url  # the second page of posts
    comments_call = parse_qs(urlparse(responses.calls[2].request.url).query)
    assert comments_call["filter"] == ["stream"]
    assert comments_call["order"] == ["reverse_chronological"]
    assert "is_hidden" in comments_call["fields"][0]


@responses.activate
def test_stops_at_what_was_already_seen():
    serve_reads(responses)
    # comments older than a day before the newest seen are not read again
    cursor = json.dumps({"newest": "2026-11-17T16:10:00+0000"})
    result = connector().fetch(cursor)
    assert [c.comment_id for c in result.comments] == ["1001_2001", "1001_2003"]
    assert json.loads(result.cursor) == {"newest": "2026-11-17T16:10:00+0000"}


@responses.activate
def test_empty_page():
    responses.add(responses.GET, f"{BASE}/{PAGE}/published_posts", json=fixture("empty.json"))
    result = connector().fetch(None)
    assert result.comments == [] and result.cursor is None


@responses.activate
def test_hide_unhide_delete_and_notice_send_the_documented_requests():
    c = connector()
    responses.add(responses.POST, f"{BASE}/1001_2003", json={"success": True})
    responses.add(responses.DELETE, f"{BASE}/1001_2003", json={"success": True})
    responses.add(responses.POST, f"{BASE}/{PAGE}_1001/comments", json={"id": "1001_2099"})
    c.apply(Hide("1001_2003"))
    c.apply(Unhide("1001_2003"))
    c.apply(Delete("1001_2003"))
    ref = c.apply(Notice("1001_2003", post_id=f"{PAGE}_1001", text="We have hidden a comment."))
    bodies = [parse_qs(call.request.body) for call in responses.calls]
    assert bodies[0]["is_hidden"] == ["true"] and bodies[1]["is_hidden"] == ["false"]
    assert responses.calls[2].request.method == "DELETE"
    assert bodies[3]["message"] == ["We have hidden a comment."]
    assert ref == "1001_2099"


@pytest.mark.parametrize(
    ("body", "status", "headers", "error"),
    [
        ("error_190.json", 400, {}, AuthExpired),
        ("error_10.json", 400, {}, PermissionMissing),
        (
            "error_32.json",
            400,
            {
                "X-Business-Use-Case-Usage": json.dumps(
                    {
                        PAGE: [
                            {
                                "type": "pages",
                                "call_count": 100,
                                "total_cputime": 20,
                                "total_time": 30,
                                "estimated_time_to_regain_access": 12,
                            }
                        ]
                    }
                )
            },
            RateLimited,
        ),
        ("error_100_33.json", 400, {}, CommentGone),
    ],
)
@responses.activate
def test_graph_errors_map_onto_modbot_errors(body, status, headers, error):
    responses.add(
        responses.POST, f"{BASE}/1001_2003", json=fixture(body), status=status, headers=headers
    )
    with pytest.raises(error) as info:
        connector().apply(Hide("1001_2003"))
    if error is RateLimited:
        assert info.value.retry_after == 720
    if error is PermissionMissing:
        assert info.value.permission == "pages_read_engagement"
    assert TOKEN not in str(info.value)


@pytest.mark.parametrize(
    "reply",
    [
        {
            "body": "<html><body>502 Bad Gateway</body></html>",
            "status": 502,
            "content_type": "text/html",
        },
        {"body": "<html>Too Many Requests</html>", "status": 429, "content_type": "text/html"},
        {"body": '{"data": [{"id": "1001_', "status": 200, "content_type": "application/json"},
        {"body": requests.exceptions.ReadTimeout("read timed out")},
    ],
)
@responses.activate
def test_transport_failures_are_transient(reply):
    responses.add(responses.GET, f"{BASE}/{PAGE}/published_posts", **reply)
    with pytest.raises(TransientError):
        connector().fetch(None)


@responses.activate
def test_through_the_pipeline_errors_keep_the_cursor_and_update_health(tmp_path, rules_only):
    pipeline, _settings, key = facebook_pipeline(tmp_path, rules_only)
    serve_reads(responses)
    responses.add(responses.POST, f"{BASE}/1001_2003", json={"success": True})
    responses.add(responses.POST, f"{BASE}/{PAGE}_1001/comments", json={"id": "1001_2099"})
    [report] = pipeline.run_once()
    assert report.health == "ok" and report.processed == 4
    cursor = pipeline.store.accounts.cursor(key)
    assert json.loads(cursor)["newest"] == "2026-11-16T16:30:00+0000"
    hides = [
        c
        for c in responses.calls
        if c.request.method == "POST" and urlparse(c.request.url).path.endswith("/1001_2003")
    ]
    assert len(hides) == 1
    responses.reset()
    responses.add(
        responses.GET, f"{BASE}/{PAGE}/published_posts", json=fixture("error_190.json"), status=400
    )
    [report] = pipeline.run_once()
    account = pipeline.store.db["accounts"].get(key)
    assert report.health == "auth_expired" and account["health"] == "auth_expired"
    assert account["cursor"] == cursor
    assert TOKEN not in (account["last_error"] or "")


@responses.activate
def test_base_url_points_the_sdk_at_another_host():
    serve_reads(responses, base="http://127.0.0.1:9/v21.0")
    result = connector("http://127.0.0.1:9").fetch(None)
    assert len(result.comments) == 4
    assert all(c.request.url.startswith("http://127.0.0.1:9/") for c in responses.calls)


def test_run_once_against_a_local_graph_server(tmp_path):
    """`modbot run --once` with the account's api_base_url pointed at a local HTTP server."""
    import subprocess
    import sys
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from tests.conftest import write_config

    seen: list[tuple[str, str, str]] = []

    class Graph(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _reply(self, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            path = urlparse(self.path).path
            seen.append(("GET", path, ""))
            if path.endswith("/published_posts"):
                self._reply(fixture("posts_page2.json"))
            elif path.endswith("_1000/comments"):
                self._reply(fixture("comments_1001.json"))
            else:
                self._reply(fixture("empty.json"))

        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length).decode()
            path = urlparse(self.path).path
            seen.append(("POST", path, body))
            self._reply({"id": "1000_9999"} if path.endswith("/comments") else {"success": True})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Graph)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        cfg = write_config(tmp_path)
        account = (
            f'[[accounts]]\nplatform = "facebook"\naccount_id = "{PAGE}"\n'
            f'display_name = "LKS"\nmode = "enforce"\n'
            f'token_env = "MODBOT_TEST_FB_TOKEN"\n'
            f'api_base_url = "http://127.0.0.1:{server.server_port}"\n'
        )
        text = re.sub(
            r'\[\[accounts\]\]\nplatform = "sandbox"\n(?:[^\n]+\n)*?scenario = [^\n]+\n',
            account,
            cfg.read_text(),
            count=1,
        )
        cfg.write_text(text)
        env = {"MODBOT_TEST_FB_TOKEN": TOKEN, "PATH": "/usr/bin:/bin"}
        result = subprocess.run(
            [sys.executable, "-m", "bot", "--config", str(cfg), "run", "--once"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr
    posts = [s for s in seen if s[0] == "POST"]
    assert ("POST", "/v21.0/1001_2003", f"is_hidden=true&access_token={TOKEN}") in posts
    assert any(p[1] == f"/v21.0/{PAGE}_1000/comments" and "message=" in p[2] for p in posts)
    assert TOKEN not in result.stderr and TOKEN not in result.stdout


DEBUG_TOKEN = {
    "data": {
        "app_id": "1234567890",
        "type": "PAGE",
        "application": "modbot for LKS",
        "expires_at": 0,
        "is_valid": True,
        "profile_id": PAGE,
        "scopes": ["pages_show_list", "pages_read_engagement", "pages_read_user_content"],
        "user_id": "100000000000001",
    }
}
APP_SECRET = "0123456789abcdef0123456789abcdef"


@responses.activate
def test_accounts_check_asks_debug_token_with_the_app_token():
    from connectors.accounts_check import app_token, check

    responses.add(responses.GET, f"{BASE}/me", json={"id": PAGE, "name": "Little Kinvaston"})
    responses.add(responses.GET, f"{BASE}/debug_token", json=DEBUG_TOKEN)
    app = app_token({"MODBOT_META_APP_ID": "1234567890", "MODBOT_META_APP_SECRET": APP_SECRET})
    report = check(connector(), app)
    assert report.owner == f"Little Kinvaston (id {PAGE})"
    assert report.missing == {"pages_manage_engagement"} and not report.ok
    query = parse_qs(urlparse(responses.calls[1].request.url).query)
    assert query["input_token"] == [TOKEN]  # the Page token is inspected...
    assert query["access_token"] == [f"1234567890|{APP_SECRET}"]  # ...with the app's token
    assert APP_SECRET not in report.problem + report.note + report.owner


@responses.activate
def test_accounts_check_without_an_app_token_says_permissions_were_not_checked():
    from connectors.accounts_check import app_token, check

    responses.add(responses.GET, f"{BASE}/me", json={"id": PAGE, "name": "Little Kinvaston"})
    report = check(connector(), app_token({}))
    assert report.ok and "permissions not checked" in report.note
    assert "MODBOT_META_APP_ID" in report.note
    assert [urlparse(c.request.url).path for c in responses.calls] == ["/v21.0/me"]


@responses.activate
def test_accounts_check_reports_an_invalid_or_rejected_token():
    from connectors.accounts_check import check

    responses.add(responses.GET, f"{BASE}/me", json={"id": PAGE, "name": "LKS"})
    responses.add(
        responses.GET,
        f"{BASE}/debug_token",
        json={
            "data": {
                "app_id": "1234567890",
                "is_valid": False,
                "error": {"code": 190, "message": "The session was invalidated.", "subcode": 460},
                "scopes": [],
            }
        },
    )
    report = check(connector(), "1234567890|" + APP_SECRET)
    assert not report.ok and "not valid" in report.problem
    responses.reset()
    echoed = json.loads(json.dumps(fixture("error_190.json")))
    echoed["error"]["message"] = f"Malformed access token {TOKEN}"
    responses.add(responses.GET, f"{BASE}/me", json=echoed, status=400)
    report = check(connector())
    assert "Graph API error 190" in report.problem and TOKEN not in report.problem


@responses.activate
def test_ban_blocks_the_author_from_the_page():
    responses.add(responses.POST, f"{BASE}/{PAGE}/blocked", json={"100000000000009": True})
    ref = connector().apply(Ban("1001_2003", author_id="100000000000009"))
    assert ref == "100000000000009"
    assert parse_qs(responses.calls[0].request.body)["user"] == ["100000000000009"]


@responses.activate
def test_a_ban_facebook_did_not_confirm_is_an_error():
    from bot.core.errors import ConnectorError

    responses.add(responses.POST, f"{BASE}/{PAGE}/blocked", json={"100000000000009": False})
    with pytest.raises(ConnectorError, match="did not block"):
        connector().apply(Ban("1001_2003", author_id="100000000000009"))


ERROR_CASES = [
    ({"json": fixture("error_190.json"), "status": 400}, "auth_expired", True),
    ({"json": fixture("error_10.json"), "status": 400}, "permission_missing", True),
    ({"json": fixture("error_32.json"), "status": 400}, "failing", False),
    (
        {"body": "<html>Too Many Requests</html>", "status": 429, "content_type": "text/html"},
        "failing",
        False,
    ),
    ({"body": "<html>502</html>", "status": 502, "content_type": "text/html"}, "failing", False),
    (
        {"body": '{"data": [{"id"', "status": 200, "content_type": "application/json"},
        "failing",
        False,
    ),
    ({"body": requests.exceptions.ReadTimeout("timed out")}, "failing", False),
]


@pytest.mark.parametrize(("reply", "health", "people_told"), ERROR_CASES)
@responses.activate
def test_each_error_ends_in_the_right_state(tmp_path, rules_only, reply, health, people_told):
    pipeline, settings, key = facebook_pipeline(tmp_path, rules_only)
    serve_reads(responses)
    responses.add(responses.POST, f"{BASE}/1001_2003", json={"success": True})
    responses.add(responses.POST, f"{BASE}/{PAGE}_1001/comments", json={"id": "1001_2099"})
    pipeline.run_once()
    cursor = pipeline.store.accounts.cursor(key)
    comments_before = pipeline.store.rows("select count(*) n from comments")[0]["n"]
    responses.reset()
    responses.add(responses.GET, f"{BASE}/{PAGE}/published_posts", **reply)
    pipeline.run_once()
    pipeline.run_once()  # a second failure: still one alert per episode
    account = pipeline.store.db["accounts"].get(key)
    assert account["health"] == health and account["cursor"] == cursor
    assert account["failures"] == 2
    assert pipeline.store.rows("select count(*) n from comments")[0]["n"] == comments_before
    alerts = pipeline.store.rows("select recipient from outbox where kind = 'account'")
    if people_told:
        names = {a.name for a in settings.administrators} | {settings.dsl.name}
        assert sorted(a["recipient"] for a in alerts) == sorted(names)
    else:
        assert alerts == []
    assert TOKEN not in json.dumps(pipeline.store.rows("select * from audit"))


@responses.activate
def test_an_edited_comment_is_classified_again(tmp_path, rules_only):
    pipeline, _settings, _key = facebook_pipeline(tmp_path, rules_only)
    serve_reads(responses)
    responses.add(responses.POST, f"{BASE}/1001_2003", json={"success": True})
    responses.add(responses.POST, f"{BASE}/{PAGE}_1001/comments", json={"id": "1001_2099"})
    responses.add(responses.POST, f"{BASE}/1001_2001", json={"success": True})
    pipeline.run_once()
    assert pipeline.store.rows("select action from decisions where comment_id = '1001_2001'") == [
        {"action": "respond"}
    ]
    edited = fixture("comments_1001.json")
    edited["data"][2]["message"] = "When is pick up? you useless f u c k i n g idiots"
    responses.replace(responses.GET, f"{BASE}/{PAGE}_1001/comments", json=edited)
    pipeline.run_once()
    actions = pipeline.store.rows(
        "select action from decisions where comment_id = '1001_2001' order by id"
    )
    assert [a["action"] for a in actions] == ["respond", "hide"]
    assert any(
        c.request.method == "POST" and c.request.url.endswith("/1001_2001") for c in responses.calls
    )
