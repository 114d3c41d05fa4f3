"""Commands for backups: backup and restore."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from bot.core.errors import LockHeld
from bot.faces.cli.root import EXIT_ERROR, EXIT_LOCKED, EXIT_USAGE, _database, _settings, cli


def _describe(path: Path, size: int, sha256: str, version: int | None) -> str:
    return (
        f"{path} ({size / 1e6:.1f} MB, schema version {version})\n"
        f"  SHA-256 {sha256} (in {path.name}.sha256)"
    )


@cli.command()
@click.option(
    "--to",
    "to",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the copy to FILE (default: a timestamped file in the backup folder).",
)
@click.pass_context
def backup(ctx: click.Context, to: Path | None) -> None:
    """Take a consistent copy of the database now, with a SHA-256 checksum file beside it.

    Safe while `modbot run` is moderating (SQLite's online backup API). The copy and its
    checksum are readable by their owner only: they hold safeguarding data."""
    from bot.store.backup import BackupError, backup_now, take_backup

    settings = _settings(ctx)
    try:
        if to is None:
            info = backup_now(settings, "manual")
        else:
            info = take_backup(_database(ctx, settings), to.resolve())
    except BackupError as exc:
        click.echo(f"modbot backup: {exc}", err=True)
        ctx.exit(EXIT_ERROR)
    click.echo(
        "Backup written: " + _describe(info.path, info.size, info.sha256, info.schema_version)
    )


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def restore(ctx: click.Context, file: Path, yes: bool) -> None:
    """Replace the database with the backup FILE, after checking it.

    FILE's SHA-256 must match its .sha256 file and SQLite must find it intact; a backup from a
    newer modbot is refused. The current database is first kept as a pre-restore backup.
    modbot must be stopped (exit 4 if it is running). Exit 2 if FILE is not a usable backup."""
    from bot.service import process_lock
    from bot.store.backup import BackupError, backup_dir, restore_backup, taken_at, verify_backup
    from bot.store.db import MIGRATIONS

    settings = _settings(ctx)
    database = _database(ctx, settings)
    code_version = max(version for version, _name, _step in MIGRATIONS)
    try:
        info = verify_backup(file)
    except BackupError as exc:
        click.echo(f"modbot restore: {exc}", err=True)
        ctx.exit(EXIT_USAGE)
    click.echo(
        f"Backup checked: {_describe(info.path, info.size, info.sha256, info.schema_version)}\n"
        f"  taken {taken_at(info.path):%Y-%m-%d %H:%M} UTC"
    )
    if not yes:
        click.confirm(
            f"Replace {database} with it? The current database is kept as a pre-restore backup",
            abort=True,
        )
    try:
        with process_lock(database):
            kept = restore_backup(file, database, code_version, backup_dir(settings))
    except LockHeld as exc:
        click.echo(f"{exc}; e.g. `systemctl stop modbot` before restoring", err=True)
        ctx.exit(EXIT_LOCKED)
    except BackupError as exc:
        click.echo(f"modbot restore: {exc}", err=True)
        ctx.exit(EXIT_USAGE)
    if kept:
        click.echo(f"The database as it was is kept in {kept}")
    click.echo(f"Restored {database} from {file} at {datetime.now():%Y-%m-%d %H:%M}")
