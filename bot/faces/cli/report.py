"""`modbot report`: the monthly moderation report for senior leaders and governors."""

from __future__ import annotations

from pathlib import Path

import click

from bot.faces.cli.root import EXIT_ERROR, _actor, _settings, _store, cli, db_option, refused


@cli.command()
@click.option("--month", "month", required=True, help="The month to report on, YYYY-MM.")
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for report-YYYY-MM.html, .pdf and .csv (default: report.out_dir).",
)
@click.option(
    "--send",
    is_flag=True,
    help="Also email the PDF to SLT (and the governors if report.send_to_governors), "
    "through the outbox: once per person per month, retried if the mail server is down.",
)
@db_option("Database to report on")
@click.option(
    "--by",
    "by",
    help="Who is asking (SLT, the DSL or an administrator; default: the configured SLT).",
)
@click.pass_context
def report(
    ctx: click.Context, month: str, out: Path | None, send: bool, db: Path | None, by: str | None
) -> None:
    """Write the monthly moderation report as HTML, PDF and CSV, and optionally email it.

    The figures are references only: no comment's words, no author, no child's name. Exits 2
    for a malformed or future month, or a database that does not exist."""
    from bot.core.clock import system_clock
    from bot.services import reporting as use
    from bot.services.actors import Forbidden

    settings = _settings(ctx)
    try:
        chosen = use.Month.parse(month)
        chosen.check_started(system_clock(), settings.school.tz)
    except use.BadMonth as exc:
        refused(ctx, exc)
    store = _store(ctx, db, settings=settings, missing=" (run modbot first, or pass --db)")[1]
    actor = _actor(ctx, settings, by or settings.slt.name)
    folder = out or settings.path(settings.report.out_dir)
    try:
        made = use.write_report(store, settings, chosen, actor, folder)
    except (use.BadMonth, Forbidden) as exc:
        refused(ctx, exc)
    except ImportError as exc:
        click.echo(f"modbot: the PDF needs WeasyPrint ({exc}): pip install weasyprint", err=True)
        ctx.exit(EXIT_ERROR)
    except OSError as exc:
        if exc.errno is not None:
            raise  # disk full, a folder not writable: `modbot` says so and exits 6
        click.echo(
            f"modbot: the PDF could not be made: {exc}. WeasyPrint needs Pango: "
            "apt-get install libpango-1.0-0 libpangoft2-1.0-0",
            err=True,
        )
        ctx.exit(EXIT_ERROR)
    f = made.figures
    for path in (made.files.html, made.files.pdf, made.files.csv):
        click.echo(str(path))
    if f.no_activity:
        click.echo(f"{f.month.title}: no activity", err=True)
    else:
        click.echo(
            f"{f.month.title}: {f.headline.moderated} moderated, {f.headline.hidden} hidden, "
            f"{f.headline.escalated} escalated, {f.headline.replies_needed} needed a reply; "
            f"24-hour rule {f.deadlines.rate} ({f.deadlines.rate.fraction})",
            err=True,
        )
    if send:
        queued = use.send_report(store, settings, made, actor)
        if queued:
            click.echo(
                "queued for " + ", ".join(queued) + " (the running service sends it)", err=True
            )
        else:
            click.echo(f"already queued for everyone for {f.month}: nothing new sent", err=True)
