"""People who sign in to the dashboard, their sessions and sign-in attempts.

Sessions live here, not in a signed cookie, so "sign out everywhere" and disabling a person take
effect on the next request. The cookie holds a random token; this table holds only its SHA-256,
so a copied database signs nobody in. Sign-in attempts are stored so a restart does not reset
the rate limit.

Migration 5 (`migrate_people_and_reviews`) also creates the review tables used by
bot/store/reviews.py: labelled false positives (restores) and ban requests."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import sqlite_utils

from bot.core.clock import iso
from bot.store.records import Record
from bot.store.scrub import stored_text

if TYPE_CHECKING:
    from bot.store.db import Store

ROLES = ("admin", "dsl", "slt")


def migrate_people_and_reviews(db: sqlite_utils.Database) -> None:
    """Migration 5: dashboard users, sessions, sign-in attempts, restores, ban requests."""
    for statement in (
        """CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            email TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('admin', 'dsl', 'slt')),
            password_hash TEXT,
            must_change_password INTEGER NOT NULL DEFAULT 1,
            password_set_at TEXT,
            disabled_at TEXT,
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL)""",
        "CREATE UNIQUE INDEX users_name ON users (lower(name))",
        "CREATE UNIQUE INDEX users_email ON users (lower(email))",
        """CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users (id),
            csrf TEXT NOT NULL,
            created_at TEXT NOT NULL,
            last_seen_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            revoked_at TEXT,
            remote TEXT NOT NULL DEFAULT '',
            flash TEXT)""",
        "CREATE INDEX sessions_user ON sessions (user_id)",
        """CREATE TABLE sign_in_attempts (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            login TEXT NOT NULL,
            remote TEXT NOT NULL,
            ok INTEGER NOT NULL)""",
        "CREATE INDEX sign_in_by_login ON sign_in_attempts (login, at)",
        "CREATE INDEX sign_in_by_remote ON sign_in_attempts (remote, at)",
        """CREATE TABLE feedback (
            id INTEGER PRIMARY KEY,
            decision_id INTEGER NOT NULL UNIQUE,
            platform TEXT NOT NULL,
            comment_id TEXT NOT NULL,
            account TEXT NOT NULL,
            text TEXT,
            label TEXT,
            category TEXT,
            rules TEXT NOT NULL DEFAULT '[]',
            source TEXT NOT NULL,
            status TEXT NOT NULL,
            reason TEXT NOT NULL,
            by TEXT NOT NULL,
            created_at TEXT NOT NULL,
            second_by TEXT,
            second_reason TEXT,
            second_at TEXT,
            restored_at TEXT,
            restore_error TEXT)""",
        "CREATE INDEX feedback_status ON feedback (status)",
        """CREATE TABLE ban_requests (
            id INTEGER PRIMARY KEY,
            decision_id INTEGER NOT NULL,
            platform TEXT NOT NULL,
            comment_id TEXT NOT NULL,
            account TEXT NOT NULL,
            author_id TEXT NOT NULL,
            reason TEXT NOT NULL,
            suggested_by TEXT NOT NULL,
            suggested_at TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'suggested',
            decided_by TEXT,
            decided_at TEXT,
            result TEXT)""",
        "CREATE UNIQUE INDEX ban_requests_open ON ban_requests (platform, account, author_id) "
        "WHERE status = 'suggested'",
    ):
        db.execute(statement)


def token_id(token: str) -> str:
    """What the sessions table keys on: the token's SHA-256, never the token."""
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


@dataclass(frozen=True)
class User(Record):
    id: int
    name: str
    email: str
    role: str
    password_hash: str | None
    must_change_password: bool
    disabled_at: datetime | None
    created_at: datetime

    @property
    def active(self) -> bool:
        return self.disabled_at is None


@dataclass(frozen=True)
class Session(Record):
    id: str
    user_id: int
    csrf: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


