"""The one scrubbing boundary: every text that leaves a connector, the store's account errors,
emails and CLI output pass through `redact`, so a token a platform echoes back goes nowhere.

Two nets: every secret modbot reads is registered here and removed wherever it appears; and
anything shaped like a credential is removed even if nobody registered it (Graph tokens
`EAA...`, X app bearer tokens `AAAA...`, `access_token=...`, `Bearer ...`, `app_id|secret`
app tokens, `appsecret_proof`, and long base64 or hex values in query strings)."""

from __future__ import annotations

import re
import threading
from urllib.parse import quote

REDACTED = "[REDACTED]"
_MIN_SECRET = 6  # shorter values would redact ordinary words
_lock = threading.Lock()
_secrets: set[str] = set()

_SECRET_PARAM = (
    r"access_token|input_token|appsecret_proof|app_secret|client_secret|refresh_token"
    r"|oauth_token|oauth_token_secret|oauth_signature|verify_token|hub\.verify_token|token"
)
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # key=value in query strings and form bodies, and "key": "value" in JSON
    (re.compile(rf"(?i)\b({_SECRET_PARAM})=[^&\s\"'<>]+"), rf"\1={REDACTED}"),
    (re.compile(rf"(?i)(\"(?:{_SECRET_PARAM})\"\s*:\s*\")[^\"]*\""), rf'\1{REDACTED}"'),
    # Authorization headers
    (re.compile(r"(?i)\b(Bearer|OAuth)\s+[A-Za-z0-9._~+/%=-]{8,}"), rf"\1 {REDACTED}"),
    # Graph user, Page and system-user tokens
    (re.compile(r"\bEAA[A-Za-z0-9_-]{12,}"), REDACTED),
    # X app-only bearer tokens (percent-encoded base64 after a run of As)
    (re.compile(r"\bA{12,}[A-Za-z0-9%_.+/=-]{8,}"), REDACTED),
    # Graph app tokens: app id | app secret (32 hex)
    (re.compile(r"\b\d{6,}(?:\||%7C)[A-Za-z0-9_-]{16,}"), REDACTED),
    # long opaque values in query strings (cursor-like base64 or hex): never worth showing
    (
        re.compile(r"([?&][A-Za-z_.]+=)(?=[A-Za-z0-9+/%_.=-]*[A-Za-z])[A-Za-z0-9+/%_.=-]{40,}"),
        rf"\1{REDACTED}",
    ),
]


def register_secret(value: str | None) -> None:
    """Remember a secret (a token, an app secret) so it is removed wherever it appears."""
    if value and len(value) >= _MIN_SECRET:
        with _lock:
            _secrets.add(value)
            _secrets.add(quote(value, safe=""))  # as it appears inside a URL


def redact(text: object) -> str:
    """`text` with every registered secret and anything shaped like a credential removed."""
    text = text if isinstance(text, str) else str(text)
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)  # longest first: no partial leftovers
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text
