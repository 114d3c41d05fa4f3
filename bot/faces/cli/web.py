"""The web face: serve."""

from __future__ import annotations

import click

from bot.faces.cli.root import _settings, cli


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8465, show_default=True, type=int)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Serve the pages behind modbot's email links (uvicorn, 127.0.0.1 by default; put a
    reverse proxy with HTTPS in front to reach it from outside)."""
    from bot.faces.web import WebContext, create_app
    from bot.faces.web import serve as run_server
    from bot.notify.links import load_secret

    settings = _settings(ctx)
    database = settings.path(settings.storage.database)
    secret = load_secret(settings.email.link_secret_env, database.parent / "link-secret")
    click.echo(f"serving modbot's pages on http://{host}:{port}/", err=True)
    run_server(create_app(WebContext(settings, database, secret)), host, port)
