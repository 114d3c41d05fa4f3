"""The web face: `modbot web` (and its old name `modbot serve`)."""

from __future__ import annotations

from pathlib import Path

import click

from bot.faces.cli.root import _database, _settings, cli, db_option

LOOPBACK = ("127.0.0.1", "::1", "localhost")


@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8465, show_default=True, type=int)
@db_option("Database to serve")
@click.pass_context
def web(ctx: click.Context, host: str, port: int, db: Path | None) -> None:
    """Serve the dashboard and the pages behind modbot's email links (uvicorn, on 127.0.0.1
    by default). To reach it from other devices, put a reverse proxy with HTTPS in front and
    set email.base_url to its https:// address (see the README)."""
    from bot.faces.web import WebContext, create_app
    from bot.faces.web import serve as run_server
    from bot.notify.links import load_secret

    settings = _settings(ctx)
    database = _database(ctx, settings, db, missing=": run `modbot run` or `modbot demo`")
    secret = load_secret(settings.email.link_secret_env, database.parent / "link-secret")
    context = WebContext(settings, database, secret)
    if host not in LOOPBACK and not context.cookie_secure:
        click.echo(
            f"modbot: warning: listening on {host} over plain http; sign-ins and comments would "
            "cross the network unencrypted. Put an HTTPS reverse proxy in front (README).",
            err=True,
        )
    click.echo(f"modbot's dashboard on http://{host}:{port}/ (database {database})", err=True)
    run_server(create_app(context), host, port)


web_command = cli.command("web")(web)
cli.add_command(
    click.Command(
        "serve",
        callback=web_command.callback,
        params=web_command.params,
        help="The old name of `modbot web`: the same command.",
    )
)
