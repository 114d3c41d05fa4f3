"""One rooted exception tree, so callers can catch exactly as much as they mean to.

ModbotError
├── ConfigError            the configuration or a rule file is invalid (lists every problem)
├── ScenarioError          a sandbox scenario cannot be used at all
├── StoreError
│   └── LockHeld           another modbot is already moderating this database
└── ConnectorError         anything a platform connector reports (carries platform + account)
    ├── TransientError     network trouble, 5xx, malformed reply: retry later, keep the cursor
    │   └── RateLimited    the platform asked us to slow down (retry_after seconds, if known)
    ├── AuthExpired        token expired or revoked: stop polling, a person must act
    ├── PermissionMissing  the token lacks a permission (named)
    ├── CommentGone        the comment was deleted on the platform before we acted
    └── Unsupported        the connector cannot carry out this kind of action at all
"""

from __future__ import annotations

from bot.core.redact import redact


class ModbotError(Exception):
    """Root of every error modbot raises on purpose."""


class ConfigError(ModbotError):
    """The configuration is invalid. `problems` holds one "key.path: what is wrong" per line."""

    def __init__(self, problems: list[str] | str, source: str | None = None):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.source = source
        head = f"invalid configuration in {source}" if source else "invalid configuration"
        super().__init__(head + ":\n" + "\n".join(f"  - {p}" for p in self.problems))


class ScenarioError(ModbotError):
    """A sandbox scenario file cannot be read at all (a single bad line is only reported)."""


class StoreError(ModbotError):
    """The database cannot be opened or migrated."""


class LockHeld(StoreError):
    """Another modbot process holds the lock for this database."""


class ConnectorError(ModbotError):
    """Something a platform connector reports. Carries which account it concerns. The message
    is redacted here, once, so a token a platform echoes back never travels further."""

    def __init__(self, message: str, *, platform: str = "", account: str = ""):
        self.platform = platform
        self.account = account
        where = f"[{platform}:{account}] " if platform or account else ""
        super().__init__(redact(where + message))


class TransientError(ConnectorError):
    """A failure that may pass: retry later without losing the cursor."""


class RateLimited(TransientError):
    """The platform asked us to slow down."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: str):
        self.retry_after = retry_after
        super().__init__(message, **kw)


class AuthExpired(ConnectorError):
    """The token was expired or revoked: the account is unwatched until a person fixes it."""


class PermissionMissing(ConnectorError):
    """The token lacks a permission the action needs."""

    def __init__(self, message: str, *, permission: str = "", **kw: str):
        self.permission = permission
        super().__init__(message, **kw)


class CommentGone(ConnectorError):
    """The comment no longer exists on the platform: record it as gone, never retry."""


class Unsupported(ConnectorError):
    """The connector cannot do this kind of action (said loudly, never silently skipped)."""

    def __init__(self, connector: str, action: str, why: str = "", **kw: str):
        self.connector = connector
        self.action = action
        msg = f"{connector} cannot carry out {action}" + (f": {why}" if why else "")
        super().__init__(msg, **kw)
