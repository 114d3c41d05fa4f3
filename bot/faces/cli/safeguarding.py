"""The DSL's commands: the escalation queue."""

from __future__ import annotations

import json
from pathlib import Path

import click

from bot.faces.cli.root import (
    _desk,
    cli,
)


@cli.group()
def escalations() -> None:
    """The DSL's queue: list, show, ack, refer, close, export."""


@escalations.command("list")
@click.pass_context
def escalations_list(ctx: click.Context) -> None:
    """Every escalation, newest first (no comment text)."""
    desk = _desk(ctx)
    for r in desk.store.rows("select * from escalations order by id desc"):
        urgent = "URGENT " if r["urgent"] else ""
        click.echo(
            f"{r['id']:>5}  {r['status']:<12} {urgent}{', '.join(json.loads(r['categories']))}"
            f"  -> {r['route'] or 'route not set'}  ({r['created_at']})"
        )


@escalations.command("show")
@click.argument("escalation", type=int)
@click.pass_context
def escalations_show(ctx: click.Context, escalation: int) -> None:
    """The full evidence record of ESCALATION, including the comment's words."""
    from bot.safeguarding.escalations import evidence

    desk = _desk(ctx)
    desk.store.audit("escalation.viewed", escalation=escalation)
    click.echo(json.dumps(evidence(desk.store, escalation), indent=2, ensure_ascii=False))


def _set_status(ctx, escalation: int, status: str, by: str, **kw) -> None:
    from bot.safeguarding.escalations import change_status

    desk = _desk(ctx)
    row = change_status(desk.store, escalation, status, by, **kw)
    click.echo(f"escalation {escalation}: {row['status']}")


@escalations.command("ack")
@click.argument("escalation", type=int)
@click.option("--by", "by", required=True)
@click.pass_context
def escalations_ack(ctx: click.Context, escalation: int, by: str) -> None:
    """The DSL has seen ESCALATION."""
    _set_status(ctx, escalation, "acknowledged", by)


@escalations.command("refer")
@click.argument("escalation", type=int)
@click.option("--by", "by", required=True)
@click.option("--route", required=True, help="Where it was referred (e.g. CEOP, MASH, police).")
@click.option("--reference", required=True, help="Their reference number.")
@click.pass_context
def escalations_refer(
    ctx: click.Context, escalation: int, by: str, route: str, reference: str
) -> None:
    """Record that ESCALATION was referred, with the route and reference."""
    _set_status(ctx, escalation, "referred", by, reference=f"{route}: {reference}")


@escalations.command("close")
@click.argument("escalation", type=int)
@click.option("--by", "by", required=True)
@click.option("--outcome", required=True)
@click.pass_context
def escalations_close(ctx: click.Context, escalation: int, by: str, outcome: str) -> None:
    """Close ESCALATION with its outcome (it is never deleted)."""
    _set_status(ctx, escalation, "closed", by, outcome=outcome)


@escalations.command("export")
@click.argument("escalation", type=int)
@click.option(
    "--to",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    show_default=True,
)
@click.pass_context
def escalations_export(ctx: click.Context, escalation: int, folder: Path) -> None:
    """Write ESCALATION's evidence record as JSON and a printable HTML page."""
    from bot.safeguarding.escalations import export

    desk = _desk(ctx)
    for path in export(
        desk.store, escalation, folder, desk.settings.path(desk.settings.notices.templates_dir)
    ):
        click.echo(str(path))
