"""`modbot init`: a guided first setup that writes a commented configuration and a secrets file.

The configuration (TOML, commented, every account in shadow mode) holds no secret. Tokens, the
SMTP password and the one-click link key go to an environment file, mode 0600, that systemd
reads with EnvironmentFile= and docker compose with env_file:. Nothing that exists is
overwritten without asking (--force when non-interactive). Then `config check` runs, and
`accounts check` for real platforms, with that environment, as the service will run."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import click
from pydantic import BaseModel

from bot.config.settings import PLATFORMS, REPO_ROOT, Classifiers, Notices, Settings
from bot.core.errors import ConfigError
from bot.faces.cli.root import EXIT_CONFIG, EXIT_PARTIAL, EXIT_USAGE, cli

NATIONS = ("england", "wales", "scotland", "northern_ireland")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PERSON = re.compile(r"^\s*(?P<name>[^<>]+?)\s*<(?P<email>[^<>\s]+)>\s*$")
SHIPPED_SCENARIO = REPO_ROOT / "config" / "sandbox" / "school_week.jsonl"
LINK_SECRET_ENV = "MODBOT_LINK_SECRET"
SMTP_USER_ENV, SMTP_PASSWORD_ENV = "MODBOT_SMTP_USER", "MODBOT_SMTP_PASSWORD"
META_ENVS = ("MODBOT_META_APP_ID", "MODBOT_META_APP_SECRET")


@dataclass
class Person:
    name: str
    email: str
    phone: str = ""


@dataclass
class AccountAnswer:
    platform: str
    account_id: str
    display_name: str
    token_env: str | None = None
    token: str = ""


@dataclass
class Answers:
    school: str
    nation: str
    timezone: str
    house_rules_url: str
    administrators: list[Person]
    dsl: Person
    deputy: Person
    slt: Person
    accounts: list[AccountAnswer]
    email_mode: str
    from_address: str
    base_url: str
    state_dir: Path
    scenario: Path
    smtp: dict = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)


# --- writing ----------------------------------------------------------------------------------


def toml_str(value: str) -> str:
    """A TOML basic string. JSON's escapes are TOML's, except that TOML also forbids DEL."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _line(key: str, value: str, comment: str = "") -> str:
    text = f"{key} = {value}"
    return f"{text:<37} # {comment}" if comment else text


def _person(table: str, person: Person, comment: str = "", phone: bool = False) -> list[str]:
    head = f"[{table}]" if not table.startswith("[") else table
    lines = [f"{head:<37} # {comment}" if comment else head]
    lines += [_line("name", toml_str(person.name)), _line("email", toml_str(person.email))]
    if phone:
        lines.append(_line("phone", toml_str(person.phone)))
    return [*lines, ""]


def shipped_dirs(section: type[BaseModel]) -> list[str]:
    """`*_dir` keys whose default is a folder shipped in config/ (rules, templates, ...),
    written as absolute paths: the configuration lives in /etc/modbot, not beside them."""
    lines = []
    for name, spec in section.model_fields.items():
        default = spec.default
        if name.endswith("_dir") and isinstance(default, Path) and not default.is_absolute():
            shipped = (REPO_ROOT / "config" / default).resolve()
            if shipped.is_dir() and shipped.is_relative_to(REPO_ROOT / "config"):
                lines.append(_line(name, toml_str(str(shipped))))
    return lines


