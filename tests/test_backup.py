"""Backups and restores on real SQLite files, taken while modbot is writing to them."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.store import Store
from bot.store.backup import (
    BackupError,
    DowngradeRefused,
    backup_before_migrate,
    backup_dir,
    backup_name,
    backup_status,
    last_backup_age,
    list_backups,
    nightly_backup,
    prune_backups,
    refuse_downgrade,
    restore_backup,
    sidecar,
    take_backup,
    verify_backup,
)
from bot.store.db import MIGRATIONS
from tests.conftest import example_data, make_settings, write_config

CODE_VERSION = max(v for v, _n, _s in MIGRATIONS)
SCENARIO_COMMENTS = 91


def modbot(config: Path, *args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=120,
        **kw,
    )


def state(path: Path) -> dict[str, list[tuple]]:
    """Every table's rows, in order: what "identical rows" means."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        conn.execute("BEGIN")  # one snapshot for all tables
        tables = [
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY 1")
        ]
        return {
            t: sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables
        }
    finally:
        conn.close()


def count(path: Path, sql: str) -> int:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return conn.execute(sql).fetchone()[0]
        finally:
            conn.close()
    except sqlite3.OperationalError:  # not created or not migrated yet
        return -1


def wait_for(condition, what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def settled(path: Path, quiet: float = 1.5) -> bool:
    """No new audit rows for `quiet` seconds (after a poll, modbot goes on to send and record
    acknowledgement emails)."""
    before = count(path, "SELECT count(*) FROM audit")
    time.sleep(quiet)
    return before == count(path, "SELECT count(*) FROM audit")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def config_for(folder: Path, database: Path) -> Path:
    """The test configuration, pointed at another database."""
    config = write_config(folder)
    text = config.read_text().replace(f'database = "{folder}/m.db"', f'database = "{database}"')
    config.write_text(text)
    return config


def test_a_backup_taken_while_modbot_run_is_polling_restores_identical_rows(tmp_path):
    config = write_config(tmp_path)
    live = tmp_path / "m.db"
    run = subprocess.Popen(
        [sys.executable, "-m", "bot", "--config", str(config), "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # 1. while the first poll is writing comments, decisions and actions
        wait_for(lambda: count(live, "SELECT count(*) FROM comments") > 0, "the first comments")
        mid = modbot(config, "backup", "--to", str(tmp_path / "mid.db"))
        assert mid.returncode == 0, mid.stderr
        snapshot = state(tmp_path / "mid.db")
        restored_mid = tmp_path / "restored-mid.db"
        restore_backup(tmp_path / "mid.db", restored_mid, CODE_VERSION)
        assert state(restored_mid) == snapshot
        # one consistent moment: nothing points at a row the snapshot does not have
        decisions = {
            r[0] for r in sqlite3.connect(restored_mid).execute("SELECT id FROM decisions")
        }
        conn = sqlite3.connect(restored_mid)
        assert {r[0] for r in conn.execute("SELECT decision_id FROM actions")} <= decisions
        assert {
            r[0] for r in conn.execute("SELECT decision_id FROM comments WHERE decision_id")
        } <= decisions

        # 2. once the poll is done (modbot still running, its WAL not yet checkpointed)
        wait_for(
            lambda: (
                count(live, "SELECT count(*) FROM comments WHERE status = 'new'") == 0
                and count(live, "SELECT count(*) FROM comments") == SCENARIO_COMMENTS
            ),
            "the first poll to finish",
        )
        wait_for(lambda: settled(live), "modbot to finish writing after the poll")
        for attempt in range(10):  # retried only if modbot wrote during the backup
            before = state(live)
            backup = tmp_path / f"settled-{attempt}.db"
            done = modbot(config, "backup", "--to", str(backup))
            assert done.returncode == 0, done.stderr
            if state(live) == before:
                break
        assert state(backup) == before
        assert run.poll() is None, "modbot run stopped during the backup"

        # restore refuses while modbot is moderating that database
        busy = modbot(config, "restore", "--yes", str(backup))
        assert busy.returncode == 4 and "systemctl stop modbot" in busy.stderr
    finally:
        run.send_signal(signal.SIGTERM)
        _out, err = run.communicate(timeout=60)
    assert run.returncode == 0, err

    # a fresh machine: `modbot restore` builds the database from the backup alone
    elsewhere = tmp_path / "new-server"
    elsewhere.mkdir()
    config2 = config_for(elsewhere, elsewhere / "restored.db")
    result = modbot(config2, "restore", "--yes", str(backup))
    assert result.returncode == 0, result.stderr
    assert state(elsewhere / "restored.db") == before
    assert before["comments"] and len(before["comments"]) == SCENARIO_COMMENTS
    assert mode(elsewhere / "restored.db") == 0o600


def test_backups_under_a_busy_writer_hold_only_whole_transactions(tmp_path):
    """A writer commits batches of 10 audit rows; every backup holds whole batches 1..k, and
    exactly the rows the live database has for them."""
    live = tmp_path / "live.db"
    Store(live).close()
    stop = threading.Event()

    def write() -> None:
        conn = sqlite3.connect(live, isolation_level=None, timeout=30)
        batch = 0
        while not stop.is_set():
            batch += 1
            conn.execute("BEGIN IMMEDIATE")
            for n in range(10):
                conn.execute(
                    "INSERT INTO audit (at, actor, event, detail) VALUES (?, 'test', 'row', ?)",
                    (datetime.now(UTC).isoformat(), json.dumps({"batch": batch, "n": n})),
                )
            conn.execute("COMMIT")
        conn.close()

    writer = threading.Thread(target=write)
    writer.start()
    copies = []
    try:
        wait_for(lambda: count(live, "SELECT count(*) FROM audit") > 0, "the writer")
        for i in range(5):
            copies.append(take_backup(live, tmp_path / "b" / f"copy-{i}.db").path)
            time.sleep(0.02)
    finally:
        stop.set()
        writer.join()
    final = state(live)["audit"]
    sizes = []
    for copy in copies:
        verify_backup(copy)
        rows = state(copy)["audit"]
        batches: dict[int, int] = {}
        for row in rows:
            batch = json.loads(row[-1])["batch"]
            batches[batch] = batches.get(batch, 0) + 1
        assert set(batches) == set(range(1, len(batches) + 1)), "batches are a prefix"
        assert set(batches.values()) == {10}, "no half-written transaction"
        assert rows == [r for r in final if json.loads(r[-1])["batch"] <= len(batches)]
        sizes.append(len(batches))
    assert sizes == sorted(sizes) and sizes[-1] > 0


def test_restore_refuses_a_file_whose_checksum_does_not_match(tmp_path):
    config = write_config(tmp_path)
    live = tmp_path / "m.db"
    assert modbot(config, "run", "--once").returncode in (0, 5)
    backup = tmp_path / "copy.db"
    assert modbot(config, "backup", "--to", str(backup)).returncode == 0
    before = state(live)

    data = bytearray(backup.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit, in the middle of a page
    backup.write_bytes(bytes(data))
    result = modbot(config, "restore", "--yes", str(backup))
    assert result.returncode == 2
    assert "does not match its checksum" in result.stderr and "refusing" in result.stderr
    assert state(live) == before
    assert not (tmp_path / "backups").exists(), "nothing was touched, not even a pre-restore copy"

    sidecar(backup).unlink()
    result = modbot(config, "restore", "--yes", str(backup))
    assert result.returncode == 2 and "no readable checksum file" in result.stderr


def test_backup_files_are_private_and_restore_keeps_the_replaced_database(tmp_path):
    config = write_config(tmp_path)
    assert modbot(config, "run", "--once").returncode in (0, 5)
    made = modbot(config, "backup")
    assert made.returncode == 0, made.stderr
    folder = tmp_path / "backups"
    [copy] = list_backups(folder)
    assert copy.name.startswith("modbot-manual-") and str(copy) in made.stdout
    assert mode(folder) == 0o700 and mode(copy) == 0o600 and mode(sidecar(copy)) == 0o600
    assert (
        subprocess.run(
            ["sha256sum", "-c", sidecar(copy).name], cwd=folder, capture_output=True
        ).returncode
        == 0
    ), "the sidecar is in sha256sum's format"

    restored = modbot(config, "restore", "--yes", str(copy))
    assert restored.returncode == 0, restored.stderr
    [kept] = [p for p in list_backups(folder) if p.name.startswith("modbot-pre-restore-")]
    assert mode(kept) == 0o600 and mode(sidecar(kept)) == 0o600
    assert state(kept) == state(copy) == state(tmp_path / "m.db")


def test_retention_keeps_the_newest_of_each_kind_and_nothing_else_is_touched(tmp_path):
    live = tmp_path / "live.db"
    Store(live).close()
    folder = tmp_path / "backups"
    start = datetime(2026, 11, 1, 2, 30, tzinfo=UTC)
    nightly = [
        take_backup(live, folder / backup_name("nightly", start + timedelta(days=d))).path
        for d in range(6)
    ]
    manual = take_backup(live, folder / backup_name("manual", start)).path
    (folder / "notes.txt").write_text("the technician's own file")
    removed = prune_backups(folder, keep=4)
    assert removed == nightly[:2]
    assert set(list_backups(folder)) == {manual, *nightly[2:]}
    assert not sidecar(nightly[0]).exists()
    assert (folder / "notes.txt").exists()


def settings_for(tmp_path: Path):
    data = example_data()
    data["storage"]["database"] = str(tmp_path / "m.db")
    return make_settings(data)


def test_the_nightly_job_backs_up_once_a_night_keeps_14_and_is_audited(tmp_path):
    settings = settings_for(tmp_path)
    store = Store(tmp_path / "m.db")
    assert last_backup_age(settings) is None
    fresh, line = backup_status(settings)
    assert not fresh and "none yet" in line
    night = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)  # 03:00 in London (GMT in November)
    assert nightly_backup(settings, store, now=night) is not None  # none yet: at once
    assert nightly_backup(settings, store, now=night + timedelta(minutes=10)) is None
    assert nightly_backup(settings, store, now=night + timedelta(hours=23)) is None  # 02:00
    assert nightly_backup(settings, store, now=night + timedelta(hours=23, minutes=40))  # 02:40
    # modbot down for three nights: one copy when it is back, not three
    back = night + timedelta(days=4, hours=9)
    assert nightly_backup(settings, store, now=back) is not None
    assert nightly_backup(settings, store, now=back + timedelta(hours=1)) is None
    for day in range(5, 25):
        assert nightly_backup(settings, store, now=night + timedelta(days=day)) is not None
    copies = list_backups(backup_dir(settings))
    assert len(copies) == 14 and all(mode(p) == 0o600 for p in copies)
    assert copies[-1].name == "modbot-nightly-20261126T030000Z.db"
    last = night + timedelta(days=24)
    assert last_backup_age(settings, now=last + timedelta(hours=1)) == timedelta(hours=1)
    fresh, line = backup_status(settings, now=last + timedelta(hours=1))
    assert fresh and line.startswith("Last backup: 1 h ago (modbot-nightly-20261126T030000Z.db")
    fresh, line = backup_status(settings, now=last + timedelta(hours=40))
    assert not fresh and "older than 36 h" in line
    events = [r[0] for r in store.db.execute("SELECT event FROM audit").fetchall()]
    assert events.count("backup taken") == 23


def test_a_failing_nightly_backup_is_logged_and_audited_not_raised(tmp_path):
    settings = settings_for(tmp_path)
    store = Store(tmp_path / "m.db")
    backup_dir(settings).write_text("a file where the backup folder should be")
    assert nightly_backup(settings, store) is None
    events = [r[0] for r in store.db.execute("SELECT event FROM audit").fetchall()]
    assert "backup failed" in events


def test_a_backup_from_a_newer_modbot_is_refused(tmp_path):
    live = tmp_path / "live.db"
    Store(live).close()
    conn = sqlite3.connect(live)
    conn.execute(
        "INSERT INTO migrations VALUES (?, 'from the future', '2027-01-01T00:00:00+00:00')",
        (CODE_VERSION + 1,),
    )
    conn.commit()
    conn.close()
    copy = take_backup(live, tmp_path / "future.db").path
    with pytest.raises(DowngradeRefused, match=f"schema version {CODE_VERSION + 1}.*newer modbot"):
        restore_backup(copy, tmp_path / "target.db", CODE_VERSION)
    assert not (tmp_path / "target.db").exists()


def test_refuse_downgrade_says_what_to_do():
    refuse_downgrade(None, 4)
    refuse_downgrade(4, 4)
    refuse_downgrade(3, 4)
    with pytest.raises(DowngradeRefused) as caught:
        refuse_downgrade(7, 4)
    message = str(caught.value)
    assert "schema version 7" in message and "up to 4" in message
    assert "modbot restore" in message and "pre-migrate" in message


def test_a_copy_is_taken_before_migrating_an_existing_database(tmp_path):
    assert backup_before_migrate(tmp_path / "none-yet.db") is None
    live = tmp_path / "m.db"
    Store(live).close()
    copy = backup_before_migrate(live)
    assert copy is not None and copy.parent == tmp_path / "backups"
    assert copy.name.startswith("modbot-pre-migrate-")
    assert verify_backup(copy).schema_version == CODE_VERSION
    assert mode(copy) == 0o600


def test_a_backup_is_never_written_over_an_existing_file(tmp_path):
    live = tmp_path / "m.db"
    Store(live).close()
    target = tmp_path / "copy.db"
    target.write_text("something else")
    with pytest.raises(BackupError, match="already exists"):
        take_backup(live, target)
    assert target.read_text() == "something else"
    with pytest.raises(BackupError, match="nothing to back up"):
        take_backup(tmp_path / "missing.db", tmp_path / "x.db")
    assert not [p for p in tmp_path.iterdir() if ".partial" in p.name]


def test_a_file_that_is_not_a_modbot_database_is_refused(tmp_path):
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    copy = take_backup(other, tmp_path / "copy.db").path
    with pytest.raises(BackupError, match="not a modbot database"):
        verify_backup(copy)


def test_backup_of_a_database_that_does_not_exist_exits_1_with_a_message(tmp_path):
    config = config_for(tmp_path, tmp_path / "nothing-here.db")
    result = modbot(config, "backup")
    assert result.returncode == 1 and "nothing to back up" in result.stderr
    assert "Traceback" not in result.stderr
    assert not os.path.exists(tmp_path / "nothing-here.db")


def store_calls(name: str) -> bool:
    import inspect

    return name in inspect.getsource(Store.migrate)


@pytest.mark.skipif(
    not store_calls("refuse_downgrade"), reason="Store.migrate does not call refuse_downgrade yet"
)
def test_the_store_refuses_a_database_from_a_newer_modbot(tmp_path):
    live = tmp_path / "m.db"
    Store(live).close()
    conn = sqlite3.connect(live)
    conn.execute("INSERT INTO migrations VALUES (?, 'future', '')", (CODE_VERSION + 1,))
    conn.commit()
    conn.close()
    with pytest.raises(DowngradeRefused, match="newer modbot"):
        Store(live)


@pytest.mark.skipif(
    not store_calls("backup_before_migrate"),
    reason="Store.migrate does not call backup_before_migrate yet",
)
def test_the_store_copies_an_older_database_before_migrating_it(tmp_path):
    import sqlite_utils

    live = tmp_path / "m.db"
    db = sqlite_utils.Database(live)
    db["migrations"].create({"version": int, "name": str, "applied_at": str}, pk="version")
    for version, name, step in MIGRATIONS[:-1]:  # as the previous release left it
        step(db)
        db["migrations"].insert({"version": version, "name": name, "applied_at": ""})
    db.conn.close()
    Store(live).close()
    [copy] = list_backups(tmp_path / "backups")
    assert copy.name.startswith("modbot-pre-migrate-")
    assert verify_backup(copy).schema_version == CODE_VERSION - 1
    assert count(live, "SELECT max(version) FROM migrations") == CODE_VERSION
    Store(live).close()
    assert len(list_backups(tmp_path / "backups")) == 1, "no copy when nothing is to migrate"
