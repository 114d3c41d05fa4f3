"""When a public notice may be posted: only after a successful hide, never towards a child,
never for disclosures, bullying or staff allegations, never into an author's own X thread."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core.models import Category, Comment, Decision, DecisionAction
from bot.moderation.notices import notice_refusal, targets_a_child
from connectors.x import XConnector

HIDE = Decision(DecisionAction.HIDE, (Category.PROFANITY,), ("swearing",), "offensive_language")


def comment(text: str, post_id: str = "p1", platform: str = "sandbox") -> Comment:
    return Comment(platform, "acct", post_id, "c1", text, datetime(2026, 11, 16, tzinfo=UTC))


@pytest.mark.parametrize(
    "text",
    [
        "Jayden in 8B is a fat f*ck",
        "@ellie_x you absolute sl@g",
        "my son says the lads in year 9 are sh*t",
        "that kid on the left is a tw@t",
        "Sophie is a slag",
        "the girls in yr 10 are dogs",
    ],
)
def test_comments_that_point_at_someone_get_no_notice(text):
    assert targets_a_child(text)
    assert notice_refusal(comment(text), HIDE, "done", connector=None) is not None


@pytest.mark.parametrize(
    "text",
    ["this school is sh!t", "absolute tw@ts the lot of you", "f u c k off", "what a sh*tshow"],
)
def test_general_abuse_can_get_a_notice(text):
    assert not targets_a_child(text)
    assert notice_refusal(comment(text), HIDE, "done", connector=None) is None


@pytest.mark.parametrize("status", ["failed", "unsupported", "paused", "shadow", "gone"])
def test_no_notice_says_hidden_when_the_hide_did_not_happen(status):
    refusal = notice_refusal(comment("this school is sh!t"), HIDE, status, connector=None)
    assert refusal and status in refusal


@pytest.mark.parametrize(
    "category",
    [Category.BULLYING, Category.SELF_HARM, Category.STAFF_ALLEGATION, Category.ABUSE_DISCLOSURE],
)
def test_no_notice_for_concerns_about_a_child_or_staff(category):
    decision = Decision(DecisionAction.ESCALATE, (category,), ("concern",), "threat")
    assert notice_refusal(comment("this school is sh!t"), decision, "done", None) is not None


def test_an_x_mention_outside_the_schools_own_posts_gets_no_notice():
    x = XConnector("42", "token-not-used")
    x.own_conversations = {"1001"}
    on_own_post = comment("this school is sh!t", post_id="1001", platform="x")
    in_their_thread = comment("this school is sh!t", post_id="2002", platform="x")
    assert notice_refusal(on_own_post, HIDE, "done", x) is None
    assert "thread" in (notice_refusal(in_their_thread, HIDE, "done", x) or "")
