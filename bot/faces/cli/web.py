"""The web face: serve."""

from __future__ import annotations

import click

from bot.faces.cli.root import (
    _desk,
    cli,
)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8465, show_default=True, type=int)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Serve the one-click acknowledgement links (a small local web server)."""
    from bot.faces.web import serve as run_server

    click.echo(f"serving acknowledgement links on http://{host}:{port}/ack", err=True)
    run_server(_desk(ctx), host, port)
