"""The accounts being watched: each one's cursor, health, and when it may be polled next.

Health comes from every platform call, a read or an action: `failed(key, error)` is the one
way in, and it decides the end state from the error's type:

- AuthExpired -> `auth_expired`, PermissionMissing -> `permission_missing`: a person must act.
  Polling continues at the normal interval (reads may still work, and a fix is seen at once).
- RateLimited -> `failing`, not polled again before the platform's `retry_after`.
- anything else -> `failing`, polled again after an exponential backoff with jitter, capped.

`new_episode` says when the health changed, which is when people are told (once per episode).
Only a poll in which nothing failed (`succeeded(key, mark)`) makes an account `ok` again.
Every stored error goes through `redact`: a token echoed by a platform is never stored."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlite_utils

from bot.core.clock import iso
from bot.core.errors import AuthExpired, ConnectorError, PermissionMissing, RateLimited
from bot.core.redact import redact
from bot.store.records import record_from_row
from bot.store.scrub import stored_text

if TYPE_CHECKING:
    from bot.store.db import Store

OK = "ok"
FAILING = "failing"
AUTH_EXPIRED = "auth_expired"
PERMISSION_MISSING = "permission_missing"
NEEDS_PERSON = frozenset({AUTH_EXPIRED, PERMISSION_MISSING})

BACKOFF_BASE = 60.0  # seconds after the first transient failure (before jitter)
BACKOFF_CAP = 3600.0  # never more than an hour between tries of a failing account
MAX_WAIT = 24 * 3600.0  # a platform's retry_after beyond this is not believed


def migrate_account_backoff(db: sqlite_utils.Database) -> None:
    """Migration 4: when an account may be polled next, and how long that wait was (so a wall
    clock that steps back cannot stretch it). Errors stored before redaction are scrubbed."""
    for statement in (
        "ALTER TABLE accounts ADD COLUMN next_poll_at TEXT",
        "ALTER TABLE accounts ADD COLUMN retry_delay REAL",
        "ALTER TABLE accounts ADD COLUMN last_failed_at TEXT",
    ):
        db.execute(statement)
    for key, error in db.execute(
        "SELECT key, last_error FROM accounts WHERE last_error IS NOT NULL"
    ).fetchall():
        db.execute("UPDATE accounts SET last_error = ? WHERE key = ?", [redact(error), key])


def health_of(error: BaseException) -> str:
    if isinstance(error, AuthExpired):
        return AUTH_EXPIRED
    if isinstance(error, PermissionMissing):
        return PERMISSION_MISSING
    return FAILING


def backoff(failures: int, rng: Callable[[], float] = random.random) -> float:
    """Seconds to wait after `failures` transient failures in a row: doubling from a minute,
    capped at an hour, with "equal jitter" (between half and all of it) so accounts that
    failed together do not retry together."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(failures - 1, 0))
    return ceiling / 2 + rng() * ceiling / 2


def describe(error: BaseException) -> str:
    """The error as stored and shown: redacted and bounded."""
    text = str(error) if isinstance(error, ConnectorError) else f"{type(error).__name__}: {error}"
    return stored_text(text)


@dataclass(frozen=True)
class AccountState:
    key: str
    platform: str
    account_id: str
    display_name: str
    cursor: str | None
    health: str
    failures: int
    last_poll_at: datetime | None
    last_ok_at: datetime | None
    last_failed_at: datetime | None
    last_error: str | None
    next_poll_at: datetime | None
    retry_delay: float | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> AccountState:
        state: AccountState = record_from_row(
            cls, row, health=row["health"] or OK, failures=row["failures"] or 0
        )
        return state

    @property
    def needs_person(self) -> bool:
        return self.health in NEEDS_PERSON


@dataclass(frozen=True)
class Failure:
    """What `failed` recorded, for the caller to act on."""

    health: str
    failures: int  # in a row, reads and actions alike
    next_poll_at: datetime | None  # None: the normal interval
    new_episode: bool  # the health changed with this failure: tell people now (if needs_person)
    error: str  # redacted, as stored

    @property
    def needs_person(self) -> bool:
        return self.health in NEEDS_PERSON

    @property
    def alert(self) -> bool:
        """Tell the administrators and the DSL: a person must act, and they have not been told
        about this episode yet."""
        return self.needs_person and self.new_episode


