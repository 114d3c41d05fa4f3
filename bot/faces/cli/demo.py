"""The demo: the sandbox school week on a simulated clock."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

import click

from bot.core.errors import ConfigError
from bot.faces.cli.root import (
    EXIT_CONFIG,
    EXIT_PARTIAL,
    _settings,
    cli,
)


@cli.command()
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Database to use (default: a new temporary one).",
)
@click.pass_context
def demo(ctx: click.Context, db: Path | None) -> None:
    """Run the sandbox scenario end to end and print what modbot did.

    Needs no credentials and no network: the accounts are a local sandbox platform."""
    from bot.app import build_pipeline
    from bot.faces.demo import (
        SimulatedClock,
        acknowledgement_summary,
        refer_and_export,
        simulate_week,
        summary,
    )
    from connectors.sandbox import SandboxConnector

    settings = _settings(ctx)
    sandbox = [a for a in settings.accounts if a.platform == "sandbox"]
    if not sandbox:
        click.echo("The demo needs a sandbox account in the configuration.", err=True)
        ctx.exit(EXIT_CONFIG)
    settings = settings.model_copy(update={"accounts": sandbox})
    database = db or Path(tempfile.mkdtemp(prefix="modbot-demo-")) / "modbot.db"
    outbox = database.parent / "outbox"
    clock = SimulatedClock(datetime(2026, 11, 16, 8, 0, tzinfo=UTC))
    try:
        pipeline, classifiers = build_pipeline(settings, database, clock=clock, outbox=outbox)
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        ctx.exit(EXIT_CONFIG)
    sandboxes = [c for c in pipeline.connectors.values() if isinstance(c, SandboxConnector)]
    for connector in sandboxes:
        connector.clock = clock
    click.echo(
        "Moderating the sandbox scenario, 16 to 24 November 2026, on a simulated clock...", err=True
    )
    counts = simulate_week(pipeline, clock, end=datetime(2026, 11, 24, 18, 0, tzinfo=UTC))
    exported = refer_and_export(pipeline, settings, database.parent / "evidence")
    problems = [p for c in sandboxes for p in c.sandbox.problems]
    click.echo(
        summary(
            settings,
            pipeline,
            classifiers.backend_description,
            len(classifiers.rules.rules),
            problems,
        )
    )
    click.echo(acknowledgement_summary(settings, pipeline, counts, outbox, exported))
    click.echo(_dashboard_sign_ins(pipeline.store, settings, database, ctx.obj.get("config")))
    if pipeline.store.views.unhealthy_accounts():
        ctx.exit(EXIT_PARTIAL)


def _dashboard_sign_ins(store, settings, database: Path, config: str | None) -> str:
    """One sign-in per role for the dashboard over this demo's database."""
    from bot.services.users import demo_sign_ins

    roles = {"admin": "administrator", "dsl": "DSL", "slt": "senior leader"}
    command = f"modbot --config {config} web" if config else "modbot web"
    out = ["", "The dashboard: see the week in a browser", f"  {command} --db {database}"]
    out.append("  then open http://127.0.0.1:8465/ and sign in as (one-time passwords):")
    for user, password in demo_sign_ins(store, settings):
        out.append(f"    {roles[user.role]:<14} {user.email:<36} {password}")
    return "\n".join(out)
