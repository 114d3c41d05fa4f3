"""Commands about the configured social media accounts."""

from __future__ import annotations

import click

from bot.core.errors import ModbotError
from bot.faces.cli.root import (
    EXIT_PARTIAL,
    _settings,
    cli,
)


@cli.group()
def accounts() -> None:
    """The configured social media accounts."""


@accounts.command("check")
@click.pass_context
def accounts_check(ctx: click.Context) -> None:
    """Ask each platform who each token belongs to and which permissions are missing.

    Exits 5 if any token is rejected or lacks a permission modbot needs."""
    from connectors.accounts_check import check
    from connectors.registry import build_connector

    settings = _settings(ctx)
    database = settings.path(settings.storage.database)
    bad = False
    for acct in settings.accounts:
        try:
            connector = build_connector(settings, acct, database)
        except ModbotError as exc:
            click.echo(f"{acct.key}: cannot start: {exc}")
            bad = True
            continue
        report = check(connector)
        bad |= not report.ok
        click.echo(f"{acct.key} ({acct.display_name}): token of {report.owner or 'unknown'}")
        if report.problem:
            click.echo(f"  problem: {report.problem}")
        if report.missing:
            click.echo("  missing permissions: " + ", ".join(sorted(report.missing)))
    if bad:
        ctx.exit(EXIT_PARTIAL)
