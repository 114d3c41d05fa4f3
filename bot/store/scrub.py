"""No token in the database: every free-text column that can hold an error a platform, a mail
server or a person's action produced is written through `stored_text`, and migration 6
(`scrub_stored_errors`) passes what an earlier modbot stored there through `redact` once.

The audit log can hold error text too (`action.*`, `backup failed`, `web.error` details). New
rows are redacted by `Store.audit`; rows written before cannot be rewritten, because the log is
append-only (its triggers refuse updates) and that guarantee matters more."""

from __future__ import annotations

import json
from collections.abc import Callable

import sqlite_utils

from bot.core.redact import redact

MAX_ERROR = 500  # an error is for a person to read: the first 500 characters say enough

# (table, column): free text that can echo what a platform or a mail server said
ERROR_COLUMNS: tuple[tuple[str, str], ...] = (
    ("accounts", "last_error"),
    ("comments", "last_error"),
    ("actions", "error"),
    ("notifications", "error"),
    ("outbox", "last_error"),
    ("feedback", "restore_error"),
    ("ban_requests", "result"),
    ("sessions", "flash"),
)
# JSON columns whose "error" member is such text (the "not being watched" email's context)
ERROR_MEMBERS: tuple[tuple[str, str], ...] = (("outbox", "context"),)


def stored_text(text: object, limit: int = MAX_ERROR) -> str:
    """`text` as the store keeps it: secrets and token shapes removed first, then bounded."""
    return redact(text)[:limit]


def with_error_scrubbed(context: dict) -> dict:
    """A message context with its "error" member (if any) as the store keeps errors."""
    if isinstance(context.get("error"), str):
        return {**context, "error": redact(context["error"])}
    return context


def _rewrite(
    db: sqlite_utils.Database, table: str, column: str, clean: Callable[[str], str]
) -> None:
    """Pass every non-null value of `table.column` through `clean`; write back only changes."""
    rows = db.execute(f"SELECT rowid, {column} FROM {table} WHERE {column} IS NOT NULL")
    for rowid, text in rows.fetchall():
        new = clean(text)
        if new != text:
            db.execute(f"UPDATE {table} SET {column} = ? WHERE rowid = ?", [new, rowid])


def _context_redacted(text: str) -> str:
    """An outbox context (JSON) with its "error" member redacted; other members unchanged."""
    try:
        context = json.loads(text)
    except ValueError:
        return redact(text)
    if not isinstance(context, dict):
        return text
    clean = with_error_scrubbed(context)
    return text if clean == context else json.dumps(clean, default=str, sort_keys=True)


def scrub_stored_errors(db: sqlite_utils.Database) -> None:
    """Migration 6: what an earlier modbot stored before the scrubbing landed is redacted once.
    Only changed values are written; the rest of each message stays as it was."""
    for table, column in ERROR_COLUMNS:
        _rewrite(db, table, column, redact)
    for table, column in ERROR_MEMBERS:
        _rewrite(db, table, column, _context_redacted)
