import pytest
from click.testing import CliRunner

from bot.config.settings import EXAMPLE_CONFIG, load_settings, parse_settings
from bot.core.errors import ConfigError
from bot.faces.cli import EXIT_CONFIG, cli
from tests.conftest import example_data


def problems_for(data: dict, environ: dict | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_settings(data, EXAMPLE_CONFIG, environ)
    return info.value.problems


def test_example_config_is_valid():
    settings = load_settings(EXAMPLE_CONFIG)
    assert settings.school.name == "Little Kinvaston School"
    assert len(settings.administrators) >= 2
    assert settings.accounts[0].platform == "sandbox"


def test_missing_key_is_named():
    data = example_data()
    del data["school"]["house_rules_url"]
    assert problems_for(data) == ["school.house_rules_url: required key is missing"]


def test_wrong_type_is_named():
    data = example_data()
    data["accounts"][0]["poll_interval_seconds"] = "often"
    [problem] = problems_for(data)
    assert problem.startswith("accounts.0.poll_interval_seconds:")


def test_one_administrator_is_refused_with_the_policy_reason():
    data = example_data()
    data["administrators"] = data["administrators"][:1]
    [problem] = problems_for(data)
    assert problem.startswith("administrators:")
    assert "at least 2" in problem and "leave and absence are covered" in problem


def test_unknown_platform_and_unknown_key_are_both_listed():
    data = example_data()
    data["accounts"][0]["platform"] = "myspace"
    data["policy"]["hide_treshold"] = 0.7
    problems = problems_for(data)
    assert any(p.startswith("accounts.0.platform:") and "'sandbox'" in p for p in problems)
    assert (
        "policy.hide_treshold: unknown key (check the spelling against "
        "config/modbot.example.toml)" in problems
    )


def test_token_variable_not_set_is_named_and_never_in_the_file():
    data = example_data()
    data["accounts"].append(
        {
            "platform": "facebook",
            "account_id": "1234",
            "display_name": "FB",
            "token_env": "MODBOT_TEST_FB_TOKEN",
        }
    )
    assert problems_for(data, environ={}) == [
        "accounts.1.token_env: environment variable MODBOT_TEST_FB_TOKEN is not set"
    ]
    settings = parse_settings(data, EXAMPLE_CONFIG, environ={"MODBOT_TEST_FB_TOKEN": "abc123xyz"})
    assert "abc123xyz" not in settings.model_dump_json()


def test_real_platform_without_token_reference_is_refused():
    data = example_data()
    data["accounts"].append({"platform": "x", "account_id": "99", "display_name": "X"})
    [problem] = problems_for(data)
    assert problem.startswith("accounts.1:") and "token_env" in problem


def test_token_file_readable_by_others_is_refused(tmp_path):
    token = tmp_path / "token"
    token.write_text("secret-token-value")
    token.chmod(0o644)
    data = example_data()
    data["accounts"].append(
        {"platform": "facebook", "account_id": "1", "display_name": "FB", "token_file": str(token)}
    )
    [problem] = problems_for(data)
    assert "readable by others" in problem
    token.chmod(0o600)
    parse_settings(data, EXAMPLE_CONFIG)


def test_config_check_cli_lists_every_problem_and_exits_3(tmp_path):
    bad = tmp_path / "bad.toml"
    text = EXAMPLE_CONFIG.read_text().replace(
        'timezone = "Europe/London"', 'timezone = "Mars/Base"'
    )
    text = text.replace("hide_threshold = 0.85", "hide_threshold = 7")
    bad.write_text(text)
    result = CliRunner().invoke(cli, ["--config", str(bad), "config", "check"])
    assert result.exit_code == EXIT_CONFIG
    assert "school.timezone: unknown timezone 'Mars/Base'" in result.output
    assert "policy.hide_threshold:" in result.output


def test_config_check_cli_on_the_example_says_which_backend():
    result = CliRunner().invoke(cli, ["config", "check"])
    assert result.exit_code == 0, result.output
    assert "Configuration OK" in result.output
    assert "Toxicity backend:" in result.output


def test_not_toml_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[school\nname = 1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(bad)


# --- the two halves: a school's file and a shared deployment file ------------------------------
def split_example(tmp_path, move=("email", "classifiers", "storage", "backup"), extra=""):
    """The example config cut in two: the school's file (people, accounts, policy) naming a
    deployment file (storage, SMTP, models) in another folder."""
    school, deployment, section = [], [], None
    config = EXAMPLE_CONFIG.parent
    for line in EXAMPLE_CONFIG.read_text().splitlines():
        if line.startswith("["):
            section = line.strip("[] ").split("]")[0].split("#")[0].strip()
        line = line.replace('"sandbox/', f'"{config}/sandbox/')
        line = line.replace('templates_dir = "', f'templates_dir = "{config}/')
        (deployment if section in move else school).append(line)
    (tmp_path / "school").mkdir()
    (tmp_path / "server").mkdir()
    top = 'deployment_file = "../server/deployment.toml"\n'
    (tmp_path / "school" / "modbot.toml").write_text(top + "\n".join(school) + "\n")
    (tmp_path / "server" / "deployment.toml").write_text("\n".join(deployment) + "\n" + extra)
    return tmp_path / "school" / "modbot.toml"


def test_a_school_file_can_name_a_shared_deployment_file(tmp_path):
    settings = load_settings(split_example(tmp_path))
    whole = load_settings(EXAMPLE_CONFIG)
    assert settings.email.mode == whole.email.mode and settings.school == whole.school
    # the deployment file's relative paths are relative to it, not to the school's file
    server = (tmp_path / "server").resolve()
    assert settings.path(settings.storage.database) == (server / "../var/modbot.db").resolve()
    assert settings.path(settings.classifiers.rules_dir) == server / "rules"
    assert settings.deployment.storage == settings.storage
    assert settings.deployment_file == server / "deployment.toml"


def test_a_school_setting_in_the_deployment_file_is_named_with_that_file(tmp_path):
    school = split_example(tmp_path, extra="[policy]\nhide_threshold = 0.5\n")
    with pytest.raises(ConfigError) as info:
        load_settings(school)
    assert info.value.problems[0].startswith("policy: not a deployment setting")
    assert str(tmp_path / "server" / "deployment.toml") in str(info.value)


def test_a_section_in_both_files_is_refused(tmp_path):
    school = split_example(tmp_path, move=("classifiers", "storage", "backup"))
    (tmp_path / "server" / "deployment.toml").write_text(
        (tmp_path / "server" / "deployment.toml").read_text() + '\n[email]\nmode = "outbox"\n'
    )
    with pytest.raises(ConfigError) as info:
        load_settings(school)
    deployment = tmp_path.resolve() / "server" / "deployment.toml"
    assert info.value.problems == [
        f"email: set here and in the deployment file {deployment}; keep it in one"
    ]


def test_a_bad_value_in_the_deployment_file_names_that_file_and_key(tmp_path):
    school = split_example(tmp_path)
    path = tmp_path / "server" / "deployment.toml"
    path.write_text(path.read_text().replace("batch_size = 32", "batch_size = 0"))
    with pytest.raises(ConfigError) as info:
        load_settings(school)
    assert info.value.problems[0].startswith("classifiers.batch_size:")
    assert str(path.resolve()) in str(info.value)
