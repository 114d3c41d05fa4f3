"""The `modbot` command: a thin shell over the use cases, one module per area.

Exit codes: 0 all well; 1 unexpected error; 2 wrong usage; 3 invalid configuration or rule
file; 4 another modbot holds the database lock; 5 finished, but some input lines or accounts
failed (each one was reported)."""

from __future__ import annotations

import sys

import click

from bot.core.errors import ModbotError
from bot.faces.cli import (  # noqa: F401  (each module registers its commands)
    accounts,
    acknowledgement,
    demo,
    moderation,
    safeguarding,
    web,
)
from bot.faces.cli.root import EXIT_CONFIG, EXIT_ERROR, EXIT_PARTIAL, EXIT_USAGE, cli

__all__ = ["EXIT_CONFIG", "EXIT_ERROR", "EXIT_PARTIAL", "EXIT_USAGE", "cli", "main"]


def main() -> None:
    try:
        cli.main(prog_name="modbot", standalone_mode=True)
    except ModbotError as exc:
        click.echo(f"modbot: {exc}", err=True)
        sys.exit(EXIT_ERROR)
