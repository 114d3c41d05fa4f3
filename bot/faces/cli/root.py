"""The `modbot` group, its exit codes and the helpers every command uses."""

from __future__ import annotations

from pathlib import Path

import click

from bot import __version__
from bot.config.settings import Settings, load_settings
from bot.core.errors import ConfigError
from bot.core.logs import configure

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_CONFIG, EXIT_LOCKED, EXIT_PARTIAL = 0, 1, 2, 3, 4, 5
EXIT_ENVIRONMENT = 6  # disk full, read-only or unwritable folder


def _settings(ctx: click.Context) -> Settings:
    try:
        return load_settings(ctx.obj["config"])
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        ctx.exit(EXIT_CONFIG)


def _classifiers(ctx: click.Context, settings: Settings):
    """The configured classifiers, or exit 3 naming the rule file and line that is wrong."""
    from bot.app import build_classifier

    try:
        return build_classifier(settings)
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        ctx.exit(EXIT_CONFIG)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="modbot")
@click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False),
    envvar="MODBOT_CONFIG",
    help="Configuration file (default: MODBOT_CONFIG, else the sandbox example).",
)
@click.option(
    "--log-format",
    type=click.Choice(["auto", "json", "console"]),
    default="auto",
    show_default=True,
    help="auto: readable on a terminal, JSON lines otherwise.",
)
@click.option(
    "--log-level",
    default="WARNING",
    show_default=True,
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
)
@click.pass_context
def cli(ctx: click.Context, config: str | None, log_format: str, log_level: str) -> None:
    """modbot moderates a school's Facebook, Instagram and X accounts: it hides offensive
    comments, tells the audience why, and sends safeguarding concerns to the DSL."""
    ctx.ensure_object(dict)
    ctx.obj["config"] = config
    configure(None if log_format == "auto" else log_format == "json", log_level)


def db_option(what: str = "Database"):
    """`--db PATH`, for commands that may work on a database other than the configured one."""
    return click.option(
        "--db",
        type=click.Path(dir_okay=False, path_type=Path),
        help=f"{what} (default: storage.database in the configuration).",
    )


def _database(
    ctx: click.Context, settings: Settings, db: Path | None = None, missing: str = ""
) -> Path:
    """`db`, else the configured database. With `missing` (what to do about it), a database
    that is not there exits 2 saying so, instead of being created empty."""
    database = db or settings.path(settings.storage.database)
    if missing and not database.is_file():
        click.echo(f"modbot: no database at {database}{missing}", err=True)
        ctx.exit(EXIT_USAGE)
    return database


def _store(
    ctx: click.Context,
    db: Path | None = None,
    *,
    settings: Settings | None = None,
    missing: str = "",
):
    """The settings (loaded unless given) and the store: `db`, else the configured database
    (see `_database` for `missing`)."""
    from bot.store import Store

    settings = settings or _settings(ctx)
    return settings, Store(_database(ctx, settings, db, missing))


def _actor(ctx: click.Context, settings: Settings, name: str):
    """The person acting (`--by`), with the role the configuration gives them; exit 2 if the
    name is not in the configuration."""
    from bot.services.actors import Forbidden, actor_from_config

    try:
        return actor_from_config(settings, name)
    except Forbidden as exc:
        click.echo(f"modbot: {exc}", err=True)
        ctx.exit(EXIT_USAGE)


def refused(ctx: click.Context, exc: Exception) -> None:
    """A use case said no (not found, or not allowed): say why, exit 2."""
    click.echo(f"modbot: {exc}", err=True)
    ctx.exit(EXIT_USAGE)