class Users:
    """The users, sessions and sign_in_attempts tables."""

    def __init__(self, store: Store):
        self.store = store

    # --- people ----------------------------------------------------------------------------
    def add(self, name: str, email: str, role: str, password_hash: str, by: str) -> User:
        """Raises ValueError when the name or email is taken (case-insensitively)."""
        if self.find(name) or self.find(email):
            raise ValueError(f"a user called {name!r} or with email {email!r} already exists")
        user_id = self.store.db.execute(
            "INSERT INTO users (name, email, role, password_hash, must_change_password, "
            "created_at, created_by) VALUES (?, ?, ?, ?, 1, ?, ?) RETURNING id",
            [name, email, role, password_hash, iso(self.store.now()), by],
        ).fetchone()[0]
        user = self.get(user_id)
        assert user is not None
        return user

    def get(self, user_id: int) -> User | None:
        rows = self.store.rows("SELECT * FROM users WHERE id = ?", [user_id])
        return User.from_row(rows[0]) if rows else None

    def find(self, login: str) -> User | None:
        """By name or email, ignoring case."""
        rows = self.store.rows(
            "SELECT * FROM users WHERE lower(name) = lower(?) OR lower(email) = lower(?) "
            "ORDER BY id LIMIT 1",
            [login.strip(), login.strip()],
        )
        return User.from_row(rows[0]) if rows else None

    def all(self) -> list[User]:
        return [User.from_row(r) for r in self.store.rows("SELECT * FROM users ORDER BY name")]

    def set_password(self, user_id: int, password_hash: str, must_change: bool) -> None:
        self.store.db.execute(
            "UPDATE users SET password_hash = ?, must_change_password = ?, password_set_at = ? "
            "WHERE id = ?",
            [password_hash, int(must_change), iso(self.store.now()), user_id],
        )

    def disable(self, user_id: int) -> bool:
        row = self.store.db.execute(
            "UPDATE users SET disabled_at = ? WHERE id = ? AND disabled_at IS NULL RETURNING id",
            [iso(self.store.now()), user_id],
        ).fetchone()
        return row is not None

    def enable(self, user_id: int) -> bool:
        row = self.store.db.execute(
            "UPDATE users SET disabled_at = NULL WHERE id = ? AND disabled_at IS NOT NULL "
            "RETURNING id",
            [user_id],
        ).fetchone()
        return row is not None

    # --- sessions --------------------------------------------------------------------------
    def open_session(self, user_id: int, token: str, csrf: str, lifetime: timedelta, remote: str):
        now = self.store.now()
        self.store.db.execute(
            "INSERT INTO sessions (id, user_id, csrf, created_at, last_seen_at, expires_at, "
            "remote) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [token_id(token), user_id, csrf, iso(now), iso(now), iso(now + lifetime), remote],
        )

    def session(self, token: str) -> Session | None:
        rows = self.store.rows("SELECT * FROM sessions WHERE id = ?", [token_id(token)])
        return Session.from_row(rows[0]) if rows else None

    def touch(self, session_id: str) -> None:
        self.store.db.execute(
            "UPDATE sessions SET last_seen_at = ? WHERE id = ?", [iso(self.store.now()), session_id]
        )

    def set_flash(self, session_id: str, message: str) -> None:
        """A one-line result to show on the next page (after a form's redirect)."""
        self.store.db.execute(
            "UPDATE sessions SET flash = ? WHERE id = ?", [stored_text(message, 1000), session_id]
        )

    def pop_flash(self, session_id: str) -> str | None:
        rows = self.store.rows("SELECT flash FROM sessions WHERE id = ?", [session_id])
        if not rows or rows[0]["flash"] is None:
            return None
        self.store.db.execute("UPDATE sessions SET flash = NULL WHERE id = ?", [session_id])
        return rows[0]["flash"]

    def revoke(self, session_id: str) -> bool:
        row = self.store.db.execute(
            "UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL RETURNING id",
            [iso(self.store.now()), session_id],
        ).fetchone()
        return row is not None

    def revoke_all(self, user_id: int) -> int:
        return self.store.db.execute(
            "UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
            [iso(self.store.now()), user_id],
        ).rowcount

    def live_sessions(self, user_id: int) -> int:
        return self.store.rows(
            "SELECT count(*) AS n FROM sessions WHERE user_id = ? AND revoked_at IS NULL "
            "AND expires_at > ?",
            [user_id, iso(self.store.now())],
        )[0]["n"]

    # --- sign-in attempts --------------------------------------------------------------------
    def record_attempt(self, login: str, remote: str, ok: bool) -> None:
        self.store.db.execute(
            "INSERT INTO sign_in_attempts (at, login, remote, ok) VALUES (?, ?, ?, ?)",
            [iso(self.store.now()), login.strip().lower(), remote, int(ok)],
        )

    def failures_for(self, login: str, since: datetime) -> int:
        """Failed attempts at one login since `since` (from any address), not counting those
        before its last success: a person who mistyped and then got in starts afresh."""
        login = login.strip().lower()
        return self.store.rows(
            "SELECT count(*) AS n FROM sign_in_attempts WHERE login = ? AND ok = 0 AND at > ? "
            "AND at >= coalesce((SELECT max(at) FROM sign_in_attempts WHERE login = ? "
            "AND ok = 1), '')",
            [login, iso(since), login],
        )[0]["n"]

    def failures_from(self, remote: str, since: datetime) -> int:
        """Failed attempts from one address since `since`, whatever login they tried. A
        success does not reset it: one good account must not unlock guessing at others."""
        return self.store.rows(
            "SELECT count(*) AS n FROM sign_in_attempts WHERE remote = ? AND ok = 0 AND at > ?",
            [remote, iso(since)],
        )[0]["n"]
