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


# --- fusion with the semantic layer ---------------------------------------------------------


def semantic(category: str, score: float, near: str = "an exemplar", sim: float = 0.8) -> Verdict:
    return Verdict(
        {f"semantic:{category}": score}, model="semantic", nearest={category: (near, sim)}
    )


TIERS = Policy().semantic_tier("self_harm")


def test_a_confident_model_only_concern_escalates_and_hides_with_the_nearest_exemplar():
    verdict = semantic("self_harm", 0.97, "wish I could sleep and never wake up", 0.83)
    decision = decide(comment(), verdict, POLICY)
    assert (decision.action, decision.hide) == (DecisionAction.ESCALATE, True)
    assert decision.notice_template is None
    assert decision.reasons == (
        'semantic model: self_harm 0.97, close in meaning to: "wish I could sleep and never '
        'wake up" (0.83)',
    )


def test_a_middle_tier_model_only_concern_goes_to_the_dsl_without_hiding():
    score = (TIERS.act + TIERS.review) / 2
    decision = decide(comment(), semantic("grooming", score), POLICY)
    assert decision.action is DecisionAction.ESCALATE
    assert decision.hide is False and decision.notice_template is None
    assert "the DSL is asked to look; not hidden" in decision.reasons[0]


def test_below_the_review_tier_the_model_alone_allows():
    decision = decide(comment(), semantic("threat", TIERS.review - 0.01), POLICY)
    assert decision.action is DecisionAction.ALLOW


def test_identity_hate_from_the_model_is_hidden_when_confident_else_a_person_looks():
    tier = POLICY.semantic_tier("identity_hate")
    sure = decide(comment(), semantic("identity_hate", tier.act), POLICY)
    unsure = decide(comment(), semantic("identity_hate", tier.review), POLICY)
    assert (sure.action, sure.hide, sure.notice_template) == (
        DecisionAction.HIDE,
        True,
        "hate_speech",
    )
    assert (unsure.action, unsure.hide) == (DecisionAction.RESPOND, False)


def test_a_staff_allegation_escalates_quietly_and_is_never_an_insult():
    verdict = Verdict(hits=(hit(Category.INSULT, DecisionAction.HIDE),)).merge(
        semantic("staff_allegation", 0.95)
    )
    decision = decide(comment(), verdict, POLICY)
    assert decision.action is DecisionAction.ESCALATE
    assert decision.notice_template is None
    assert Category.INSULT not in decision.categories
    assert decision.categories == (Category.STAFF_ALLEGATION,)


def test_photo_consent_and_media_enquiries_go_to_a_person_and_are_never_hidden():
    for category in ("photo_consent", "media_enquiry"):
        decision = decide(comment(), semantic(category, 0.99), POLICY)
        assert (decision.action, decision.hide) == (DecisionAction.RESPOND, False)
    rule = Verdict(hits=(hit(Category.PHOTO_CONSENT, DecisionAction.RESPOND, notice=None),))
    assert decide(comment(), rule, POLICY).hide is False


def test_either_layer_counts_and_a_category_is_listed_once():
    both = Verdict(hits=(hit(Category.THREAT, DecisionAction.ESCALATE, notice="threat"),)).merge(
        semantic("threat", 0.9)
    )
    decision = decide(comment(), both, POLICY)
    assert decision.categories == (Category.THREAT,)
    assert (decision.action, decision.hide, decision.notice_template) == (
        DecisionAction.ESCALATE,
        True,
        "threat",
    )
    assert len(decision.reasons) == 2  # the rule's reason and the model's


def test_a_safeguarding_keyword_the_model_does_not_bear_out_is_escalated_unhidden():
    verdict = Verdict(
        hits=(hit(Category.ABUSE_DISCLOSURE, DecisionAction.ESCALATE, notice=None),)
    ).merge(semantic("abuse_disclosure", 0.05))
    decision = decide(comment("FGM awareness session for staff"), verdict, POLICY)
    assert (decision.action, decision.hide) == (DecisionAction.ESCALATE, False)
    assert "the semantic model disagrees" in decision.reasons[0]
    no_model = Verdict(hits=(hit(Category.ABUSE_DISCLOSURE, DecisionAction.ESCALATE),))
    assert decide(comment(), no_model, POLICY).hide is True  # model off: the rule alone hides


def insult_hit(matched: str, severity: Severity = Severity.LOW) -> RuleHit:
    return RuleHit(
        "insult.personal",
        Category.INSULT,
        severity,
        DecisionAction.HIDE,
        "Personal insult",
        "offensive_language",
        matched,
    )


