"""`modbot accounts ban` and `modbot accounts resume`: a person approves, modbot acts once,
everything is audited; Facebook's block replayed from its documented shape."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import responses
from click.testing import CliRunner

from bot.faces.cli import cli
from bot.store import Store
from tests.conftest import write_config

PAGE = "123456789012345"
DSL = "Helen Okafor"
ADMIN = "Priya Shah"


def run(cfg: Path, *args: str, env: dict | None = None):
    return CliRunner().invoke(cli, ["--config", str(cfg), *args], env=env or {})


def with_account(cfg: Path, account: str) -> Path:
    cfg.write_text(
        re.sub(
            r'\[\[accounts\]\]\nplatform = "sandbox"\n(?:[^\n]+\n)*?scenario = [^\n]+\n',
            account,
            cfg.read_text(),
            count=1,
        )
    )
    return cfg


def audit(folder: Path, event: str) -> list[dict]:
    rows = Store(folder / "m.db").rows("SELECT * FROM audit WHERE event = ?", [event])
    return [{**r, "detail": json.loads(r["detail"])} for r in rows]


def test_a_ban_approved_by_the_dsl_is_carried_out_and_audited(tmp_path):
    cfg = write_config(tmp_path)
    result = run(
        cfg, "accounts", "ban", "lks-page", "troll-42", "--approved-by", DSL, "--comment", "c2"
    )
    assert result.exit_code == 0, result.output
    assert "troll-42 is banned" in result.output
    state = json.loads((tmp_path / "m.sandbox-lks-page.json").read_text())
    assert state["banned"] == ["troll-42"]
    [approved] = audit(tmp_path, "ban.approved")
    [done] = audit(tmp_path, "ban.done")
    assert approved["actor"] == done["actor"] == DSL
    assert done["detail"] == {"account": "sandbox:lks-page", "author_id": "troll-42"}
    assert done["comment_id"] == "c2"


@pytest.mark.parametrize("approver", [ADMIN, "Somebody Else"])
def test_only_the_dsl_may_approve_a_ban(tmp_path, approver):
    cfg = write_config(tmp_path)
    result = run(cfg, "accounts", "ban", "lks-page", "troll-42", "--approved-by", approver)
    assert result.exit_code == 2
    assert audit(tmp_path, "ban.approved") == [] and audit(tmp_path, "ban.done") == []


def test_a_ban_needs_a_person(tmp_path):
    cfg = write_config(tmp_path)
    result = run(cfg, "accounts", "ban", "lks-page", "troll-42")
    assert result.exit_code == 2 and "--approved-by" in result.output


def test_an_unknown_account_is_named(tmp_path):
    cfg = write_config(tmp_path)
    result = run(cfg, "accounts", "ban", "nope", "troll-42", "--approved-by", DSL)
    assert result.exit_code == 2 and "sandbox:lks-page" in result.output


@responses.activate
def test_a_facebook_ban_blocks_the_user_from_the_page(tmp_path):
    cfg = with_account(
        write_config(tmp_path),
        f'[[accounts]]\nplatform = "facebook"\naccount_id = "{PAGE}"\n'
        'display_name = "LKS"\nmode = "enforce"\ntoken_env = "MODBOT_TEST_FB_TOKEN"\n',
    )
    responses.add(
        responses.POST,
        f"https://graph.facebook.com/v21.0/{PAGE}/blocked",
        json={"100000000000009": True},
    )
    result = run(
        cfg,
        "accounts",
        "ban",
        f"facebook:{PAGE}",
        "100000000000009",
        "--approved-by",
        DSL,
        env={"MODBOT_TEST_FB_TOKEN": "EAABtesttoken0123456789"},
    )
    assert result.exit_code == 0, result.output
    [call] = responses.calls
    assert call.request.body.startswith("user=100000000000009")
    assert "EAABtesttoken0123456789" not in result.output


def test_instagram_cannot_ban_and_says_so(tmp_path):
    cfg = with_account(
        write_config(tmp_path),
        '[[accounts]]\nplatform = "instagram"\naccount_id = "17841400000000000"\n'
        'display_name = "LKS IG"\nmode = "enforce"\ntoken_env = "MODBOT_TEST_IG_TOKEN"\n',
    )
    result = run(
        cfg,
        "accounts",
        "ban",
        "17841400000000000",
        "178414",
        "--approved-by",
        DSL,
        env={"MODBOT_TEST_IG_TOKEN": "EAABigtoken0123456789"},
    )
    assert result.exit_code == 5
    assert "no way to block" in result.output
    [failed] = audit(tmp_path, "ban.failed")
    assert failed["actor"] == DSL and "cannot carry out Ban" in failed["detail"]["error"]


def test_a_shadow_account_is_never_touched(tmp_path):
    cfg = write_config(tmp_path)
    cfg.write_text(cfg.read_text().replace('mode = "enforce"', 'mode = "shadow"', 1))
    result = run(cfg, "accounts", "ban", "lks-page", "troll-42", "--approved-by", DSL)
    assert result.exit_code == 5 and "shadow mode" in result.output


def test_resume_clears_the_wait_for_a_named_person(tmp_path):
    from bot.core.errors import RateLimited

    cfg = write_config(tmp_path)
    store = Store(tmp_path / "m.db")
    store.accounts.ensure("sandbox:lks-page", "sandbox", "lks-page", "LKS")
    store.accounts.failed("sandbox:lks-page", RateLimited("429", retry_after=3000))
    assert not store.accounts.due("sandbox:lks-page")
    assert run(cfg, "accounts", "resume", "lks-page", "--by", "Nobody").exit_code == 2
    result = run(cfg, "accounts", "resume", "lks-page", "--by", ADMIN)
    assert result.exit_code == 0, result.output
    assert store.accounts.due("sandbox:lks-page")
    assert [r["actor"] for r in audit(tmp_path, "account.resumed")] == [ADMIN]
