"""Commands for the 24-hour clock: deadline, ack, leave, items."""

from __future__ import annotations

from datetime import datetime

import click

from bot.faces.cli.root import EXIT_USAGE, _actor, _settings, _store, cli, refused


@cli.command()
@click.argument("received")
@click.option(
    "--nation",
    type=click.Choice(["england", "wales", "scotland", "northern_ireland"]),
    help="Bank holidays of this nation instead of the configuration's.",
)
@click.option("--ignore-closures", is_flag=True, help="Leave out the configured closure days.")
@click.pass_context
def deadline(ctx: click.Context, received: str, nation: str | None, ignore_closures: bool) -> None:
    """When a comment RECEIVED at this time must be acknowledged (the 24-hour rule).

    RECEIVED is ISO 8601 (2026-11-21T09:30); without an offset it is school time. Prints the
    due time as ISO 8601 with its offset, and the rule that applied."""
    settings = _settings(ctx)
    if ignore_closures:
        settings = settings.model_copy(
            update={"calendar": settings.calendar.model_copy(update={"closures": []})}
        )
    try:
        moment = datetime.fromisoformat(received)
    except ValueError:
        click.echo(f"not an ISO 8601 time: {received!r} (e.g. 2026-11-21T09:30)", err=True)
        ctx.exit(EXIT_USAGE)
    calendar = settings.school_calendar(nation)
    result = calendar.deadline(moment)
    click.echo(f"received: {result.received.isoformat()} ({result.received:%A})")
    if moment.tzinfo is None and _ambiguous(moment, calendar.tz):
        click.echo(
            "note: that local time happens twice (the clocks go back); the first, "
            "summer-time reading was used"
        )
    click.echo(f"due: {result.due.isoformat()} ({result.due:%A %-d %B %Y %H:%M %Z})")
    click.echo(f"rule: {result.rule} [{calendar.nation.replace('_', ' ')}]")


@cli.command()
@click.argument("item", type=int)
@click.option("--by", "by", required=True, help="Who acknowledges (an administrator or the DSL).")
@click.pass_context
def ack(ctx: click.Context, item: int, by: str) -> None:
    """Acknowledge acknowledgement ITEM. Doing it twice is harmless.

    An escalation's item can only be acknowledged by the DSL or deputy."""
    from bot.services import acknowledgement as use
    from bot.services.actors import Forbidden, NotFound

    settings, store = _store(ctx)
    try:
        click.echo(use.acknowledge(store, item, _actor(ctx, settings, by)))
    except (NotFound, Forbidden) as exc:
        refused(ctx, exc)


@cli.group()
def leave() -> None:
    """Record leave: a person on leave is never assigned, and a DSL on leave is never the only
    one told of a concern."""


@leave.command("add")
@click.argument("name")
@click.argument("start", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.argument("end", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--by", "by", help="Who records it (default: NAME themself).")
@click.pass_context
def leave_add(
    ctx: click.Context, name: str, start: datetime, end: datetime, by: str | None
) -> None:
    """NAME is on leave from START to END (YYYY-MM-DD, inclusive). NAME may be an
    administrator, the DSL, the deputy DSL or SLT."""
    from bot.services import acknowledgement as use
    from bot.services.actors import Forbidden, NotFound

    settings, store = _store(ctx)
    actor = _actor(ctx, settings, by or name)
    try:
        click.echo(use.record_leave(store, settings, actor, name, start.date(), end.date()))
    except (NotFound, Forbidden) as exc:
        refused(ctx, exc)


@cli.command()
@click.option(
    "--status",
    default="open",
    show_default=True,
    type=click.Choice(["open", "breached", "acknowledged", "all"]),
)
@click.pass_context
def items(ctx: click.Context, status: str) -> None:
    """List acknowledgement items: who has them and when they are due."""
    store = _store(ctx)[1]
    rows = store.items.with_status(None if status == "all" else status)
    for r in rows:
        click.echo(
            f"{r.id:>5}  {r.kind:<11} {r.status.value:<12} due {r.due_at.isoformat()}  "
            f"{r.assignee} (backup {r.backup})"
        )
    if not rows:
        click.echo(f"no {status} items")


def _ambiguous(moment: datetime, tz) -> bool:
    first = moment.replace(tzinfo=tz, fold=0).utcoffset()
    return first != moment.replace(tzinfo=tz, fold=1).utcoffset()
