"""The DSL's commands: the escalation queue. Every command names who acts (`--by`); only the
DSL and deputy may read a concern's words, and every read is in the audit log."""

from __future__ import annotations

import json
from pathlib import Path

import click

from bot.faces.cli.root import _actor, _store, cli, refused


@cli.group()
def escalations() -> None:
    """The DSL's queue: list, show, ack, refer, close, export."""


def _run(ctx: click.Context, by: str, use_case, *args, opened=None, **kw):
    """`use_case(store, *args, actor, **kw)`, refusals said and exit 2. `opened`: the
    (settings, store) the command already has."""
    from bot.services.actors import Forbidden, NotFound

    settings, store = opened or _store(ctx)
    try:
        return use_case(store, *args, _actor(ctx, settings, by), **kw)
    except (NotFound, Forbidden) as exc:
        refused(ctx, exc)


@escalations.command("list")
@click.option("--by", "by", required=True, help="Who is looking (the DSL, deputy or SLT).")
@click.pass_context
def escalations_list(ctx: click.Context, by: str) -> None:
    """Every escalation, newest first (references and categories, no comment text)."""
    from bot.services import safeguarding as use

    for e in _run(ctx, by, use.queue):
        urgent = "URGENT " if e.urgent else ""
        click.echo(
            f"{e.id:>5}  {e.status.value:<12} {urgent}{', '.join(e.categories)}"
            f"  -> {e.route or 'route not set'}  ({e.created_at.isoformat()})"
        )


@escalations.command("show")
@click.argument("escalation", type=int)
@click.option("--by", "by", required=True, help="Who is reading (the DSL or deputy).")
@click.pass_context
def escalations_show(ctx: click.Context, escalation: int, by: str) -> None:
    """The full evidence record of ESCALATION, including the comment's words (audited)."""
    from bot.services import safeguarding as use

    record = _run(ctx, by, use.view_evidence, escalation)
    click.echo(json.dumps(record, indent=2, ensure_ascii=False))


@escalations.command("ack")
@click.argument("escalation", type=int)
@click.option("--by", "by", required=True)
@click.pass_context
def escalations_ack(ctx: click.Context, escalation: int, by: str) -> None:
    """The DSL has seen ESCALATION (its alerts stop)."""
    from bot.services import safeguarding as use

    click.echo(f"escalation {escalation}: {_run(ctx, by, use.acknowledge, escalation).status}")


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
    from bot.services import safeguarding as use

    result = _run(ctx, by, use.refer, escalation, route=route, reference=reference)
    click.echo(f"escalation {escalation}: {result.status}")


@escalations.command("close")
@click.argument("escalation", type=int)
@click.option("--by", "by", required=True)
@click.option("--outcome", required=True)
@click.pass_context
def escalations_close(ctx: click.Context, escalation: int, by: str, outcome: str) -> None:
    """Close ESCALATION with its outcome (it is never deleted)."""
    from bot.services import safeguarding as use

    result = _run(ctx, by, use.close, escalation, outcome=outcome)
    click.echo(f"escalation {escalation}: {result.status}")


@escalations.command("export")
@click.argument("escalation", type=int)
@click.option("--by", "by", required=True)
@click.option(
    "--to",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    show_default=True,
)
@click.pass_context
def escalations_export(ctx: click.Context, escalation: int, by: str, folder: Path) -> None:
    """Write ESCALATION's evidence record as JSON and a printable HTML page (files 0600)."""
    from bot.services import safeguarding as use

    opened = _store(ctx)
    settings = opened[0]
    templates = settings.path(settings.notices.templates_dir)
    for path in _run(
        ctx,
        by,
        use.export_evidence,
        escalation,
        opened=opened,
        folder=folder,
        templates_dir=templates,
    ):
        click.echo(str(path))
