"""Commands about the configured social media accounts: check their tokens, resume them after
a fix, and ban an author when a person approves it. Everything printed is redacted."""

from __future__ import annotations

import click

from bot.core.errors import ConnectorError, ModbotError
from bot.core.redact import redact
from bot.faces.cli.root import (
    EXIT_ERROR,
    EXIT_PARTIAL,
    EXIT_USAGE,
    _actor,
    _database,
    _settings,
    _store,
    cli,
    refused,
)


def say(text: str, err: bool = False) -> None:
    """Every line these commands print goes through the scrubbing boundary."""
    click.echo(redact(text), err=err)


def _account(ctx: click.Context, settings, name: str):
    """An account by its key (`facebook:123`), its id or its display name; exit 2 if none."""
    for acct in settings.accounts:
        if name in (acct.key, acct.account_id, acct.display_name):
            return acct
    known = ", ".join(a.key for a in settings.accounts)
    say(f"no account {name!r} in the configuration (known: {known})", err=True)
    ctx.exit(EXIT_USAGE)


@cli.group()
def accounts() -> None:
    """The configured social media accounts."""


@accounts.command("check")
@click.pass_context
def accounts_check(ctx: click.Context) -> None:
    """Ask each platform who each token belongs to and which permissions are missing.

    Facebook and Instagram permissions are read with Meta's debug_token, which needs the app's
    own token: set MODBOT_META_APP_ID and MODBOT_META_APP_SECRET. Exits 5 if any token is
    rejected or lacks a permission modbot needs."""
    from connectors.accounts_check import app_token, check
    from connectors.registry import build_connector

    settings = _settings(ctx)
    database = _database(ctx, settings)
    app = app_token()
    bad = False
    for acct in settings.accounts:
        try:
            connector = build_connector(settings, acct, database)
        except ModbotError as exc:
            say(f"{acct.key}: cannot start: {exc}")
            bad = True
            continue
        report = check(connector, app)
        bad |= not report.ok
        say(f"{acct.key} ({acct.display_name}): token of {report.owner or 'unknown'}")
        if report.problem:
            say(f"  problem: {report.problem}")
        if report.missing:
            say("  missing permissions: " + ", ".join(sorted(report.missing)))
        if report.note:
            say(f"  note: {report.note}")
    if bad:
        ctx.exit(EXIT_PARTIAL)


@accounts.command("resume")
@click.argument("account")
@click.option("--by", "by", required=True, help="Who asks (recorded in the audit log).")
@click.pass_context
def accounts_resume(ctx: click.Context, account: str, by: str) -> None:
    """Poll ACCOUNT at the next chance, after its token or permission was fixed or a rate
    limit passed, and resume automatic hiding if the circuit breaker paused it. BY must be an
    administrator or the DSL."""
    from bot.services.actors import Forbidden, Role

    settings = _settings(ctx)
    acct = _account(ctx, settings, account)
    try:
        _actor(ctx, settings, by).require(Role.ADMIN, Role.DSL)
    except Forbidden as exc:
        refused(ctx, exc)
    store = _store(ctx, settings=settings)[1]
    store.accounts.ensure(acct.key, acct.platform, acct.account_id, acct.display_name)
    store.accounts.resume(acct.key, by)
    say(f"{acct.key}: the next poll runs at once (the running service picks it up)")
    if store.resume_breaker(acct.key, by):
        store.audit("breaker.resumed", actor=by, platform=acct.platform, account=acct.key)
        say(f"{acct.key}: automatic hiding resumed")


@accounts.command("ban")
@click.argument("account")
@click.argument("author_id")
@click.option(
    "--approved-by", "approved_by", required=True, help="The person who approved the ban."
)
@click.option("--comment", "comment_id", default="", help="The comment that prompted it.")
@click.pass_context
def accounts_ban(
    ctx: click.Context, account: str, author_id: str, approved_by: str, comment_id: str
) -> None:
    """Block AUTHOR_ID from ACCOUNT, on a person's approval (modbot never bans by itself).

    The approver must be the DSL or the deputy DSL (administrators suggest bans). Facebook
    Pages block the person from the Page; X blocks them where the app's API tier allows it
    (Enterprise); Instagram's API cannot. Audited before and after. Exits 5 when the platform
    refuses or cannot, 2 when the approver may not approve."""
    from bot.core.models import Ban
    from bot.services.actors import Forbidden, Role
    from connectors.registry import build_connector

    settings = _settings(ctx)
    acct = _account(ctx, settings, account)
    try:
        _actor(ctx, settings, approved_by).require(Role.DSL)
    except Forbidden as exc:
        refused(ctx, exc)
    if acct.mode == "shadow":
        say(
            f"{acct.key} is in shadow mode: modbot changes nothing on it. Ban in the platform's "
            "own app, or switch the account to enforce.",
            err=True,
        )
        ctx.exit(EXIT_PARTIAL)
    try:
        connector = build_connector(settings, acct, _database(ctx, settings))
    except ModbotError as exc:
        say(f"cannot start {acct.key}: {exc}", err=True)
        ctx.exit(EXIT_ERROR)
    store = _store(ctx, settings=settings)[1]
    detail = {"account": acct.key, "author_id": author_id}
    store.audit(
        "ban.approved", actor=approved_by, platform=acct.platform, comment_id=comment_id, **detail
    )
    try:
        connector.apply(Ban(comment_id, author_id=author_id))
    except ConnectorError as exc:
        error = redact(str(exc))
        store.audit(
            "ban.failed",
            actor=approved_by,
            platform=acct.platform,
            comment_id=comment_id,
            error=error,
            **detail,
        )
        say(f"not banned: {error}", err=True)
        ctx.exit(EXIT_PARTIAL)
    store.audit(
        "ban.done", actor=approved_by, platform=acct.platform, comment_id=comment_id, **detail
    )
    say(f"{author_id} is banned from {acct.display_name} (approved by {approved_by})")
