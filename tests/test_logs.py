"""Tokens never reach the logs, however they are passed."""

import io
import json

import structlog

from bot.core.logs import REDACTED, configure, register_secret


def test_secrets_are_scrubbed_from_every_log_value():
    stream = io.StringIO()
    configure(json_output=True, level="INFO", stream=stream)
    token = "EAAB-very-secret-page-token-123"
    register_secret(token)
    log = structlog.get_logger("test")
    log.info("calling platform", url=f"https://example.invalid/v21.0/me?access_token={token}")
    log.info("headers", headers={"Authorization": f"Bearer {token}", "Accept": "json"})
    log.info("oops", error=RuntimeError(f"bad token {token}"), items=[token])
    log.info(f"message with {token} inside")
    log.info("unregistered query token", url="https://h/x?access_token=abcdef&x=1")
    out = stream.getvalue()
    assert token not in out
    assert "abcdef" not in out
    records = [json.loads(line) for line in out.splitlines()]
    assert records[1]["headers"] == {"Authorization": REDACTED, "Accept": "json"}
    assert records[1]["headers"]["Accept"] == "json"
    assert len(records) == 5


def test_console_output_when_asked():
    stream = io.StringIO()
    configure(json_output=False, level="INFO", stream=stream)
    structlog.get_logger("t").info("hello", n=1)
    assert "hello" in stream.getvalue() and not stream.getvalue().startswith("{")