def render_config(a: Answers, env_file: Path, written_on: date) -> str:
    """The configuration as TOML, with the comments a school's IT technician needs."""
    from bot.store.backup import BackupSettings

    state = a.state_dir
    out = [
        f"# modbot configuration for {a.school}, written by `modbot init` on {written_on}.",
        "# Check it with:  modbot --config THIS_FILE config check",
        "# Everything not set here has a default: config/modbot.example.toml documents every key.",
        f"# No secret is in this file: tokens and passwords are in {env_file}",
        "# (mode 0600), read by systemd (EnvironmentFile=) or docker compose (env_file:).",
        "",
        "[school]",
        _line("name", toml_str(a.school)),
        _line("timezone", toml_str(a.timezone), "IANA name; all deadlines are in this zone"),
        _line("nation", toml_str(a.nation), "england | wales | scotland | northern_ireland"),
        _line("house_rules_url", toml_str(a.house_rules_url), "linked from audience notices"),
        "",
        "# At least two designated administrators share moderation so that leave is covered.",
    ]
    for person in a.administrators:
        out += _person("[[administrators]]", person)
    out += _person("dsl", a.dsl, "Designated Safeguarding Lead", phone=True)
    out += _person("deputy_dsl", a.deputy, "the deputy DSL", phone=True)
    out += _person("slt", a.slt, "the senior leader told of breaches")
    out += [
        "# The accounts to watch. Every one starts in shadow mode: modbot records what it would",
        "# do and touches nothing on the platform (safeguarding escalations still reach the",
        '# DSL). Once a week of decisions looks right (the digests), set mode = "enforce".',
    ]
    for acct in a.accounts:
        out += [
            "[[accounts]]",
            _line("platform", toml_str(acct.platform)),
            _line("account_id", toml_str(acct.account_id)),
            _line("display_name", toml_str(acct.display_name)),
            _line("poll_interval_seconds", "300", "30 to 86400"),
            _line("mode", '"shadow"', "shadow | enforce"),
        ]
        if acct.platform == "sandbox":
            out.append(_line("scenario", toml_str(str(a.scenario)), "a local test platform"))
        else:
            out.append(_line("token_env", toml_str(acct.token_env or ""), "its value: env file"))
        out.append("")
    out += ["[email]", _line("mode", toml_str(a.email_mode), "outbox: .eml files; smtp: send")]
    out.append(_line("outbox_dir", toml_str(str(state / "outbox"))))
    if a.email_mode == "smtp":
        out += [
            _line("host", toml_str(a.smtp["host"])),
            _line("port", str(a.smtp["port"])),
            _line("security", toml_str(a.smtp["security"]), "starttls | ssl | none"),
        ]
        if a.smtp.get("username"):
            out.append(_line("username_env", toml_str(SMTP_USER_ENV), "its value: env file"))
            out.append(_line("password_env", toml_str(SMTP_PASSWORD_ENV), "its value: env file"))
    out += [
        _line("from_address", toml_str(a.from_address)),
        _line("link_secret_env", toml_str(LINK_SECRET_ENV), "HMAC key of one-click links"),
        _line("base_url", toml_str(a.base_url), "where people reach `modbot web`"),
        _line("include_comment_text", "false", "alerts carry a category and a link only"),
        "",
        "[classifiers]",
        _line("backend", '"auto"', "auto | detoxify | profanity-check | none"),
        _line("models_dir", toml_str(str(state / "models"))),
        "# The rules (and other files) shipped with modbot; to change them, copy the folder",
        "# and point here.",
        *shipped_dirs(Classifiers),
        "",
        "[storage]",
        _line("database", toml_str(str(state / "modbot.db")), "created mode 0600"),
        "",
        "[notices]",
        *shipped_dirs(Notices),
        "",
    ]
    defaults = BackupSettings()
    backup = [
        "[backup]",
        _line("dir", toml_str(str(state / "backups")), "copies are 0600, in a 0700 folder"),
        _line("keep", str(defaults.keep), "copies kept of each kind (nightly: days)"),
        _line("at", f"{defaults.at:%H:%M:%S}", "nightly, school time"),
    ]
    if "backup" in Settings.model_fields:
        out += backup
    else:  # this modbot's settings do not read [backup] yet: the defaults above apply
        out += ["# Backups: nightly at 02:30 into the `backups` folder beside the database."]
        out += [f"# {line}" for line in backup]
    return "\n".join(out) + "\n"


