"""People who sign in to the dashboard: `modbot users add | list | password | disable | enable |
sign-out-everywhere`. Run by whoever runs modbot for the school; a one-time password is
printed once, to pass on in person or by phone (never by email)."""

from __future__ import annotations

from pathlib import Path

import click

from bot.faces.cli.root import _store, cli, db_option, refused


def _by() -> str:
    import getpass

    return f"cli:{getpass.getuser()}"


@cli.group()
def users() -> None:
    """Who may sign in to the dashboard, and with which role (admin, dsl, slt)."""


@users.command("add")
@click.argument("name")
@click.option("--email", required=True, help="Their email address (they sign in with it).")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["admin", "dsl", "slt"]),
    help="admin: moderation; dsl: also safeguarding; slt: numbers and reports only.",
)
@db_option()
@click.pass_context
def add(ctx: click.Context, name: str, email: str, role: str, db: Path | None) -> None:
    """Add a person; prints their one-time password (they choose their own at first sign-in)."""
    from bot.services import users as use

    store = _store(ctx, db)[1]
    try:
        user, password = use.add_user(store, name, email, role, by=_by())
    except use.UserError as exc:
        refused(ctx, exc)
    finally:
        store.close()
    click.echo(f"Added {user.name} <{user.email}> as {user.role}.")
    click.echo(f"One-time password: {password}")
    click.echo("Give it to them in person or by phone; they choose their own when they sign in.")


@users.command("list")
@db_option()
@click.pass_context
def list_users(ctx: click.Context, db: Path | None) -> None:
    """Everyone who may sign in, their role, and how many devices they are signed in on."""
    from bot.services import users as use

    store = _store(ctx, db)[1]
    try:
        rows = use.listing(store)
    finally:
        store.close()
    if not rows:
        click.echo("No users yet: add one with `modbot users add NAME --email E --role R`.")
    for user, sessions in rows:
        state = "disabled" if user.disabled_at else f"{sessions} session(s)"
        click.echo(f"{user.name:<24} {user.role:<6} {user.email:<36} {state}")


def _simple(verb: str, help_text: str):
    @users.command(verb, help=help_text)
    @click.argument("login")
    @db_option()
    @click.pass_context
    def command(ctx: click.Context, login: str, db: Path | None) -> None:
        from bot.services import users as use

        store = _store(ctx, db)[1]
        try:
            if verb == "password":
                user, password = use.reset_password(store, login, by=_by())
                click.echo(f"New one-time password for {user.name}: {password}")
                click.echo("They were signed out everywhere; they choose their own at sign-in.")
            elif verb == "disable":
                user = use.disable(store, login, by=_by())
                click.echo(f"{user.name} can no longer sign in, and was signed out everywhere.")
            elif verb == "enable":
                user = use.enable(store, login, by=_by())
                click.echo(f"{user.name} can sign in again.")
            else:
                ended = use.sign_out_everywhere(store, login, by=_by())
                click.echo(f"Signed out everywhere: {ended} session(s) ended.")
        except use.UserError as exc:
            refused(ctx, exc)
        finally:
            store.close()

    return command


_simple("password", "Give LOGIN (name or email) a new one-time password.")
_simple("disable", "Stop LOGIN (name or email) signing in; ends their sessions.")
_simple("enable", "Let a disabled LOGIN sign in again.")
_simple("sign-out-everywhere", "End every session of LOGIN (name or email): a lost phone.")
