"""One-click acknowledgement links: HMAC-signed, expiring, single-purpose.

A token is `payload.signature`: the payload (base64url JSON) names the item, the purpose
("ack"), the recipient and the expiry; the signature is HMAC-SHA256 with a secret from the
environment (or, for a local install, a file readable only by the service). The secret is
never logged or stored in the database."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from bot.core.errors import ModbotError
from bot.core.files import write_private
from bot.core.logs import register_secret


class LinkRefused(ModbotError):
    """A forged, altered, expired or wrong-purpose link."""


@dataclass(frozen=True)
class LinkClaim:
    item_id: int
    purpose: str
    recipient: str
    expires: datetime


def load_secret(env_name: str, fallback_file: Path) -> bytes:
    value = os.environ.get(env_name)
    if not value:
        if not fallback_file.exists():
            write_private(fallback_file, secrets.token_urlsafe(32), exclusive=True)
        value = fallback_file.read_text().strip()
    register_secret(value)
    return value.encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(
    secret: bytes,
    item_id: int,
    recipient: str,
    now: datetime,
    valid: timedelta,
    purpose: str = "ack",
) -> str:
    payload = _b64(
        json.dumps(
            {"i": item_id, "p": purpose, "r": recipient, "e": int((now + valid).timestamp())},
            sort_keys=True,
        ).encode()
    )
    signature = hmac.new(secret, payload.encode(), hashlib.sha256).hexdigest()
    return f"{payload}.{signature}"


def verify(secret: bytes, token: str, now: datetime, purpose: str = "ack") -> LinkClaim:
    """The claim a link makes, or LinkRefused saying why not. Never anything else: whatever
    arrives in a URL (non-ASCII, truncated, not base64, not JSON) is a refusal, not a crash."""
    try:
        payload, signature = token.split(".")
    except ValueError:
        raise LinkRefused("malformed link") from None
    expected = hmac.new(secret, payload.encode("utf-8", "surrogateescape"), hashlib.sha256)
    given = signature.encode("utf-8", "surrogateescape")
    if not hmac.compare_digest(expected.hexdigest().encode(), given):
        raise LinkRefused("forged or altered link")
    try:
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        claimed, expires_at = int(data["i"]), int(data["e"])
    except (ValueError, KeyError, TypeError):
        raise LinkRefused("malformed link") from None
    if data.get("p") != purpose:
        raise LinkRefused(f"this link is for {data.get('p')!r}, not {purpose!r}")
    expires = datetime.fromtimestamp(expires_at, tz=now.tzinfo)
    if now >= expires:
        raise LinkRefused("expired link")
    return LinkClaim(claimed, data["p"], str(data.get("r", "")), expires)
