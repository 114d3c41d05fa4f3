"""Meta webhooks: the verify-token handshake, X-Hub-Signature-256, and a signed delivery that
gets the comment hidden before the test looks (the Graph API stand-in has received the Hide by
the time the request and its background work have returned); unsigned ones are refused and
audited. The app, pipeline, store and connectors are the real ones."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import responses
from starlette.testclient import TestClient

from bot.app import build_pipeline
from bot.config.settings import EXAMPLE_CONFIG, parse_settings
from bot.faces.webhooks import PATH, SIGNATURE_HEADER, WebhookSettings, create_app, signature
from connectors.graph_http import GraphSession
from connectors.instagram import InstagramConnector
from tests.conftest import example_data
from tests.test_connector_errors import GRAPH, NOW, PAGE, Clock, pipeline_for

APP_SECRET = "f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8"
VERIFY = "lks-verify-7f3a9"
IG_USER = "17841400000000000"
TOXIC = "you are all useless f****** idiots, k1ll yourselves"


def page_delivery(comment_id: str, message: str, author: str = "100000000000009", verb="add"):
    """A Page `feed` change for a comment, as Meta documents it."""
    return {
        "object": "page",
        "entry": [
            {
                "id": PAGE,
                "time": int(NOW.timestamp()),
                "changes": [
                    {
                        "field": "feed",
                        "value": {
                            "from": {"id": author, "name": "Someone"},
                            "post": {"status_type": "added_photos", "is_published": True},
                            "message": message,
                            "post_id": f"{PAGE}_1001",
                            "comment_id": comment_id,
                            "created_time": int(NOW.timestamp()),
                            "item": "comment",
                            "parent_id": f"{PAGE}_1001",
                            "verb": verb,
                        },
                    }
                ],
            }
        ],
    }


def signed(body: bytes) -> dict[str, str]:
    return {SIGNATURE_HEADER: signature(APP_SECRET, body), "Content-Type": "application/json"}


def hides(comment_id: str) -> list:
    return [
        c
        for c in responses.calls
        if c.request.method == "POST"
        and c.request.url.split("?")[0].endswith(f"/{comment_id}")
        and "is_hidden=true" in (c.request.body or "")
    ]


@pytest.fixture
def page(tmp_path, rules_only):
    pipeline, _settings, _key, _clock = pipeline_for(tmp_path, rules_only, "facebook")
    return pipeline, TestClient(create_app(pipeline, APP_SECRET, VERIFY))


def test_the_verify_token_handshake(page):
    _pipeline, client = page
    ok = client.get(
        PATH,
        params={"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"},
    )
    assert (ok.status_code, ok.text) == (200, "1158201444")
    wrong = client.get(
        PATH, params={"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"}
    )
    assert wrong.status_code == 403 and "1" not in wrong.text


@responses.activate
def test_a_signed_delivery_is_hidden_before_the_request_is_done(page):
    pipeline, client = page
    responses.add(responses.POST, f"{GRAPH}/1001_5001", json={"success": True})
    responses.add(responses.POST, f"{GRAPH}/{PAGE}_1001/comments", json={"id": "1001_5099"})
    body = json.dumps(page_delivery("1001_5001", TOXIC)).encode()
    reply = client.post(PATH, content=body, headers=signed(body))
    assert reply.status_code == 200
    # the request (and the work it handed over) has returned: the Hide has reached the Graph
    # API, with no read of the platform at all
    assert len(hides("1001_5001")) == 1
    assert not [c for c in responses.calls if c.request.method == "GET"]
    assert pipeline.store.comment_row("facebook", "1001_5001")["status"] == "done"
    # Meta retries deliveries: the same one again changes nothing and hides nothing twice
    client.post(PATH, content=body, headers=signed(body))
    assert len(hides("1001_5001")) == 1


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Content-Type": "application/json"}, "no signature"),
        ({SIGNATURE_HEADER: "sha256=" + "0" * 64}, "signature does not match"),
        ({SIGNATURE_HEADER: "sha1=abc"}, "signature does not match"),
    ],
)
@responses.activate
def test_an_unsigned_or_forged_delivery_is_refused_and_audited(page, headers, reason):
    pipeline, client = page
    body = json.dumps(page_delivery("1001_5002", TOXIC)).encode()
    reply = client.post(PATH, content=body, headers=headers)
    assert reply.status_code == 403
    assert pipeline.store.comment_row("facebook", "1001_5002") is None
    assert len(responses.calls) == 0
    [audit] = pipeline.store.rows("SELECT actor, detail FROM audit WHERE event = 'webhook.refused'")
    assert audit["actor"] == "webhook" and json.loads(audit["detail"])["reason"] == reason
    assert TOXIC not in audit["detail"]  # the body is not kept, only its hash


@responses.activate
def test_a_signature_over_other_bytes_is_refused(page):
    _pipeline, client = page
    body = json.dumps(page_delivery("1001_5003", TOXIC)).encode()
    tampered = body.replace(b"1001_5003", b"1001_5004")
    assert client.post(PATH, content=tampered, headers=signed(body)).status_code == 403


@responses.activate
def test_the_pages_own_comments_and_other_changes_are_ignored(page):
    pipeline, client = page
    deliveries = [
        page_delivery("1001_5005", "Thanks, we will have a look", author=PAGE),
        page_delivery("1001_5006", TOXIC, verb="remove"),
        {"object": "page", "entry": [{"id": "999", "changes": []}]},  # not our Page
        {"object": "user", "entry": []},
    ]
    for delivery in deliveries:
        body = json.dumps(delivery).encode()
        assert client.post(PATH, content=body, headers=signed(body)).status_code == 200
    assert pipeline.store.rows("SELECT count(*) AS n FROM comments")[0]["n"] == 0
    assert len(responses.calls) == 0


@responses.activate
def test_an_edited_comment_is_classified_again(page):
    _pipeline, client = page
    responses.add(responses.POST, f"{GRAPH}/1001_5007", json={"success": True})
    responses.add(responses.POST, f"{GRAPH}/{PAGE}_1001/comments", json={"id": "1001_5098"})
    first = json.dumps(page_delivery("1001_5007", "What time is the concert?")).encode()
    client.post(PATH, content=first, headers=signed(first))
    assert hides("1001_5007") == []
    edited = json.dumps(page_delivery("1001_5007", TOXIC, verb="edited")).encode()
    client.post(PATH, content=edited, headers=signed(edited))
    assert len(hides("1001_5007")) == 1


@responses.activate
def test_an_instagram_delivery_is_hidden_and_our_own_comment_skipped(tmp_path, rules_only):
    clock = Clock()
    data = example_data()
    data["accounts"] = [
        {
            "platform": "instagram",
            "account_id": IG_USER,
            "display_name": "LKS Instagram",
            "mode": "enforce",
            "token_env": "MODBOT_TEST_TOKEN",
        }
    ]
    settings = parse_settings(data, EXAMPLE_CONFIG, environ={"MODBOT_TEST_TOKEN": "EAAIGtest"})
    connector = InstagramConnector(IG_USER, "EAAIGtest", GraphSession(timeout=5), clock=clock)
    pipeline, _ = build_pipeline(
        settings,
        tmp_path / "m.db",
        clock=clock,
        connectors={settings.accounts[0].key: connector},
        classifiers=rules_only,
        outbox=tmp_path / "outbox",
    )
    client = TestClient(create_app(pipeline, APP_SECRET, VERIFY))
    responses.add(responses.GET, f"{GRAPH}/{IG_USER}", json={"username": "littlekinvaston"})
    responses.add(responses.POST, f"{GRAPH}/17850000000000031", json={"success": True})
    responses.add(
        responses.POST, f"{GRAPH}/17900000000000001/comments", json={"id": "17850000000000099"}
    )

    def change(comment_id: str, username: str, text: str) -> dict:
        return {
            "field": "comments",
            "value": {
                "from": {"id": "8123456789012345", "username": username},
                "media": {"id": "17900000000000001", "media_product_type": "FEED"},
                "id": comment_id,
                "text": text,
            },
        }

    delivery = {
        "object": "instagram",
        "entry": [
            {
                "id": IG_USER,
                "time": int((NOW + timedelta(minutes=1)).timestamp()),
                "changes": [
                    change("17850000000000031", "hater_99", TOXIC),
                    change("17850000000000032", "LittleKinvaston", "Thank you for coming!"),
                ],
            }
        ],
    }
    body = json.dumps(delivery).encode()
    assert client.post(PATH, content=body, headers=signed(body)).status_code == 200
    hide = [
        c for c in responses.calls if c.request.url.split("?")[0].endswith("/17850000000000031")
    ]
    assert len(hide) == 1 and "hide=true" in hide[0].request.body
    assert pipeline.store.comment_row("instagram", "17850000000000032") is None


def test_settings_come_from_the_environment_and_are_registered_as_secrets():
    from bot.core.errors import ConfigError
    from bot.core.redact import redact

    assert WebhookSettings.from_env({}) is None
    with pytest.raises(ConfigError, match="MODBOT_WEBHOOK_VERIFY_TOKEN"):
        WebhookSettings.from_env({"MODBOT_WEBHOOK_PORT": "8443"})
    found = WebhookSettings.from_env(
        {
            "MODBOT_WEBHOOK_PORT": "8443",
            "MODBOT_META_APP_SECRET": APP_SECRET,
            "MODBOT_WEBHOOK_VERIFY_TOKEN": VERIFY,
        }
    )
    assert found == WebhookSettings(APP_SECRET, VERIFY, 8443, "127.0.0.1")
    assert APP_SECRET not in redact(f"secret {APP_SECRET}") and VERIFY not in redact(VERIFY)


@responses.activate
def test_a_delivery_that_is_not_json_or_not_usable_is_answered_and_left_to_polling(page):
    pipeline, client = page
    garbage = b"not json"
    assert client.post(PATH, content=garbage, headers=signed(garbage)).status_code == 400
    odd = json.dumps(
        {
            "object": "page",
            "entry": [
                {
                    "id": PAGE,
                    "changes": [
                        {
                            "field": "feed",
                            "value": {"item": "comment", "verb": "add"},
                        }  # no ids at all
                    ],
                }
            ],
        }
    ).encode()
    assert client.post(PATH, content=odd, headers=signed(odd)).status_code == 200
    assert pipeline.store.rows("SELECT count(*) AS n FROM comments")[0]["n"] == 0
