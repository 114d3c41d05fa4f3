"""`modbot init` as a school's IT technician runs it: real files, real `config check`."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from bot.faces.cli import cli
from bot.faces.cli.setup import env_value, read_env_file, render_env, toml_str

PEOPLE = [
    "--admin",
    "Priya Shah <p.shah@example-school.sch.uk>",
    "--admin",
    "Tom Walker <t.walker@example-school.sch.uk>",
    "--dsl",
    "Helen Okafor <dsl@example-school.sch.uk>",
    "--dsl-phone",
    "01632 960000",
    "--deputy",
    "Mark Evans <deputy.dsl@example-school.sch.uk>",
    "--slt",
    "Sarah Linton <head@example-school.sch.uk>",
]
SCHOOL = [
    "--school",
    'St Mary\'s "Little" Kinvaston C of E School',
    "--nation",
    "wales",
    "--house-rules-url",
    "https://www.example-school.sch.uk/house-rules",
]
SANDBOX = ["--account", "sandbox:lks-page:Little Kinvaston (sandbox)"]


def modbot(*args: str, env: dict | None = None, cwd: Path | None = None):
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )


def init(tmp_path: Path, *args: str, env: dict | None = None):
    return modbot(
        "init", "--non-interactive", "--path", str(tmp_path / "modbot.toml"), *args, env=env
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_non_interactive_init_writes_a_config_that_passes_config_check(tmp_path):
    result = init(tmp_path, *SCHOOL, *PEOPLE, *SANDBOX)
    assert result.returncode == 0, result.stdout + result.stderr
    config, env_file = tmp_path / "modbot.toml", tmp_path / "modbot.env"
    assert "Configuration OK" in result.stdout and "Next steps:" in result.stdout
    assert "accounts check skipped: sandbox accounts only" in result.stdout

    # checked again from scratch, as the service will start: the env file's values, no others
    secrets = read_env_file(env_file)
    check = modbot("--config", str(config), "config", "check", env=secrets)
    assert check.returncode == 0, check.stderr
    assert "Account sandbox:lks-page (Little Kinvaston (sandbox)): shadow mode" in check.stdout

    data = tomllib.loads(config.read_text())
    assert data["school"]["name"] == 'St Mary\'s "Little" Kinvaston C of E School'
    assert data["school"]["nation"] == "wales"
    assert [a["name"] for a in data["administrators"]] == ["Priya Shah", "Tom Walker"]
    assert data["dsl"]["phone"] == "01632 960000"
    assert data["deputy_dsl"]["name"] == "Mark Evans" and data["slt"]["name"] == "Sarah Linton"
    assert {a["mode"] for a in data["accounts"]} == {"shadow"}
    assert "# At least two designated administrators" in config.read_text()
    assert mode(config) == 0o600 and mode(env_file) == 0o600
    assert mode(tmp_path / "var") == 0o700
    assert len(secrets["MODBOT_LINK_SECRET"]) >= 40
    assert secrets["MODBOT_LINK_SECRET"] not in config.read_text()


def test_tokens_and_passwords_go_to_the_env_file_never_the_config(tmp_path):
    token, password = "EAAGm0PX4ZCpsBAFAKEpagetoken123", "s3cret pass$word"
    result = init(
        tmp_path,
        *SCHOOL,
        *PEOPLE,
        "--account",
        "facebook:123456789012345:Little Kinvaston School",
        "--account",
        "x:1500000000000000000:LKS on X",
        "--email-mode",
        "smtp",
        "--smtp-host",
        "smtp.example-school.sch.uk",
        "--smtp-user",
        "modbot@example-school.sch.uk",
        "--no-accounts-check",
        env={
            "MODBOT_FACEBOOK_TOKEN": token,
            "MODBOT_X_TOKEN": "x-user-token",
            "MODBOT_SMTP_PASSWORD": password,
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "accounts check skipped: --no-accounts-check" in result.stdout
    config = (tmp_path / "modbot.toml").read_text()
    for secret in (token, "x-user-token", password):
        assert secret not in config and secret not in result.stdout + result.stderr
    data = tomllib.loads(config)
    assert [a["token_env"] for a in data["accounts"]] == ["MODBOT_FACEBOOK_TOKEN", "MODBOT_X_TOKEN"]
    assert data["email"]["password_env"] == "MODBOT_SMTP_PASSWORD"
    secrets = read_env_file(tmp_path / "modbot.env")
    assert secrets["MODBOT_FACEBOOK_TOKEN"] == token
    assert secrets["MODBOT_SMTP_PASSWORD"] == password

    clean = {k: v for k, v in os.environ.items() if not k.startswith("MODBOT_")}
    without = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(tmp_path / "modbot.toml"), "config", "check"],
        capture_output=True,
        text=True,
        env=clean,
        timeout=120,
    )
    assert without.returncode == 3 and "MODBOT_FACEBOOK_TOKEN is not set" in without.stderr
    with_env = modbot("--config", str(tmp_path / "modbot.toml"), "config", "check", env=secrets)
    assert with_env.returncode == 0, with_env.stderr


def test_an_existing_config_is_never_overwritten_without_force(tmp_path):
    config = tmp_path / "modbot.toml"
    config.write_text("# the school's own configuration\n")
    result = init(tmp_path, *SCHOOL, *PEOPLE, *SANDBOX)
    assert result.returncode == 2 and "already exists; use --force" in result.stderr
    assert config.read_text() == "# the school's own configuration\n"
    assert not (tmp_path / "modbot.env").exists()

    forced = init(tmp_path, *SCHOOL, *PEOPLE, *SANDBOX, "--force")
    assert forced.returncode == 0, forced.stderr
    assert "[school]" in config.read_text()


def test_interactive_init_refuses_to_replace_unless_told_yes(tmp_path):
    config = tmp_path / "modbot.toml"
    config.write_text("keep me\n")
    result = CliRunner().invoke(cli, ["init", "--path", str(config)], input="n\n")
    assert result.exit_code == 0 and "Nothing written." in result.output
    assert config.read_text() == "keep me\n"


def test_fewer_than_two_administrators_is_refused_before_anything_is_written(tmp_path):
    result = init(tmp_path, *SCHOOL, *PEOPLE[:2], *PEOPLE[4:], *SANDBOX)
    assert result.returncode == 2
    assert "at least 2 needed" in result.stderr and "two designated administrators" in result.stderr
    assert not list(tmp_path.iterdir())


def test_every_missing_flag_is_named_at_once(tmp_path):
    result = init(tmp_path, "--admin", PEOPLE[1], "--admin", PEOPLE[3])
    assert result.returncode == 2
    for flag in ("--account", "--deputy", "--dsl", "--house-rules-url", "--school", "--slt"):
        assert flag in result.stderr
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.iterdir())


def test_a_malformed_person_names_the_flag(tmp_path):
    args = [*SCHOOL, *PEOPLE, *SANDBOX]
    args[args.index("--dsl") + 1] = "Helen Okafor, dsl at school"
    result = init(tmp_path, *args)
    assert result.returncode == 2 and "--dsl" in result.stderr and "Name <email" in result.stderr


def test_interactive_setup_asks_for_everything_and_checks_it(tmp_path):
    config = tmp_path / "conf" / "modbot.toml"
    answers = [
        "Little Kinvaston School",  # school
        "",  # nation: england
        "",  # time zone: Europe/London
        "https://www.example-school.sch.uk/house-rules",
        "Priya Shah",
        "not an email",  # asked again
        "p.shah@example-school.sch.uk",
        "Tom Walker",
        "t.walker@example-school.sch.uk",
        "n",  # another administrator?
        "Helen Okafor",
        "dsl@example-school.sch.uk",
        "01632 960000",
        "Mark Evans",
        "deputy.dsl@example-school.sch.uk",
        "",  # deputy's phone
        "Sarah Linton",
        "head@example-school.sch.uk",
        "sandbox",
        "lks-page",
        "",  # display name: the school's
        "n",  # another account?
        "",  # email mode: outbox
        "",  # from address: modbot@ the administrators' domain
        "https://modbot.example-school.sch.uk",
    ]
    result = CliRunner().invoke(cli, ["init", "--path", str(config)], input="\n".join(answers))
    assert result.exit_code == 0, result.output
    assert "is not an email address" in result.output
    assert "Configuration OK" in result.output
    data = tomllib.loads(config.read_text())
    assert data["school"]["nation"] == "england"
    assert data["accounts"][0]["display_name"] == "Little Kinvaston School"
    assert data["accounts"][0]["mode"] == "shadow"
    assert data["email"]["from_address"] == "modbot@example-school.sch.uk"
    assert data["email"]["base_url"] == "https://modbot.example-school.sch.uk"
    assert data["storage"]["database"] == str(tmp_path / "conf" / "var" / "modbot.db")


@given(st.text())
def test_any_text_survives_the_trip_through_toml(text):
    assert tomllib.loads(f"v = {toml_str(text)}")["v"] == text


def test_env_values_are_single_quoted_and_a_quote_is_refused():
    assert env_value("MODBOT_SMTP_PASSWORD", "a$b c#d") == "MODBOT_SMTP_PASSWORD='a$b c#d'"
    assert read_env_file_text(render_env({"K": "a$b c#d", "EMPTY": ""})) == {
        "K": "a$b c#d",
        "EMPTY": "",
    }
    with pytest.raises(Exception, match="quote or a line break"):
        env_value("K", "it's")


def read_env_file_text(text: str) -> dict[str, str]:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "env"
        path.write_text(text)
        return read_env_file(path)
