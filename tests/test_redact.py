"""The one scrubbing boundary: registered secrets and anything shaped like a token are removed,
and ordinary text (ids, words, times) is left alone."""

from __future__ import annotations

import pytest

from bot.core.errors import AuthExpired, ConnectorError, Unsupported
from bot.core.redact import REDACTED, redact, register_secret

GRAPH_TOKEN = "EAAGm0PX4ZCpsBAKZAZBZCZAuM8nTvq1xZBdY2ZAxyZAbcDEF0123456789"
X_BEARER = (
    "AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid%2BULvsea4JtiGRiSDSJSI%3D"
    "EUifiRBkKG5E2XzMDjRfl76ZC9Ub0wnz4XsNiRVBChTYbJcE3F"
)


@pytest.mark.parametrize(
    "text",
    [
        f"Malformed access token {GRAPH_TOKEN}",
        "https://graph.facebook.com/v21.0/me?fields=id&access_token=abc123def456",
        "GET /v21.0/debug_token?input_token=xyz987654&access_token=1234567890|s3cr3tS3cr3tS3cr3tS",
        f"Authorization: Bearer {X_BEARER}",
        "Authorization: Bearer some-opaque-oauth2-user-token-value",
        "the app token 1234567890|0123456789abcdef0123456789abcdef leaked",
        "appsecret_proof=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        '{"access_token": "abc123def456", "token_type": "bearer"}',
        "POST body is_hidden=true&access_token=opaque%2Fvalue",
        "https://h/x?code=QVFIUmQ0bXlsZAkhBUTI4eWtLZAXZApR1h2X1NHcU5qbHNwZA2N5VkZA0ZAmRRbWJ5&y=1",
    ],
)
def test_token_shapes_are_removed(text):
    out = redact(text)
    assert REDACTED in out
    for secret in (
        GRAPH_TOKEN,
        X_BEARER,
        "abc123def456",
        "xyz987654",
        "s3cr3tS3cr3tS3cr3tS",
        "some-opaque-oauth2-user-token-value",
        "0123456789abcdef0123456789abcdef",
        "opaque%2Fvalue",
        "QVFIUmQ0bXlsZAkhBUTI4eWtLZAXZApR1h2X1NHcU5qbHNwZA2N5VkZA0ZAmRRbWJ5",
    ):
        assert secret not in out


def test_registered_secrets_go_wherever_they_appear_even_url_encoded():
    token = "weird/token+with=chars-42"
    register_secret(token)
    assert redact(f"echo: {token}!") == f"echo: {REDACTED}!"
    assert "weird%2Ftoken" not in redact("q?x=weird%2Ftoken%2Bwith%3Dchars-42")


@pytest.mark.parametrize(
    "text",
    [
        "Graph API error 190/460: the password was changed (Error validating access token)",
        "comment 1858000000000000101 on post 123456789012345_1001 at 2026-11-20T12:00:00+00:00",
        "since_id=1858000000000000150&max_results=100",
        "you useless idiots, the token of appreciation was lovely",
        "permission pages_manage_engagement is missing",
    ],
)
def test_ordinary_text_is_left_alone(text):
    assert redact(text) == text


def test_connector_errors_are_redacted_when_made():
    exc = AuthExpired(f"Malformed access token {GRAPH_TOKEN}", platform="facebook", account="1")
    assert GRAPH_TOKEN not in str(exc) and GRAPH_TOKEN not in repr(exc)
    assert GRAPH_TOKEN not in str(ConnectorError(f"x access_token={GRAPH_TOKEN}"))
    refused = Unsupported("x:1", "Ban", f"because Bearer {X_BEARER}")
    assert X_BEARER not in str(refused)


def test_library_logs_go_through_the_same_boundary():
    import io
    import logging

    from bot.core.logs import configure

    stream = io.StringIO()
    configure(json_output=True, level="INFO", stream=stream)
    token = "EAABlibrarylogtoken0123456789abcdef"
    logging.getLogger("tweepy.client").warning("Headers: {'Authorization': 'Bearer %s'}", token)
    logging.getLogger("urllib3").warning("GET /v21.0/me?access_token=%s", token)
    out = stream.getvalue()
    assert "tweepy.client" in out and token not in out
