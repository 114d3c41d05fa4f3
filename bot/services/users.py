"""The people who sign in to the dashboard: adding them, passwords (argon2id), sign-in with a
stored rate limit, server-side sessions, signing out everywhere.

A new person (or a reset) gets a one-time password, shown once to whoever ran the command; the
first sign-in with it asks for a password of their own. Passwords follow the NCSC's advice:
long beats complicated, so the only rule is a length (three random words fit).

Sign-in is limited per login and per address, counted in the database, so restarting the
server does not reset it; every refusal is audited. Which page a role may see is not decided
here: that is `Actor.require` in each use case."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bot.core.errors import ModbotError
from bot.services.actors import Actor, Role
from bot.store import Store
from bot.store.users import Session, User

MIN_PASSWORD = 10
MAX_PASSWORD = 256  # argon2 takes any length; a bound stops a megabyte "password"
SESSION_IDLE = timedelta(hours=12)  # a phone left in a bag overnight signs in again
SESSION_MAX = timedelta(days=7)
LIMIT_WINDOW = timedelta(minutes=15)
LIMIT_PER_LOGIN = 5  # failed tries at one account in the window
# Failed tries from one address in the window, whatever the account: generous, because a whole
# school's staff may share one public address (its NAT); the per-login limit does the rest.
LIMIT_PER_ADDRESS = 50
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off a screen, typed on a phone

# argon2id with OWASP's first recommended setting (19 MiB, 2 passes, 1 lane): about 0.15 s on a
# small 2-core server, so a sign-in stays quick and a burst of them cannot exhaust the memory.
# Hashes made with other settings still verify, and are upgraded at the next sign-in.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_DUMMY = _hasher.hash("a password nobody has")


class UserError(ModbotError):
    """Bad input for a user command (taken name, bad email, unknown role)."""


class SignInRefused(ModbotError):
    """Wrong login or password, a disabled person, or too many tries: the message is safe to
    show (it never says which of the first three it was)."""


@dataclass(frozen=True)
class SignedIn:
    """A live session: who it is and the CSRF token its forms must carry."""

    user: User
    session: Session

    @property
    def actor(self) -> Actor:
        return actor_for(self.user)

    @property
    def csrf(self) -> str:
        return self.session.csrf


def actor_for(user: User) -> Actor:
    return Actor(user.name, Role(user.role))


def one_time_password() -> str:
    """12 characters from 31 (about 59 bits), grouped in threes to read aloud or type."""
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(12))
    return "-".join(raw[i : i + 4] for i in range(0, 12, 4))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_problem(password: str, user: User | None = None) -> str | None:
    """Why a chosen password is refused, or None."""
    if len(password) < MIN_PASSWORD:
        return f"use at least {MIN_PASSWORD} characters (three random words work well)"
    if len(password) > MAX_PASSWORD:
        return f"use at most {MAX_PASSWORD} characters"
    if user is not None:
        lowered = password.strip().lower()
        if lowered in (user.name.lower(), user.email.lower(), user.email.split("@")[0].lower()):
            return "do not use your name or email address"
    return None


# --- managing people (the CLI) -----------------------------------------------------------
def add_user(store: Store, name: str, email: str, role: str, by: str) -> tuple[User, str]:
    """Add a person; returns them and their one-time password (shown once, never stored)."""
    name, email = name.strip(), email.strip()
    if not name:
        raise UserError("the name is empty")
    if not EMAIL.match(email):
        raise UserError(f"{email!r} is not an email address")
    try:
        Role(role)
    except ValueError:
        raise UserError(f"role must be one of admin, dsl, slt (not {role!r})") from None
    password = one_time_password()
    with store.transaction():
        try:
            user = store.users.add(name, email, role, hash_password(password), by)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        store.audit("user.added", actor=by, user=name, role=role)
    return user, password


def find(store: Store, login: str) -> User:
    user = store.users.find(login)
    if user is None:
        raise UserError(f"no user called {login!r}")
    return user


def reset_password(store: Store, login: str, by: str) -> tuple[User, str]:
    """A new one-time password; every session of that person ends."""
    user = find(store, login)
    password = one_time_password()
    with store.transaction():
        store.users.set_password(user.id, hash_password(password), must_change=True)
        store.users.revoke_all(user.id)
        store.audit("user.password_reset", actor=by, user=user.name)
    return user, password


def disable(store: Store, login: str, by: str) -> User:
    """The person can no longer sign in, and is signed out everywhere at once."""
    user = find(store, login)
    with store.transaction():
        store.users.disable(user.id)
        ended = store.users.revoke_all(user.id)
        store.audit("user.disabled", actor=by, user=user.name, sessions_ended=ended)
    return find(store, login)


def enable(store: Store, login: str, by: str) -> User:
    user = find(store, login)
    with store.transaction():
        store.users.enable(user.id)
        store.audit("user.enabled", actor=by, user=user.name)
    return find(store, login)


def sign_out_everywhere(store: Store, login: str, by: str) -> int:
    """End every session of a person (a lost phone); returns how many ended."""
    user = find(store, login)
    with store.transaction():
        ended = store.users.revoke_all(user.id)
        store.audit("user.signed_out_everywhere", actor=by, user=user.name, sessions=ended)
    return ended


def listing(store: Store) -> list[tuple[User, int]]:
    """Everyone, with their number of live sessions."""
    return [(u, store.users.live_sessions(u.id)) for u in store.users.all()]


# --- signing in (the web) ------------------------------------------------------------------
def sign_in(store: Store, login: str, password: str, remote: str) -> User:
    """The person, if the password is right, they are enabled, and neither their login nor
    this address has failed too often lately. Every attempt is counted."""
    login = login.strip()[:320]
    since = store.now() - LIMIT_WINDOW
    if (
        store.users.failures_for(login, since) >= LIMIT_PER_LOGIN
        or store.users.failures_from(remote, since) >= LIMIT_PER_ADDRESS
    ):
        with store.transaction():
            store.users.record_attempt(login, remote, ok=False)
            store.audit("sign_in.limited", login=login, remote=remote)
        minutes = int(LIMIT_WINDOW.total_seconds() // 60)
        raise SignInRefused(
            f"Too many tries. Wait {minutes} minutes and try again, or ask an administrator "
            "to reset your password."
        )
    user = store.users.find(login) if login else None
    ok = _verify(user.password_hash if user else None, password[:MAX_PASSWORD])
    ok = ok and user is not None and user.active
    with store.transaction():
        store.users.record_attempt(login, remote, ok=ok)
        if not ok:
            store.audit("sign_in.refused", login=login, remote=remote)
        else:
            assert user is not None
            store.audit("sign_in", actor=user.name, remote=remote)
            if user.password_hash and _hasher.check_needs_rehash(user.password_hash):
                store.users.set_password(
                    user.id, hash_password(password), must_change=user.must_change_password
                )
    if not ok or user is None:
        raise SignInRefused("That email or password is not right.")
    return user


def _verify(password_hash: str | None, password: str) -> bool:
    """Constant work whether or not the person exists, so timing does not tell."""
    try:
        return _hasher.verify(password_hash or _DUMMY, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def open_session(store: Store, user: User, remote: str) -> tuple[str, SignedIn]:
    """A new session: returns the token for the cookie (never stored) and the session."""
    token = secrets.token_urlsafe(32)
    store.users.open_session(user.id, token, secrets.token_urlsafe(32), SESSION_MAX, remote)
    session = store.users.session(token)
    assert session is not None
    return token, SignedIn(user, session)


def signed_in(store: Store, token: str) -> SignedIn | None:
    """The live session for a cookie's token, or None (unknown, ended, expired, idle too
    long, or the person was disabled)."""
    if not token or len(token) > 200:
        return None
    session = store.users.session(token)
    if session is None or session.revoked_at is not None:
        return None
    now = store.now()
    if now >= session.expires_at or now - session.last_seen_at >= SESSION_IDLE:
        store.users.revoke(session.id)
        return None
    user = store.users.get(session.user_id)
    if user is None or not user.active:
        return None
    if now - session.last_seen_at >= timedelta(minutes=1):  # one write a minute, not per page
        store.users.touch(session.id)
    return SignedIn(user, session)


def sign_out(store: Store, current: SignedIn) -> None:
    with store.transaction():
        store.users.revoke(current.session.id)
        store.audit("sign_out", actor=current.user.name)


def change_password(store: Store, current: SignedIn, old: str, new: str) -> None:
    """Needs the present password (a borrowed, unlocked phone cannot take the account over);
    every other session of the person ends."""
    user = current.user
    if not _verify(user.password_hash, old[:MAX_PASSWORD]):
        store.audit("user.password_refused", actor=user.name)
        raise SignInRefused("Your present password is not right.")
    problem = password_problem(new, user)
    if problem:
        raise UserError(f"Choose another password: {problem}.")
    if _verify(user.password_hash, new):
        raise UserError("Choose a password different from the one you have now.")
    with store.transaction():
        store.users.set_password(user.id, hash_password(new), must_change=False)
        store.users.revoke_all(user.id)
        store.audit("user.password_changed", actor=user.name)


def demo_sign_ins(store: Store, settings) -> list[tuple[User, str]]:
    """For `modbot demo`: one person per role, named as in the configuration (the first
    administrator, the DSL, the senior leader), each with a fresh one-time password."""
    out = []
    for person, role in (
        (settings.administrators[0], Role.ADMIN),
        (settings.dsl, Role.DSL),
        (settings.slt, Role.SLT),
    ):
        if store.users.find(person.email) is None:
            out.append(add_user(store, person.name, person.email, role.value, by="demo"))
        else:
            out.append(reset_password(store, person.email, by="demo"))
    return out
