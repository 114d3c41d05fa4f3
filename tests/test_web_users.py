"""`modbot users ...` and the people service: one-time passwords, argon2 hashes, disabling,
signing out everywhere from the command line, and the demo's sign-ins."""

# ruff: noqa: F811  (the site fixtures come from test_web_site; tests take them by name)

from __future__ import annotations

import re

from click.testing import CliRunner

from bot.faces.cli import cli
from bot.services import users
from bot.store import Store
from tests.conftest import make_settings, write_config
from tests.test_web_site import sign_in, site, site_template  # noqa: F401  (fixtures)


def run(config, db, *args):
    return CliRunner().invoke(cli, ["--config", str(config), "users", *args, "--db", str(db)])


def test_users_add_list_password_disable_enable(tmp_path):
    config, db = write_config(tmp_path), tmp_path / "people.db"
    added = run(config, db, "add", "Priya Shah", "--email", "p.shah@example.org", "--role", "admin")
    assert added.exit_code == 0, added.output
    once = re.search(r"One-time password: (\S+)", added.output).group(1)
    store = Store(db)
    user = store.users.find("p.shah@example.org")
    assert user.password_hash.startswith("$argon2id$") and once not in user.password_hash
    assert user.must_change_password
    assert users.sign_in(store, "PRIYA SHAH", once, "127.0.0.1").name == "Priya Shah"
    store.close()

    twice = run(config, db, "add", "Someone", "--email", "P.Shah@example.org", "--role", "dsl")
    assert twice.exit_code == 2 and "already exists" in twice.output
    bad_role = run(config, db, "add", "X", "--email", "x@example.org", "--role", "head")
    assert bad_role.exit_code == 2
    bad_email = run(config, db, "add", "X", "--email", "not-an-email", "--role", "slt")
    assert bad_email.exit_code == 2 and "not an email address" in bad_email.output

    listed = run(config, db, "list")
    assert "Priya Shah" in listed.output and "admin" in listed.output and once not in listed.output
    reset = run(config, db, "password", "p.shah@example.org")
    fresh = re.search(r"password for Priya Shah: (\S+)", reset.output).group(1)
    store = Store(db)
    assert users.sign_in(store, "p.shah@example.org", fresh, "127.0.0.1")
    store.close()
    assert run(config, db, "disable", "Priya Shah").exit_code == 0
    assert "disabled" in run(config, db, "list").output
    store = Store(db)
    try:
        users.sign_in(store, "p.shah@example.org", fresh, "127.0.0.2")
        raise AssertionError("a disabled person signed in")
    except users.SignInRefused:
        pass
    store.close()
    assert run(config, db, "enable", "Priya Shah").exit_code == 0
    assert run(config, db, "disable", "Nobody").exit_code == 2
    audit = Store(db).rows("SELECT event, detail FROM audit WHERE event LIKE 'user.%'")
    assert [a["event"] for a in audit] == [
        "user.added",
        "user.password_reset",
        "user.disabled",
        "user.enabled",
    ]
    assert all(once not in a["detail"] and fresh not in a["detail"] for a in audit)


def test_sign_out_everywhere_from_the_command_line(site):
    phone = site.client("dsl")
    config = write_config(site.database.parent)
    result = run(config, site.database, "sign-out-everywhere", site.logins["dsl"])
    assert result.exit_code == 0 and "1 session(s) ended" in result.output
    assert phone.get("/today").url.path == "/sign-in"


def test_the_demo_gives_one_sign_in_per_role_and_a_rerun_gives_new_passwords(tmp_path):
    settings = make_settings()
    store = Store(tmp_path / "demo.db")
    first = users.demo_sign_ins(store, settings)
    assert [u.role for u, _ in first] == ["admin", "dsl", "slt"]
    again = users.demo_sign_ins(store, settings)
    assert [u.email for u, _ in again] == [u.email for u, _ in first]
    assert all(a != b for (_, a), (_, b) in zip(first, again, strict=True))
    assert users.sign_in(store, first[1][0].email, again[1][1], "127.0.0.1").role == "dsl"
    store.close()


def test_users_and_feedback_commands_have_help():
    for args in (["users", "--help"], ["users", "add", "--help"], ["feedback", "export", "--help"]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0 and len(result.output) > 80, args
    serve = CliRunner().invoke(cli, ["serve", "--help"])
    assert "--db" in serve.output and "--port" in serve.output
