"""The accounts repository: one end state per kind of failure, exponential backoff with jitter
(capped), a platform's retry_after, episodes, and nothing secret stored."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.errors import (
    AuthExpired,
    ConnectorError,
    PermissionMissing,
    RateLimited,
    TransientError,
)
from bot.store import Store
from bot.store.accounts import BACKOFF_CAP, MAX_WAIT, backoff

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
KEY = "facebook:123"
TOKEN = "EAABwzLixnjYBAOZBZCtestTokenEchoedBack1234567890"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path, clock) -> Store:
    store = Store(tmp_path / "m.db", clock=clock)
    store.accounts.ensure(KEY, "facebook", "123", "LKS")
    return store


def test_backoff_doubles_with_jitter_and_is_capped():
    low, high = (lambda: 0.0), (lambda: 1.0)
    assert [backoff(n, low) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert [backoff(n, high) for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert backoff(30, high) == BACKOFF_CAP and backoff(30, low) == BACKOFF_CAP / 2


def test_repeated_transient_failures_back_off_until_the_cap(store, clock):
    store.accounts.rng = lambda: 1.0
    waits = []
    for _ in range(9):
        failure = store.accounts.failed(KEY, TransientError("HTTP 502"))
        waits.append((failure.next_poll_at - clock.now).total_seconds())
    assert waits == [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]
    assert failure.health == "failing" and failure.failures == 9 and not failure.alert


def test_a_rate_limit_waits_for_the_platforms_time(store, clock):
    failure = store.accounts.failed(KEY, RateLimited("429", retry_after=720))
    assert failure.next_poll_at == NOW + timedelta(seconds=720)
    assert store.accounts.wait_seconds(KEY) == 720 and not store.accounts.due(KEY)
    clock.now = NOW + timedelta(seconds=719)
    assert not store.accounts.due(KEY)
    clock.now = NOW + timedelta(seconds=720)
    assert store.accounts.due(KEY)
    huge = store.accounts.failed(KEY, RateLimited("cap", retry_after=10**9))
    assert (huge.next_poll_at - clock.now).total_seconds() == MAX_WAIT


@pytest.mark.parametrize(
    ("error", "health"),
    [
        (AuthExpired("token revoked"), "auth_expired"),
        (PermissionMissing("needs pages_manage_engagement"), "permission_missing"),
    ],
)
def test_a_person_must_act_polling_continues_and_people_are_told_once(store, error, health):
    first = store.accounts.failed(KEY, error)
    second = store.accounts.failed(KEY, error)
    assert (first.health, first.next_poll_at, first.alert) == (health, None, True)
    assert (second.health, second.alert) == (health, False)  # the same episode
    assert store.accounts.due(KEY)  # polled at the normal interval: a fix is seen at once
    worse = store.accounts.failed(KEY, TransientError("502"))
    assert worse.new_episode and not worse.alert


def test_success_clears_health_only_if_nothing_failed_during_the_poll(store):
    accounts = store.accounts
    accounts.failed(KEY, PermissionMissing("no pages_manage_engagement"))
    mark = accounts.mark(KEY)
    accounts.fetched(KEY, '{"newest": "x"}')
    accounts.failed(KEY, PermissionMissing("no pages_manage_engagement"))  # the hide, again
    assert not accounts.succeeded(KEY, mark)
    assert accounts.get(KEY).health == "permission_missing"
    assert accounts.get(KEY).cursor == '{"newest": "x"}'  # the read still moved on
    mark = accounts.mark(KEY)
    assert accounts.succeeded(KEY, mark)
    state = accounts.get(KEY)
    assert (state.health, state.failures, state.last_error, state.next_poll_at) == (
        "ok",
        0,
        None,
        None,
    )
    assert state.last_ok_at == NOW


def test_a_wall_clock_stepping_back_never_stretches_a_wait(store, clock):
    store.accounts.failed(KEY, RateLimited("429", retry_after=300))
    clock.now = NOW - timedelta(hours=1)  # NTP steps the clock back an hour
    assert store.accounts.wait_seconds(KEY) == 300  # not 3900
    clock.now += timedelta(seconds=300)
    assert store.accounts.due(KEY)


def test_resume_clears_the_wait_and_is_audited(store):
    store.accounts.failed(KEY, RateLimited("429", retry_after=3000))
    assert store.accounts.resume(KEY, "Priya Shah")
    assert store.accounts.due(KEY)
    [row] = store.rows("SELECT actor, event FROM audit WHERE event = 'account.resumed'")
    assert row == {"actor": "Priya Shah", "event": "account.resumed"}
    assert not store.accounts.resume("x:unknown", "Priya Shah")


def test_stored_errors_are_redacted_and_bounded(store, tmp_path):
    error = ConnectorError(f"Malformed access token {TOKEN} " + "x" * 900, platform="facebook")
    store.accounts.failed(KEY, error)
    store.accounts.failed(KEY, ValueError(f"https://h/me?access_token={TOKEN}"))
    state = store.accounts.get(KEY)
    assert TOKEN not in state.last_error and len(state.last_error) <= 500
    store.close()
    for path in tmp_path.glob("m.db*"):
        assert TOKEN.encode() not in path.read_bytes()


def test_migration_4_adds_the_columns_and_scrubs_old_errors(tmp_path):
    """A database from before this change, with a token stored by the old code."""
    from bot.store import db as schema

    path = tmp_path / "old.db"
    old = Store(path)
    old.db.execute("DELETE FROM migrations WHERE version = 4")
    for column in ("next_poll_at", "retry_delay", "last_failed_at"):
        old.db.execute(f"ALTER TABLE accounts DROP COLUMN {column}")
    old.db.execute(
        "INSERT INTO accounts (key, platform, account_id, display_name, health, failures, "
        "last_error) VALUES ('facebook:9', 'facebook', '9', 'Old', 'auth_expired', 3, ?)",
        [f"Graph API error 190: Malformed access token {TOKEN}"],
    )
    old.close()
    migrated = Store(path)
    state = migrated.accounts.get("facebook:9")
    assert TOKEN not in state.last_error and state.next_poll_at is None
    assert 4 in {r["version"] for r in migrated.rows("SELECT version FROM migrations")}
    assert any(v == 4 for v, _name, _step in schema.MIGRATIONS)
    columns = {r[1] for r in sqlite3.connect(path).execute("PRAGMA table_info(accounts)")}
    assert {"next_poll_at", "retry_delay", "last_failed_at"} <= columns