def env_value(key: str, value: str) -> str:
    """One line systemd (EnvironmentFile=) and docker compose (env_file) both read literally:
    single quotes, which neither expands inside."""
    if "'" in value or "\n" in value or "\r" in value:
        raise click.UsageError(
            f"the value for {key} contains a quote or a line break; write it into the "
            "environment file by hand"
        )
    return f"{key}='{value}'"


def render_env(values: dict[str, str]) -> str:
    lines = [
        "# modbot's secrets. Read by systemd (EnvironmentFile=) or docker compose (env_file:).",
        "# Readable by the service only (mode 0600). Never commit, copy or email this file.",
    ]
    lines += [env_value(k, v) if v else f"{k}=" for k, v in values.items()]
    return "\n".join(lines) + "\n"


def read_env_file(path: Path) -> dict[str, str]:
    """The values `render_env` wrote (for the checks run after writing)."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().removeprefix("'").removesuffix("'")
    return values


def write_private(path: Path, text: str, owner: str | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    if owner:
        shutil.chown(partial, owner, owner)
    os.replace(partial, path)


# --- asking -----------------------------------------------------------------------------------


def parse_person(text: str, what: str) -> Person:
    match = PERSON.match(text or "")
    if not match or not EMAIL.match(match["email"]):
        raise click.BadParameter(f"{text!r}: expected 'Name <email@example.org>'", param_hint=what)
    return Person(match["name"], match["email"])


def parse_account(text: str) -> AccountAnswer:
    parts = (text or "").split(":", 2)
    if len(parts) != 3 or not all(p.strip() for p in parts) or parts[0] not in PLATFORMS:
        raise click.BadParameter(
            f"{text!r}: expected PLATFORM:ACCOUNT_ID:DISPLAY NAME with PLATFORM one of "
            + ", ".join(PLATFORMS),
            param_hint="--account",
        )
    return AccountAnswer(parts[0], parts[1].strip(), parts[2].strip())


def _email_value(value: str) -> str:
    if not EMAIL.match(value.strip()):
        raise click.BadParameter(f"{value!r} is not an email address")
    return value.strip()


class Asker:
    """A value from its flag, else (interactive) from a prompt, else a usage error listing
    every missing flag at once."""

    def __init__(self, interactive: bool):
        self.interactive = interactive
        self.missing: list[str] = []

    def ask(self, given, flag: str, prompt: str, default=None, **kw):
        if given not in (None, "", ()):
            return given
        if self.interactive:
            return click.prompt(prompt, default=default, **kw)
        if default is not None:
            return default
        self.missing.append(flag)
        return None

    def person(self, given: str | None, flag: str, role: str, phone: str | None = None) -> Person:
        if given:
            person = parse_person(given, flag)
        elif self.interactive:
            name = click.prompt(f"{role}: name")
            person = Person(name, click.prompt(f"{role}: email", value_proc=_email_value))
        else:
            self.missing.append(flag)
            return Person("?", "?@?.?")
        if phone is not None:
            person.phone = phone
        elif self.interactive:
            person.phone = click.prompt(f"{role}: phone", default="", show_default=False)
        return person


def _token_envs(accounts: list[AccountAnswer]) -> None:
    """MODBOT_FACEBOOK_TOKEN, then MODBOT_FACEBOOK_TOKEN_2 for a second Page, and so on."""
    seen: dict[str, int] = {}
    for acct in accounts:
        if acct.platform == "sandbox":
            continue
        seen[acct.platform] = seen.get(acct.platform, 0) + 1
        n = seen[acct.platform]
        acct.token_env = f"MODBOT_{acct.platform.upper()}_TOKEN" + (f"_{n}" if n > 1 else "")


def ask_accounts(asker: Asker, given: tuple[str, ...], school: str) -> list[AccountAnswer]:
    accounts = [parse_account(text) for text in given]
    if not accounts and asker.interactive:
        click.echo("\nThe accounts to watch (each starts in shadow mode).")
        while True:
            platform = click.prompt("Platform", type=click.Choice(PLATFORMS))
            account_id = click.prompt("The platform's id for the account (e.g. the Page id)")
            display_name = click.prompt("A name people recognise", default=school)
            accounts.append(AccountAnswer(platform, account_id, display_name))
            if not click.confirm("Add another account?", default=False):
                break
    if not accounts:
        asker.missing.append("--account")
    _token_envs(accounts)
    for acct in accounts:
        if acct.platform == "sandbox":
            continue
        acct.token = os.environ.get(acct.token_env or "", "")
        if not acct.token and asker.interactive:
            acct.token = click.prompt(
                f"Token for {acct.platform} {acct.account_id} (hidden; kept in the env file "
                "only; Enter to add it later)",
                default="",
                hide_input=True,
                show_default=False,
            )
    return accounts


# --- the command ------------------------------------------------------------------------------


def _checks(path: Path, env_file: Path, accounts: list[AccountAnswer], run_accounts: bool) -> int:
    """Run the checks as the service will run: a new process with the env file's values."""
    env = {**os.environ, **{k: v for k, v in read_env_file(env_file).items() if v}}
    base = [sys.executable, "-m", "bot", "--config", str(path)]

    def run(*args: str) -> int:
        done = subprocess.run([*base, *args], env=env, capture_output=True, text=True, check=False)
        click.echo(done.stdout, nl=False)
        click.echo(done.stderr, nl=False, err=True)
        return done.returncode

    click.echo("\nChecking the configuration (modbot config check):")
    if run("config", "check") != 0:
        return EXIT_CONFIG
    real = [a for a in accounts if a.platform != "sandbox"]
    if not real:
        click.echo("(accounts check skipped: sandbox accounts only)")
        return 0
    if not run_accounts:
        click.echo("(accounts check skipped: --no-accounts-check)")
        return 0
    click.echo("\nAsking each platform about its token (modbot accounts check):")
    return 0 if run("accounts", "check") == 0 else EXIT_PARTIAL


