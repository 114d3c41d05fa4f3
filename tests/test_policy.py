"""The policy is pure: comment + verdict + settings in, decision out."""

from datetime import UTC, datetime

from bot.config.settings import Policy
from bot.core.models import Category, Comment, DecisionAction, RuleHit, Severity, Verdict
from bot.moderation.policy import decide

POLICY = Policy()


def comment(text: str = "hello", **kw) -> Comment:
    return Comment("sandbox", "acct", "p1", "c1", text, datetime(2026, 11, 16, tzinfo=UTC), **kw)


def hit(
    category: Category,
    action: DecisionAction,
    notice: str | None = "offensive_language",
    severity: Severity = Severity.MEDIUM,
) -> RuleHit:
    return RuleHit(f"{category}.x", category, severity, action, f"reason {category}", notice)


def test_nothing_found_is_allowed():
    decision = decide(comment(), Verdict(), POLICY)
    assert decision.action is DecisionAction.ALLOW
    assert decision.notice_template is None


def test_profanity_is_hidden_with_its_notice():
    decision = decide(
        comment(), Verdict(hits=(hit(Category.PROFANITY, DecisionAction.HIDE),)), POLICY
    )
    assert decision.action is DecisionAction.HIDE
    assert decision.notice_template == "offensive_language"


def test_safeguarding_category_always_escalates_even_if_the_rule_said_hide():
    decision = decide(
        comment(), Verdict(hits=(hit(Category.BULLYING, DecisionAction.HIDE),)), POLICY
    )
    assert decision.action is DecisionAction.ESCALATE


def test_disclosure_never_gets_a_public_notice_even_beside_profanity():
    verdict = Verdict(
        hits=(
            hit(Category.PROFANITY, DecisionAction.HIDE),
            hit(
                Category.SELF_HARM, DecisionAction.ESCALATE, notice=None, severity=Severity.CRITICAL
            ),
        )
    )
    decision = decide(comment(), verdict, POLICY)
    assert decision.action is DecisionAction.ESCALATE
    assert decision.notice_template is None
    assert decision.severity is Severity.CRITICAL
    assert decision.categories[0] is Category.SELF_HARM


def test_threat_escalates_with_a_notice():
    verdict = Verdict(hits=(hit(Category.THREAT, DecisionAction.ESCALATE, notice="threat"),))
    decision = decide(comment(), verdict, POLICY)
    assert (decision.action, decision.notice_template) == (DecisionAction.ESCALATE, "threat")


def test_spam_is_hidden_without_a_notice():
    verdict = Verdict(hits=(hit(Category.SPAM, DecisionAction.HIDE, notice=None),))
    assert decide(comment(), verdict, POLICY).notice_template is None


def test_model_scores_against_the_thresholds():
    high = decide(comment(), Verdict({"toxicity": 0.95}, model="m"), POLICY)
    middle = decide(comment(), Verdict({"toxicity": 0.7}, model="m"), POLICY)
    low = decide(comment(), Verdict({"toxicity": 0.1}, model="m"), POLICY)
    assert high.action is DecisionAction.HIDE and high.notice_template == "offensive_language"
    assert middle.action is DecisionAction.RESPOND
    assert low.action is DecisionAction.ALLOW
    strict = Policy(hide_threshold=0.5, review_threshold=0.3)
    assert decide(comment(), Verdict({"toxicity": 0.6}), strict).action is DecisionAction.HIDE


def test_question_needs_a_reply():
    verdict = Verdict(hits=(hit(Category.QUESTION, DecisionAction.RESPOND, notice=None),))
    assert decide(comment(), verdict, POLICY).action is DecisionAction.RESPOND


def test_attachment_goes_to_a_person_because_modbot_never_opens_it():
    decision = decide(comment(has_attachment=True), Verdict(), POLICY)
    assert decision.action is DecisionAction.RESPOND
    assert Category.ATTACHMENT in decision.categories
    off = Policy(attachments_need_review=False)
    assert decide(comment(has_attachment=True), Verdict(), off).action is DecisionAction.ALLOW


def test_a_comment_too_long_to_check_whole_goes_to_a_person():
    decision = decide(comment("a" * 100_000), Verdict(), POLICY)
    assert decision.action is DecisionAction.RESPOND
    assert Category.UNCHECKED in decision.categories
