"""The modbot command as a person uses it: real subprocesses where exit codes matter."""

import json
import re
import subprocess
import sys

import click
from click.testing import CliRunner

from bot.config.settings import REPO_ROOT
from bot.faces.cli import EXIT_PARTIAL, cli
from tests.conftest import write_config


def run_modbot(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        text=True,
        capture_output=True,
        cwd=REPO_ROOT,
        timeout=120,
    )


def test_check_prints_one_json_line_per_input_line_in_order(tmp_path):
    lines = [
        {"id": "a", "text": "Well done Penistone Grammar!"},
        {"id": "b", "text": "k1ll urself"},
        {"id": "c", "text": "When is the trip?"},
        {"id": "d", "text": "f u c k off"},
        {"id": "e", "text": ""},
        {"id": 6, "text": "my dad hits me"},
    ]
    stdin = (
        "\n".join(json.dumps(x) for x in lines[:3])
        + "\n{not json\n"
        + "\n".join(json.dumps(x) for x in lines[3:])
        + "\n"
    )
    rules_only = write_config(tmp_path)  # the rules' decisions, not the model's
    result = run_modbot("--config", str(rules_only), "check", stdin=stdin)
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.returncode == EXIT_PARTIAL
    assert [o.get("id") for o in out] == ["a", "b", "c", None, "d", "e", 6]
    assert [o.get("decision") for o in out] == [
        "allow",
        "escalate",
        "respond",
        None,
        "hide",
        "allow",
        "escalate",
    ]
    assert out[3]["line"] == 4 and "not a valid input line" in out[3]["error"]
    assert set(out[0]) == {"id", "decision", "categories", "scores", "reasons"}
    assert "toxicity backend is" in result.stderr
    assert "line 4" in result.stderr


def test_check_reads_a_file_and_exits_0_when_all_lines_are_good(tmp_path):
    f = tmp_path / "in.jsonl"
    f.write_text('{"id": 1, "text": "lovely"}\n{"id": 2, "text": "\\ud800 odd"}\n')
    result = CliRunner().invoke(cli, ["check", "--input", str(f)])
    assert result.exit_code == 0, result.output
    assert len(result.stdout.strip().splitlines()) == 2


def test_demo_runs_end_to_end_and_summarises():
    result = run_modbot("demo")
    assert result.returncode == 0, result.stderr
    for heading in (
        "Decisions",
        "By category",
        "Hidden, and why",
        "Escalated to the DSL",
        "Notices posted to the audience",
        "Waiting for a person to reply",
    ):
        assert heading in result.stdout
    escalated = int(re.search(r"escalate\s+(\d+)", result.stdout).group(1))
    assert escalated >= 10
    # safeguarding comments are summarised without their words
    assert "i just want to die" not in result.stdout
    # the simulated week shows every part of the acknowledgement chain
    assert re.search(r"acknowledged by the backup after the 75% alert: [1-9]", result.stdout)
    assert re.search(r"breach reported to Sarah Linton \(SLT\): [1-9]", result.stdout)
    assert "route: CEOP" in result.stdout and "(ref CEOP: demo-0001)" in result.stdout
    assert "evidence record exported:" in result.stdout


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    out = []
    for name, command in group.commands.items():
        full = f"{prefix}{name}"
        out.append((full, command))
        if isinstance(command, click.Group):
            out.extend(_commands(command, full + " "))
    return out


def test_every_command_has_help_and_is_documented_in_the_readme():
    readme = (REPO_ROOT / "README.md").read_text()
    for name, command in _commands(cli):
        result = CliRunner().invoke(cli, [*name.split(), "--help"])
        assert result.exit_code == 0 and command.help, name
        assert f"modbot {name}" in readme, f"`modbot {name}` is not documented in README.md"
