"""Insert once: a row keyed by a unique index is written the first time and found every time
after, with `INSERT ... ON CONFLICT DO NOTHING RETURNING id` (no counting of rows, and the same
statement works in PostgreSQL)."""

from __future__ import annotations

from collections.abc import Mapping

import sqlite_utils


def insert_once(
    db: sqlite_utils.Database,
    table: str,
    row: Mapping[str, object],
    key: tuple[str, ...],
    where: str = "",
) -> tuple[int, bool]:
    """Write `row` unless a row with the same `key` columns (under the partial index condition
    `where`, if the unique index has one) is there. Returns (id, created)."""
    columns = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    target = f"({', '.join(key)})" + (f" WHERE {where}" if where else "")
    new = db.execute(
        f"INSERT INTO {table} ({columns}) VALUES ({marks}) "
        f"ON CONFLICT {target} DO NOTHING RETURNING id",
        list(row.values()),
    ).fetchone()
    if new is not None:
        return new[0], True
    match = " AND ".join(f"{column} = ?" for column in key) + (f" AND {where}" if where else "")
    existing = db.execute(
        f"SELECT id FROM {table} WHERE {match}", [row[column] for column in key]
    ).fetchone()
    return existing[0], False
