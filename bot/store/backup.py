"""Backups of the SQLite database: consistent online copies, checked before any restore.

A copy is made with SQLite's online backup API, so `modbot run` goes on writing while it is
taken and the copy is one consistent snapshot that includes what still sits in the WAL file (a
plain file copy of modbot.db would miss it, or tear it). Each copy gets a SHA-256 sidecar in
`sha256sum` format (so `sha256sum -c` checks it too). A restore checks that sum and SQLite's
integrity check before touching the live database, refuses a copy made by a newer modbot, and
first keeps a copy of what it replaces. Every file is 0600 in a 0700 folder: a backup holds
safeguarding data. Names carry their kind and UTC time, so they sort, and retention prunes
only files it recognises: `backup.keep` of each kind."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import structlog
from pydantic import BaseModel, ConfigDict, Field

from bot.core.errors import ModbotError, StoreError

if TYPE_CHECKING:  # settings import BackupSettings from here
    from bot.config.settings import DeploymentSettings, Settings

log = structlog.get_logger("modbot.backup")

KINDS = ("nightly", "manual", "pre-migrate", "pre-restore")
NAME = re.compile(rf"^modbot-(?P<kind>{'|'.join(KINDS)})-(?P<stamp>\d{{8}}T\d{{6}}Z)(?:-\d+)?\.db$")
STAMP = "%Y%m%dT%H%M%SZ"


class BackupError(ModbotError):
    """A backup cannot be taken, or a file is not a backup modbot can restore."""


class DowngradeRefused(StoreError):
    """The database was written by a newer modbot than this one."""


class BackupSettings(BaseModel):
    """`[backup]` in the configuration: where copies go, when, and how many are kept."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dir: Path | None = None  # default: a `backups` folder beside the database
    keep: int = Field(default=14, ge=1, le=3650)  # copies kept of each kind (nightly: 14 days)
    at: time = time(2, 30)  # school time, every day
    warn_after_hours: int = Field(default=36, ge=1)  # `modbot health` warns past this age


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    sha256: str
    size: int
    schema_version: int | None


# --- private files ---------------------------------------------------------------------------


def _private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_private(path: Path, text: str) -> None:
    """Atomically: a reader sees the old file or the new one, never half of one."""
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


# --- where and what ---------------------------------------------------------------------------


def backup_dir(settings: DeploymentSettings) -> Path:
    config = settings.backup
    if config.dir is not None:
        return settings.path(config.dir)
    return settings.path(settings.storage.database).parent / "backups"


def backup_name(kind: str, now: datetime) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown backup kind {kind!r}")
    return f"modbot-{kind}-{now.astimezone(UTC).strftime(STAMP)}.db"


def _unused(path: Path) -> Path:
    """Two copies in one second (a manual one beside the nightly) must not collide."""
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate


def taken_at(path: Path) -> datetime:
    """When a copy was taken: from its name, else from the file's modification time."""
    match = NAME.match(path.name)
    if match:
        return datetime.strptime(match["stamp"], STAMP).replace(tzinfo=UTC)
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def list_backups(directory: Path) -> list[Path]:
    """Copies modbot made here (with their checksum file), oldest first."""
    if not directory.is_dir():
        return []
    found = [p for p in directory.iterdir() if NAME.match(p.name) and sidecar(p).is_file()]
    return sorted(found, key=lambda p: (taken_at(p), p.name))


# --- taking a copy ----------------------------------------------------------------------------


def _schema_version(conn: sqlite3.Connection) -> int | None:
    try:
        row = conn.execute("SELECT max(version) FROM migrations").fetchone()
    except sqlite3.DatabaseError:
        return None
    return row[0] if row else None


def _integrity(conn: sqlite3.Connection, what: Path) -> None:
    result = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
    if result != ["ok"]:
        raise BackupError(f"{what} fails SQLite's integrity check: {'; '.join(result[:3])}")