def _next_steps(path: Path, env_file: Path, a: Answers, checked: int) -> str:
    config = f"--config {path}"
    steps = []
    if checked == EXIT_CONFIG:
        steps.append(f"Fix what `modbot {config} config check` reports, then run it again.")
    missing = [acct.token_env for acct in a.accounts if acct.token_env and not acct.token]
    if missing:
        steps.append(f"Put the token(s) for {', '.join(missing)} in {env_file}.")
    if any(acct.platform != "sandbox" for acct in a.accounts):
        steps.append(f"Check the tokens and their permissions: modbot {config} accounts check")
    steps += [
        "Start modbot as a service: deploy/systemd.md (systemctl enable --now modbot modbot-web)"
        " or deploy/docker.md (docker compose up -d); HTTPS in front: deploy/https.md.",
        f"Watch it in shadow mode for a week: modbot {config} health, and the digests; then set "
        'mode = "enforce" on each account.',
        f"Backups are taken nightly into {a.state_dir / 'backups'}; try one now: "
        f"modbot {config} backup",
    ]
    return "Next steps:\n" + "\n".join(f"  {i}. {s}" for i, s in enumerate(steps, 1))


@cli.command()
@click.option("--non-interactive", is_flag=True, help="Take every answer from the flags.")
@click.option("--force", is_flag=True, help="Overwrite existing files (non-interactive).")
@click.option(
    "--path",
    "path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Configuration file to write (default: --config, else ./modbot.toml).",
)
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Secrets file to write (default: modbot.env beside the configuration).",
)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Database, backups, outbox and models (default: var/ beside the configuration; "
    "/var/lib/modbot under systemd).",
)
@click.option("--owner", help="Give the files to this user (the service's), e.g. modbot.")
@click.option("--school", help="The school's or trust's name.")
@click.option("--nation", type=click.Choice(NATIONS), help="For bank holidays.")
@click.option("--timezone", help="IANA time zone (default Europe/London).")
@click.option("--house-rules-url", help="The page of house rules that notices link to.")
@click.option("--admin", "admins", multiple=True, help="'Name <email>'; at least two.")
@click.option("--dsl", help="Designated Safeguarding Lead: 'Name <email>'.")
@click.option("--dsl-phone", help="The DSL's phone number.")
@click.option("--deputy", help="Deputy DSL: 'Name <email>'.")
@click.option("--deputy-phone", help="The deputy DSL's phone number.")
@click.option("--slt", help="The senior leader told of breaches: 'Name <email>'.")
@click.option(
    "--account",
    "accounts",
    multiple=True,
    help="PLATFORM:ACCOUNT_ID:DISPLAY NAME (platform: sandbox, facebook, instagram, x). The "
    "token is read from MODBOT_<PLATFORM>_TOKEN in the environment, or asked for.",
)
@click.option(
    "--scenario",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A sandbox account's scenario (default: the shipped school week).",
)
@click.option("--email-mode", type=click.Choice(["outbox", "smtp"]), help="outbox or smtp.")
@click.option("--smtp-host")
@click.option("--smtp-port", type=int)
@click.option("--smtp-security", type=click.Choice(["starttls", "ssl", "none"]))
@click.option(
    "--smtp-user", help="SMTP user name (the password: MODBOT_SMTP_PASSWORD, or asked for)."
)
@click.option("--from-address", help="The address modbot's emails come from.")
@click.option("--base-url", help="Where people reach `modbot web` (the links in emails).")
@click.option(
    "--no-accounts-check", is_flag=True, help="Do not ask the platforms about the tokens now."
)
@click.pass_context
def init(ctx: click.Context, **opts) -> None:
    """Set modbot up: write a commented configuration and a secrets file, then check them.

    Asks for the school, at least two administrators, the DSL, deputy and SLT, the accounts
    (all in shadow mode) and email; with --non-interactive every answer comes from the flags.
    Tokens, the SMTP password and the link key go to the env file (0600), never the
    configuration. Existing files are never overwritten without asking (--force)."""
    interactive = not opts["non_interactive"]
    path = (opts["path"] or Path(ctx.obj.get("config") or "modbot.toml")).expanduser().absolute()
    env_file = (opts["env_file"] or path.with_name("modbot.env")).expanduser().absolute()
    existing = [p for p in (path, env_file) if p.exists()]
    if existing and not opts["force"]:
        names = " and ".join(str(p) for p in existing)
        if not interactive:
            click.echo(f"modbot init: {names} already exists; use --force to replace", err=True)
            ctx.exit(EXIT_USAGE)
        if not click.confirm(f"{names} already exists. Replace?", default=False):
            click.echo("Nothing written.")
            return
    if interactive:
        click.echo("modbot setup. Press Enter to accept a [default].\n")
    asker = Asker(interactive)
    school = asker.ask(opts["school"], "--school", "School or trust name")
    nation = asker.ask(
        opts["nation"], "--nation", "Nation", default="england", type=click.Choice(NATIONS)
    )
    timezone = asker.ask(opts["timezone"], "--timezone", "Time zone", default="Europe/London")
    rules_url = asker.ask(opts["house_rules_url"], "--house-rules-url", "House rules page URL")
    admins = [parse_person(text, "--admin") for text in opts["admins"]]
    if interactive:
        click.echo("\nAt least two administrators share moderation so that leave is covered.")
        while len(admins) < 2 or click.confirm("Add another administrator?", default=False):
            admins.append(asker.person(None, "--admin", f"Administrator {len(admins) + 1}", ""))
    elif len(admins) < 2:
        raise click.UsageError(
            f"{len(admins)} --admin given, at least 2 needed: the school's social media policy "
            "requires two designated administrators so that leave is covered"
        )
    dsl = asker.person(opts["dsl"], "--dsl", "Designated Safeguarding Lead", opts["dsl_phone"])
    deputy = asker.person(opts["deputy"], "--deputy", "Deputy DSL", opts["deputy_phone"])
    slt = asker.person(opts["slt"], "--slt", "Senior leader (SLT)", "")
    accounts = ask_accounts(asker, opts["accounts"], school)
    base = path.parent
    state_dir = (opts["state_dir"] or base / "var").expanduser().absolute()
    email_mode = asker.ask(
        opts["email_mode"],
        "--email-mode",
        "Email: smtp (send) or outbox (write files)",
        default="outbox",
        type=click.Choice(["outbox", "smtp"]),
    )
    smtp: dict = {}
    env_values = {LINK_SECRET_ENV: secrets.token_urlsafe(32)}
    for acct in accounts:
        if acct.token_env:
            env_values[acct.token_env] = acct.token
    if email_mode == "smtp":
        smtp["host"] = asker.ask(opts["smtp_host"], "--smtp-host", "SMTP server")
        smtp["port"] = asker.ask(opts["smtp_port"], "--smtp-port", "SMTP port", default=587)
        smtp["security"] = asker.ask(
            opts["smtp_security"],
            "--smtp-security",
            "SMTP security",
            default="starttls",
            type=click.Choice(["starttls", "ssl", "none"]),
        )
        user = opts["smtp_user"] or (
            click.prompt("SMTP user name (Enter: none)", default="", show_default=False)
            if interactive
            else ""
        )
        if user:
            smtp["username"] = user
            password = os.environ.get(SMTP_PASSWORD_ENV, "")
            if not password and interactive:
                password = click.prompt("SMTP password (hidden)", hide_input=True)
            env_values[SMTP_USER_ENV] = user
            env_values[SMTP_PASSWORD_ENV] = password
    for name in META_ENVS:  # lets `accounts check` see when Meta tokens expire (optional)
        if os.environ.get(name):
            env_values[name] = os.environ[name]
    from_address = asker.ask(
        opts["from_address"],
        "--from-address",
        "Emails come from",
        default=f"modbot@{admins[0].email.split('@', 1)[1]}" if admins else None,
        value_proc=_email_value,
    )
    base_url = asker.ask(
        opts["base_url"],
        "--base-url",
        "Where people reach modbot's web pages (https://... behind your proxy)",
        default="http://127.0.0.1:8465",
    )
    if asker.missing:
        raise click.UsageError("--non-interactive needs: " + ", ".join(sorted(set(asker.missing))))
    from_address = _email_value(from_address)
    answers = Answers(
        school,
        nation,
        timezone,
        rules_url,
        admins,
        dsl,
        deputy,
        slt,
        accounts,
        email_mode,
        from_address,
        base_url,
        state_dir,
        (opts["scenario"] or SHIPPED_SCENARIO).expanduser().absolute(),
        smtp,
    )
    text = render_config(answers, env_file, date.today())
    try:  # every problem at once, before anything is written
        import tomllib

        from bot.config.settings import parse_settings

        parse_settings(tomllib.loads(text), path, environ={k: "x" for k in env_values})
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        ctx.exit(EXIT_CONFIG)
    owner = opts["owner"]
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    if owner:
        shutil.chown(state_dir, owner, owner)
    write_private(path, text, owner)
    write_private(env_file, render_env(env_values), owner)
    click.echo(f"\nWrote {path} (the configuration, 0600)")
    click.echo(f"Wrote {env_file} (secrets, 0600: for systemd's EnvironmentFile=)")
    checked = _checks(path, env_file, accounts, not opts["no_accounts_check"])
    click.echo("\n" + _next_steps(path, env_file, answers, checked))
    if checked:
        ctx.exit(checked)
