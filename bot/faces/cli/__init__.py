"""The `modbot` command: a thin shell over the use cases, one module per area.

Exit codes: 0 all well; 1 unexpected error; 2 wrong usage (or not allowed, or not found);
3 invalid configuration or rule file; 4 another modbot holds the database lock; 5 finished, but
some input lines or accounts failed (each one was reported); 6 the machine refused: disk full,
read-only or unwritable folder, database unreadable.

Never a traceback: every error ends in one plain line on stderr and its exit code. Everything
modbot writes is private (umask 077: files 0600, folders 0700)."""

from __future__ import annotations

import errno
import os
import sqlite3
import sys

import click
import structlog

from bot.core.errors import ModbotError, StoreError
from bot.core.files import PRIVATE_UMASK
from bot.core.logs import scrub
from bot.faces.cli import (  # noqa: F401  (each module registers its commands)
    accounts,
    acknowledgement,
    backup,
    demo,
    feedback,
    moderation,
    report,
    safeguarding,
    setup,
    users,
    web,
)
from bot.faces.cli.root import (
    EXIT_CONFIG,
    EXIT_ENVIRONMENT,
    EXIT_ERROR,
    EXIT_PARTIAL,
    EXIT_USAGE,
    cli,
)

__all__ = [
    "EXIT_CONFIG",
    "EXIT_ENVIRONMENT",
    "EXIT_ERROR",
    "EXIT_PARTIAL",
    "EXIT_USAGE",
    "cli",
    "main",
]
ENVIRONMENT_ERRNOS = {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT}
ENVIRONMENT_SQLITE = ("disk is full", "readonly", "unable to open", "disk i/o", "read-only")


def environment_problem(exc: BaseException) -> str | None:
    """A plain sentence when the machine refused (disk, permissions), else None."""
    if isinstance(exc, OSError) and exc.errno in ENVIRONMENT_ERRNOS:
        where = f" ({exc.filename})" if exc.filename else ""
        return f"the machine refused a write{where}: {os.strerror(exc.errno or 0)}"
    text = str(exc).lower()
    if isinstance(exc, sqlite3.Error | StoreError) and any(k in text for k in ENVIRONMENT_SQLITE):
        return f"the database could not be written: {exc}"
    return None


def main() -> None:
    os.umask(PRIVATE_UMASK)
    try:
        cli.main(prog_name="modbot", standalone_mode=True)
    except Exception as exc:
        problem = environment_problem(exc)
        if problem:
            click.echo(
                f"modbot: {scrub(problem)}. Nothing was lost: free space or fix the permissions, "
                "then run the same command again.",
                err=True,
            )
            sys.exit(EXIT_ENVIRONMENT)
        if isinstance(exc, ModbotError):
            click.echo(f"modbot: {scrub(str(exc))}", err=True)
            sys.exit(EXIT_ERROR)
        structlog.get_logger("modbot").exception("unexpected error")
        click.echo(
            f"modbot: unexpected error ({type(exc).__name__}: {scrub(str(exc))[:300]}). "
            "Work done so far is saved; run the command again, and if it repeats, send the "
            "log to whoever looks after modbot.",
            err=True,
        )
        sys.exit(EXIT_ERROR)