def take_backup(database: Path, dest: Path) -> BackupInfo:
    """Copy `database` to `dest` (a new file) with the online backup API, check the copy, and
    write its SHA-256 beside it. Safe while another process writes to the database."""
    database, dest = Path(database), Path(dest)
    if not database.is_file():
        raise BackupError(f"no database at {database}: nothing to back up")
    if dest.exists():
        raise BackupError(f"{dest} already exists: choose another file name")
    partial = dest.with_name(f".{dest.name}.partial-{os.getpid()}")
    try:
        _private_dir(dest.parent)
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
        source = sqlite3.connect(database, timeout=30)
        copy = sqlite3.connect(partial)
        try:
            # One step: a read transaction for the whole copy, so the copy is one snapshot.
            # In WAL mode (modbot's) the writer is not blocked while it is taken.
            source.backup(copy)
            copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
            _integrity(copy, dest)
            version = _schema_version(copy)
        finally:
            copy.close()
            source.close()
        with open(partial, "rb+") as handle:
            os.fsync(handle.fileno())
        digest = sha256_file(partial)
        os.replace(partial, dest)
        _write_private(sidecar(dest), f"{digest}  {dest.name}\n")
        _fsync_dir(dest.parent)
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"backup of {database} failed: {exc}") from None
    except OSError as exc:
        raise BackupError(f"backup to {dest} failed: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(OSError):
            partial.unlink()
    return BackupInfo(dest, digest, dest.stat().st_size, version)


def backup_now(
    settings: DeploymentSettings, kind: str = "manual", now: datetime | None = None
) -> BackupInfo:
    """A copy of the configured database into the backup folder."""
    directory = backup_dir(settings)
    name = backup_name(kind, now or datetime.now(UTC))
    return take_backup(settings.path(settings.storage.database), _unused(directory / name))


def prune_backups(directory: Path, keep: int) -> list[Path]:
    """Keep the newest `keep` copies of each kind; delete older ones (and their sums). Files
    this module did not name are never touched."""
    removed: list[Path] = []
    by_kind: dict[str, list[Path]] = {}
    for path in list_backups(directory):
        match = NAME.match(path.name)
        if match:
            by_kind.setdefault(match["kind"], []).append(path)
    for paths in by_kind.values():
        for old in paths[: max(0, len(paths) - keep)]:
            for doomed in (old, sidecar(old)):
                with contextlib.suppress(FileNotFoundError):
                    doomed.unlink()
            removed.append(old)
    return removed


# --- checking and restoring -------------------------------------------------------------------


def verify_backup(path: Path) -> BackupInfo:
    """The copy's SHA-256 must match its sidecar, and SQLite must find it whole and modbot's."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"no backup file at {path}")
    sums = sidecar(path)
    try:
        expected = sums.read_text(encoding="utf-8").split()[0].lower()
    except (OSError, IndexError, UnicodeDecodeError):
        raise BackupError(
            f"{path} has no readable checksum file ({sums.name}): refusing to use it"
        ) from None
    actual = sha256_file(path)
    if actual != expected:
        raise BackupError(
            f"{path} does not match its checksum ({sums.name}: expected {expected[:16]}…, "
            f"the file has {actual[:16]}…): it is damaged or was changed; refusing to use it"
        )
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
        try:
            _integrity(conn, path)
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            version = _schema_version(conn)
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a readable SQLite database: {exc}") from None
    if not {"migrations", "accounts", "comments"} <= tables:
        raise BackupError(f"{path} is not a modbot database")
    return BackupInfo(path, actual, path.stat().st_size, version)


def restore_backup(
    backup: Path,
    database: Path,
    code_version: int,
    keep_dir: Path | None = None,
    now: datetime | None = None,
) -> Path | None:
    """Check `backup`, keep a copy of the current `database` (in `keep_dir`, default the
    backups folder beside it), then copy the backup into the database through SQLite, which
    also clears the database's WAL. The caller holds the process lock: nothing else may be
    moderating. Returns the pre-restore copy, if there was a database to keep."""
    info = verify_backup(backup)
    refuse_downgrade(info.schema_version, code_version, what=f"the backup {backup}")
    database = Path(database)
    keep_dir = keep_dir or database.parent / "backups"
    kept = None
    if database.is_file():
        name = backup_name("pre-restore", now or datetime.now(UTC))
        kept = take_backup(database, _unused(keep_dir / name)).path
    database.parent.mkdir(parents=True, exist_ok=True)
    if not database.exists():
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT, 0o600))
    try:
        source = sqlite3.connect(f"{Path(backup).resolve().as_uri()}?mode=ro&immutable=1", uri=True)
        target = sqlite3.connect(database, timeout=30)
        try:
            source.backup(target)
            _integrity(target, database)
        finally:
            target.close()
            source.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"restore into {database} failed: {exc}") from None
    os.chmod(database, 0o600)
    return kept


# --- upgrades ---------------------------------------------------------------------------------


def refuse_downgrade(db_version: int | None, code_version: int, what: str = "the database") -> None:
    """A database (or a backup) from a newer modbot may hold columns and rows this one does
    not understand; running on it could damage it. Stop, and say how to go forward or back."""
    if db_version is not None and db_version > code_version:
        raise DowngradeRefused(
            f"{what} is at schema version {db_version}, but this modbot only knows versions up "
            f"to {code_version}: it was written by a newer modbot. Refusing to use it rather "
            "than risk damaging it. Install the newer modbot again, or restore a backup taken "
            "before the upgrade (`modbot restore FILE`; upgrades keep one as "
            "backups/modbot-pre-migrate-*.db beside the database)."
        )


def backup_before_migrate(path: Path) -> Path | None:
    """Before migrations change an existing database, copy it to `backups/` beside it. Returns
    the copy, or None when there is nothing to keep (a new or in-memory database)."""
    path = Path(path)
    if str(path) == ":memory:" or not path.is_file() or path.stat().st_size == 0:
        return None
    directory = path.parent / "backups"
    info = take_backup(path, _unused(directory / backup_name("pre-migrate", datetime.now(UTC))))
    prune_backups(directory, BackupSettings().keep)
    log.info("database copied before migrating", backup=str(info.path))
    return info.path


# --- the nightly job and health ---------------------------------------------------------------


BACKUP_CHECK_SECONDS = 600.0  # how often the scheduler asks whether the nightly copy is due


def last_scheduled(settings: Settings, now: datetime) -> datetime:
    """The latest nightly time (`backup.at`, school time) at or before `now`."""
    at = settings.backup.at
    local = now.astimezone(settings.school.tz)
    moment = local.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
    return moment if moment <= local else moment - timedelta(days=1)


def nightly_due(settings: Settings, now: datetime) -> bool:
    """No nightly copy since the latest nightly time: missed nights (modbot was down) are
    caught up by one copy, and a restart does not take a second one."""
    nightly = [p for p in list_backups(backup_dir(settings)) if "-nightly-" in p.name]
    return not nightly or taken_at(nightly[-1]) < last_scheduled(settings, now)


def nightly_backup(settings: Settings, store, now: datetime | None = None) -> Path | None:
    """The scheduler's job, run every BACKUP_CHECK_SECONDS: when due, a copy of the store's
    database, then retention. A failure is logged and audited, never raised into the
    scheduler; `modbot health` shows the age of the last good copy, so a job that keeps
    failing is seen, and the next check tries again."""
    now = now or datetime.now(UTC)
    if not nightly_due(settings, now):
        return None
    directory = backup_dir(settings)
    config = settings.backup
    name = backup_name("nightly", now)
    try:
        info = take_backup(Path(store.path), _unused(directory / name))
    except BackupError as exc:
        log.error("nightly backup failed", error=str(exc))
        with contextlib.suppress(Exception):
            store.audit("backup failed", error=str(exc))
        return None
    removed = prune_backups(directory, config.keep)
    store.audit("backup taken", file=info.path.name, sha256=info.sha256, pruned=len(removed))
    log.info("nightly backup taken", backup=str(info.path), pruned=len(removed))
    return info.path


def last_backup_age(settings: DeploymentSettings, now: datetime | None = None) -> timedelta | None:
    """How long ago the newest copy in the backup folder was taken; None if there is none."""
    found = list_backups(backup_dir(settings))
    if not found:
        return None
    return (now or datetime.now(UTC)) - taken_at(found[-1])


def _age(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    if hours < 1:
        return f"{max(0, int(delta.total_seconds() // 60))} min"
    if hours < 48:
        return f"{hours:.0f} h"
    return f"{hours / 24:.0f} days"


def backup_status(settings: DeploymentSettings, now: datetime | None = None) -> tuple[bool, str]:
    """(fresh enough?, one line for `modbot health`)."""
    config = settings.backup
    directory = backup_dir(settings)
    age = last_backup_age(settings, now)
    if age is None:
        return False, f"Last backup: none yet in {directory} (nightly at {config.at:%H:%M})"
    newest = list_backups(directory)[-1]
    fresh = age <= timedelta(hours=config.warn_after_hours)
    line = f"Last backup: {_age(age)} ago ({newest.name}, {len(list_backups(directory))} kept)"
    if not fresh:
        line += f": older than {config.warn_after_hours} h, check the nightly backup"
    return fresh, line
