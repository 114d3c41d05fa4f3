"""The structure the architecture promises, checked: SQL lives in bot/store/ only, and the
faces (CLI, web, demo) go through the store's repositories and the services."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[1]
CODE = [p for d in ("bot", "connectors", "classifiers") for p in (ROOT / d).rglob("*.py")]
SQL_TEXT = re.compile(
    r"""["'][^"']*\b(select\s+(distinct\s+)?([\w.*]+|\w+\([\w.*]*\))(\s+as\s+\w+)?"""
    r"""(\s*,\s*[\w.*]+(\s+as\s+\w+)?)*\s+from\s+\w+|insert\s+into|update\s+\w+\s+set|"""
    r"""delete\s+from|create\s+(table|index|trigger)|alter\s+table)\b""",
    re.IGNORECASE,
)
RAW_ACCESS = re.compile(r"\.(rows|query)\(|\.db\[|\.db\.execute\(|\.conn\.execute\(")


def outside_store() -> list[Path]:
    store = ROOT / "bot" / "store"
    return [p for p in CODE if store not in p.parents]


def test_there_is_code_to_check():
    assert len(outside_store()) > 40  # the check below is not vacuous


def test_no_sql_outside_bot_store():
    offenders = []
    for path in outside_store():
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if SQL_TEXT.search(line) or RAW_ACCESS.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == [], "SQL outside bot/store/:\n" + "\n".join(offenders)


def test_the_check_would_catch_sql():
    assert SQL_TEXT.search('rows = store.rows("select * from items where id = ?")')
    assert SQL_TEXT.search("'INSERT INTO outbox (kind) VALUES (?)'")
    assert RAW_ACCESS.search('store.db["items"].insert({})')
    assert not SQL_TEXT.search('"Please select a file from the list"')