class Accounts:
    """The accounts table. Takes the Store (for its connection and clock)."""

    def __init__(self, store: Store, rng: Callable[[], float] = random.random):
        self.store = store
        self.rng = rng

    # --- reading ---------------------------------------------------------------------------
    def get(self, key: str) -> AccountState | None:
        rows = self.store.rows("SELECT * FROM accounts WHERE key = ?", [key])
        return AccountState.from_row(rows[0]) if rows else None

    def all(self) -> list[AccountState]:
        return [AccountState.from_row(r) for r in self.store.rows("SELECT * FROM accounts")]

    def cursor(self, key: str) -> str | None:
        state = self.get(key)
        return state.cursor if state else None

    def mark(self, key: str) -> int:
        """A token for `succeeded`: the failure count before a poll starts."""
        state = self.get(key)
        return state.failures if state else 0

    def wait_seconds(self, key: str, now: datetime | None = None) -> float:
        """Seconds before the account may be polled; 0 when due. A wall clock that stepped
        back can never make the wait longer than the delay that was set."""
        state = self.get(key)
        if state is None or state.next_poll_at is None:
            return 0.0
        now = now or self.store.now()
        wait = (state.next_poll_at - now).total_seconds()
        if state.retry_delay is not None and wait > state.retry_delay:
            # the clock stepped back since the wait was set: count it again from now
            wait = state.retry_delay
            self.store.db.execute(
                "UPDATE accounts SET next_poll_at = ? WHERE key = ?",
                [iso(now + timedelta(seconds=wait)), key],
            )
        return max(0.0, wait)

    def due(self, key: str, now: datetime | None = None) -> bool:
        return self.wait_seconds(key, now) <= 0

    # --- writing ---------------------------------------------------------------------------
    def ensure(self, key: str, platform: str, account_id: str, display_name: str) -> AccountState:
        self.store.db.execute(
            "INSERT INTO accounts (key, platform, account_id, display_name, health, failures) "
            "VALUES (?, ?, ?, ?, 'ok', 0) ON CONFLICT (key) DO NOTHING",
            [key, platform, account_id, display_name],
        )
        state = self.get(key)
        assert state is not None
        return state

    def save_cursor(self, key: str, cursor: str | None) -> None:
        """After each page is safely stored, so a crash re-reads at most one page."""
        self.store.db.execute("UPDATE accounts SET cursor = ? WHERE key = ?", [cursor, key])

    def fetched(self, key: str, cursor: str | None) -> None:
        """The read part of a poll worked: the cursor moves. Health waits for `succeeded`,
        because an action may still fail in this poll."""
        self.store.db.execute(
            "UPDATE accounts SET cursor = ?, last_poll_at = ? WHERE key = ?",
            [cursor, iso(self.store.now()), key],
        )

    def succeeded(self, key: str, mark: int | None = None) -> bool:
        """Nothing failed since `mark` (from `mark()` at the start of the poll): the account is
        `ok` again, its backoff cleared. Returns False (and changes nothing) when something
        failed meanwhile, so an action refused in this poll keeps the account's health."""
        now = iso(self.store.now())
        row = self.store.db.execute(
            "UPDATE accounts SET health = 'ok', failures = 0, last_poll_at = ?, last_ok_at = ?, "
            "last_error = NULL, next_poll_at = NULL, retry_delay = NULL "
            "WHERE key = ? AND (? IS NULL OR failures = ?) RETURNING key",
            [now, now, key, mark, mark],
        ).fetchone()
        return row is not None

    def poll_succeeded(self, key: str, cursor: str | None) -> None:
        """A whole poll worked (read and act): cursor and health at once."""
        self.fetched(key, cursor)
        self.succeeded(key)

    def failed(self, key: str, error: BaseException) -> Failure:
        """Record a failed platform call (read or action) and decide the account's end state
        from the error. See the module docstring for the table."""
        health = health_of(error)
        message = describe(error)
        now = self.store.now()
        with self.store.db.atomic():
            before = self.get(key)
            failures = (before.failures if before else 0) + 1
            delay: float | None = None
            if isinstance(error, RateLimited) and error.retry_after:
                delay = min(max(float(error.retry_after), 1.0), MAX_WAIT)
            elif health == FAILING:
                delay = backoff(failures, self.rng)
            next_poll = now + timedelta(seconds=delay) if delay is not None else None
            self.store.db.execute(
                "UPDATE accounts SET health = ?, failures = ?, last_poll_at = ?, "
                "last_failed_at = ?, last_error = ?, next_poll_at = ?, retry_delay = ? "
                "WHERE key = ?",
                [
                    health,
                    failures,
                    iso(now),
                    iso(now),
                    message,
                    iso(next_poll) if next_poll else None,
                    delay,
                    key,
                ],
            )
        previous = before.health if before else OK
        return Failure(health, failures, next_poll, previous != health, message)

    def resume(self, key: str, by: str) -> bool:
        """A person asks for the next poll now (after fixing a token, or to stop a backoff).
        Audited. False when the account is unknown."""
        row = self.store.db.execute(
            "UPDATE accounts SET next_poll_at = NULL, retry_delay = NULL WHERE key = ? "
            "RETURNING key",
            [key],
        ).fetchone()
        if row is None:
            return False
        self.store.audit("account.resumed", actor=by, platform=key.split(":", 1)[0], account=key)
        return True
