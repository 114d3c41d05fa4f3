"""Restores and bans when the platform will not (or cannot) do its part: the person's decision
is recorded, the page says what to do, and a retry finishes the job without doing it twice."""

# ruff: noqa: F811  (the site fixtures come from test_web_site; tests take them by name)

from __future__ import annotations

import pytest

from bot.core.errors import TransientError
from bot.core.models import Hide, Notice, Unhide
from bot.services import moderation
from bot.services.actors import Actor, Forbidden, Role
from connectors.registry import sandbox_state_file
from connectors.sandbox import SandboxConnector, SandboxPlatform
from tests.test_web_site import site, site_template  # noqa: F401  (fixtures)


def actor(site, role: str) -> Actor:
    names = {
        "admin": site.settings.administrators[0].name,
        "admin2": site.settings.administrators[1].name,
        "dsl": site.settings.dsl.name,
        "slt": site.settings.slt.name,
    }
    return Actor(names[role], Role(role.rstrip("2")))


def live_platform(site) -> SandboxPlatform:
    account = site.settings.accounts[0]
    return SandboxPlatform.from_scenario(
        site.database,
        account.account_id,
        sandbox_state_file(site.settings, account, site.database),
    )


class NoBans(SandboxConnector):
    supports = frozenset({Hide, Unhide, Notice})


def test_a_platform_that_fails_keeps_it_hidden_and_a_retry_restores_it_once(site):
    platform = live_platform(site)
    platform.fail_on("unhide", "h1", TransientError("platform busy", platform="sandbox"))
    store = site.store()
    decision = site.decision_for("h1")
    try:
        first = moderation.restore(
            store,
            site.settings,
            site.database,
            decision,
            actor(site, "admin"),
            "harmless",
            connector_for=lambda _: SandboxConnector(platform),
        )
        assert not first.done_on_platform and "try again" in first.message
        assert platform.comment("h1").hidden
        fb = store.reviews.feedback_for(decision)
        assert fb.label == "allow" and fb.restored_at is None and "busy" in fb.restore_error
        again = moderation.restore(
            store,
            site.settings,
            site.database,
            decision,
            actor(site, "admin"),
            "",
            connector_for=lambda _: SandboxConnector(platform),
        )
        assert again.done_on_platform and not platform.comment("h1").hidden
        assert [x["action"] for x in platform.log].count("unhide") == 1
        assert store.reviews.feedback_for(decision).restored_at is not None
    finally:
        store.close()


def test_a_connector_that_cannot_ban_records_the_approval_and_says_so(site):
    store = site.store()
    try:
        request = moderation.suggest_ban(
            store, site.decision_for("x0"), actor(site, "admin"), "abusive"
        )
        with pytest.raises(Forbidden):
            moderation.decide_ban(
                store, site.settings, site.database, request.id, actor(site, "admin"), True
            )
        platform = live_platform(site)
        outcome = moderation.decide_ban(
            store,
            site.settings,
            site.database,
            request.id,
            actor(site, "dsl"),
            True,
            connector_for=lambda _: NoBans(platform),
        )
        assert not outcome.done_on_platform and "by hand" in outcome.message
        assert store.reviews.ban(request.id).status == "approved"
        assert not platform.banned
        events = [r["event"] for r in store.rows("SELECT event FROM audit ORDER BY id")]
        assert "ban.suggested" in events and "ban.approved" in events
    finally:
        store.close()


def test_a_restore_for_an_account_no_longer_configured_is_recorded_not_lost(site):
    store = site.store()
    settings = site.settings.model_copy(update={"accounts": []})
    try:
        outcome = moderation.restore(
            store, settings, site.database, site.decision_for("h1"), actor(site, "admin"), "fine"
        )
        assert not outcome.done_on_platform and "no longer in the configuration" in outcome.message
        assert store.reviews.feedback_for(site.decision_for("h1")).label == "allow"
    finally:
        store.close()


def test_roles_are_checked_in_the_use_cases_not_only_in_the_pages(site):
    store = site.store()
    try:
        slt = actor(site, "slt")
        for call in (
            lambda: moderation.hidden_comments(store, slt),
            lambda: moderation.review(store, site.decision_for("h1"), slt),
            lambda: moderation.suggest_ban(store, site.decision_for("h1"), slt, "x y z"),
            lambda: moderation.resume_breaker(store, slt, "sandbox:lks-page"),
            lambda: moderation.review(store, site.decision_for("e1"), actor(site, "admin")),
        ):
            with pytest.raises(Forbidden):
                call()
    finally:
        store.close()


def test_feedback_lines_are_what_modbot_evaluate_reads(site, tmp_path):
    from bot.moderation.evaluate import read_examples

    store = site.store()
    try:
        moderation.restore(
            store,
            site.settings,
            site.database,
            site.decision_for("h1"),
            actor(site, "admin"),
            "harmless banter",
        )
        moderation.restore(
            store,
            site.settings,
            site.database,
            site.decision_for("x0"),
            actor(site, "admin"),
            "unsure",
            sure=False,
        )
        moderation.keep_hidden(store, site.decision_for("x0"), actor(site, "admin2"), "insult")
        lines = moderation.feedback_lines(store)
    finally:
        store.close()
    path = tmp_path / "f.jsonl"
    path.write_text("\n".join(lines) + "\n")
    examples, problems = read_examples(path)
    assert not problems
    assert [(e.label, e.category) for e in examples] == [("allow", None), ("hide", "profanity")]


def test_nothing_is_done_on_a_shadow_mode_account(site):
    account = site.settings.accounts[0].model_copy(update={"mode": "shadow"})
    settings = site.settings.model_copy(update={"accounts": [account]})
    store = site.store()
    try:
        outcome = moderation.restore(
            store, settings, site.database, site.decision_for("h1"), actor(site, "admin"), "fine"
        )
        assert not outcome.done_on_platform and "shadow mode" in outcome.message
        assert site.platform().comment("h1").hidden
        assert not store.rows("SELECT * FROM actions WHERE kind = 'unhide'")
    finally:
        store.close()