def test_a_mild_word_the_model_does_not_bear_out_goes_to_a_person_unhidden():
    text = "my brother won't stop going on about the new menu, shut up already 😂"
    verdict = Verdict(hits=(insult_hit("shut up"),)).merge(semantic("insult", 0.1))
    decision = decide(comment(text), verdict, POLICY)
    assert (decision.action, decision.hide) == (DecisionAction.RESPOND, False)
    assert "the semantic model disagrees" in decision.reasons[0]
    # the model agreeing, or off, or a finding more severe than a mild word: hidden as before
    agreed = Verdict(hits=(insult_hit("shut up"),)).merge(semantic("insult", 0.7))
    assert decide(comment(text), agreed, POLICY).hide is True
    assert decide(comment(text), Verdict(hits=(insult_hit("shut up"),)), POLICY).hide is True
    severe = Verdict(hits=(insult_hit("shut up", Severity.MEDIUM),)).merge(semantic("insult", 0.1))
    assert decide(comment(text), severe, POLICY).hide is True


def test_a_disguised_word_hides_though_the_model_doubts_it():
    # "d1ck" reaches the rules as "dick"; the encoder cannot read the disguise, and the
    # disguise is intent in itself
    verdict = Verdict(hits=(insult_hit("dick"),)).merge(semantic("insult", 0.1))
    decision = decide(comment("d1ck move closing the field over a bit of rain"), verdict, POLICY)
    assert (decision.action, decision.hide) == (DecisionAction.HIDE, True)
    spaced = Verdict(hits=(insult_hit("loser"),)).merge(semantic("insult", 0.1))
    assert decide(comment("what a l o s e r"), spaced, POLICY).hide is True


def test_a_whole_pattern_marked_hides_alone_hides_though_the_model_doubts_it():
    pattern = RuleHit(
        "grooming.locating_a_child",
        Category.GROOMING,
        Severity.HIGH,
        DecisionAction.ESCALATE,
        "Asks where or when a particular child can be found",
        hides_alone=True,
    )
    verdict = Verdict(hits=(pattern,)).merge(semantic("grooming", 0.05))
    decision = decide(comment("cute kids, which gate do the year 5s come out of?"), verdict, POLICY)
    assert (decision.action, decision.hide) == (DecisionAction.ESCALATE, True)
    assert "disagrees" not in decision.reasons[0]


def test_the_tiers_are_the_schools_to_tune():
    strict = Policy(semantic_tiers={"self_harm": {"act": 0.99, "review": 0.9}})
    verdict = semantic("self_harm", 0.95)
    assert decide(comment(), verdict, POLICY).hide is True
    looser = decide(comment(), verdict, strict)
    assert (looser.action, looser.hide) == (DecisionAction.ESCALATE, False)
    assert strict.semantic_tier("threat") == POLICY.semantic_tier("threat")


def test_a_profanity_hide_beside_a_middle_tier_concern_still_hides():
    verdict = Verdict(hits=(hit(Category.PROFANITY, DecisionAction.HIDE),)).merge(
        semantic("bullying", (TIERS.act + TIERS.review) / 2)
    )
    decision = decide(comment(), verdict, POLICY)
    assert (decision.action, decision.hide) == (DecisionAction.ESCALATE, True)
    assert decision.notice_template is None  # bullying: no notice that points at a child


def several(**scores: float) -> Verdict:
    return Verdict({f"semantic:{c}": s for c, s in scores.items()}, model="semantic")


def test_a_middle_tier_concern_is_hidden_when_the_model_sees_harm_from_several_sides():
    # "he films what they do and says he'll put it online": exploitation, grooming and threat
    verdict = several(sexual_exploitation=0.54, grooming=0.24, threat=0.15)
    decision = decide(comment(), verdict, POLICY)
    assert (decision.action, decision.hide) == (DecisionAction.ESCALATE, True)
    assert "0.93 in all: acted on" in decision.reasons[0]
    # the same top score alone, or with only questions and complaints beside it: a person looks
    alone = decide(comment(), several(sexual_exploitation=0.54, complaint=0.5), POLICY)
    assert (alone.action, alone.hide) == (DecisionAction.ESCALATE, False)


def test_corroboration_can_be_turned_off_and_never_acts_below_the_review_tier():
    off = POLICY.model_copy(update={"semantic_corroboration": 0})
    verdict = several(sexual_exploitation=0.54, grooming=0.24, threat=0.15)
    assert decide(comment(), verdict, off).hide is False
    below = several(threat=0.39, bullying=0.35, insult=0.3)  # 1.04 in all, none in review
    assert decide(comment(), below, POLICY).action is DecisionAction.ALLOW
