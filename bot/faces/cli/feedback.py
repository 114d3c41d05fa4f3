"""Labelled data from people's reviews: `modbot feedback export --to FILE`. Each comment a
person put back is a false positive (label allow); each one a second reviewer kept hidden is a
confirmed hide. Feed the file to `modbot evaluate` or mine it for the exemplar library."""

from __future__ import annotations

from pathlib import Path

import click

from bot.faces.cli.root import _store, cli, db_option


@cli.group()
def feedback() -> None:
    """Comments people put back (false positives) and second opinions, as labelled data."""


@feedback.command("export")
@click.option(
    "--to",
    "target",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSON lines file to write (0600), for `modbot evaluate` and the exemplar library.",
)
@db_option()
@click.pass_context
def export(ctx: click.Context, target: Path, db: Path | None) -> None:
    """Write every reviewed comment as {"id","text","label","category","source","rules"}."""
    from bot.core.files import write_private
    from bot.services.moderation import feedback_lines

    store = _store(ctx, db)[1]
    try:
        lines = feedback_lines(store)
    finally:
        store.close()
    write_private(target, "".join(line + "\n" for line in lines))
    click.echo(f"{len(lines)} labelled comment(s) written to {target}")
