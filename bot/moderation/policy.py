"""The moderation policy: a pure function from a comment and its verdict to a decision.

No I/O and no clock, so every rule of the school's policy can be tested directly:
- anything that raises a safeguarding concern is escalated to the DSL (and hidden meanwhile);
- offensive content (rule hits, or a model score at or above `hide_threshold`) is hidden;
- questions, complaints, borderline scores, attachments modbot does not open, and comments too
  long to check whole go to a person (`respond`);
- the rest is allowed.
A public notice is chosen only when no category forbids one (a disclosure must never draw the
audience's attention to a child)."""

from __future__ import annotations

from bot.config.settings import Policy
from bot.core.models import Category, Comment, Decision, DecisionAction, RuleHit, Severity, Verdict
from classifiers.normalise import MAX_CHARS

SCORE_KEYS = (
    "toxicity",
    "severe_toxicity",
    "obscene",
    "insult",
    "threat",
    "identity_attack",
    "sexual_explicit",
    "profanity",
)
DEFAULT_NOTICE = "offensive_language"


def toxicity_score(verdict: Verdict) -> tuple[str, float]:
    scored = [(k, v) for k, v in verdict.scores.items() if k in SCORE_KEYS]
    return max(scored, key=lambda kv: kv[1]) if scored else ("", 0.0)


def decide(comment: Comment, verdict: Verdict, policy: Policy) -> Decision:
    hits = sorted(verdict.hits, key=lambda h: (h.action.rank, h.severity.rank), reverse=True)
    action = DecisionAction.ALLOW
    categories: list[Category] = []
    reasons: list[str] = []
    severity = Severity.LOW

    def raise_to(new: DecisionAction, category: Category, reason: str, sev: Severity) -> None:
        nonlocal action, severity
        action = max(action, new, key=lambda a: a.rank)
        severity = max(severity, sev, key=lambda s: s.rank)
        if category not in categories:
            categories.append(category)
        if reason not in reasons:
            reasons.append(reason)

    for hit in hits:
        wanted = DecisionAction.ESCALATE if hit.category.is_safeguarding else hit.action
        raise_to(wanted, hit.category, hit.reason, hit.severity)

    label, score = toxicity_score(verdict)
    if score >= policy.hide_threshold:
        raise_to(
            DecisionAction.HIDE,
            Category.TOXICITY,
            f"{verdict.model or 'model'} {label} score {score:.2f} >= {policy.hide_threshold:.2f}",
            Severity.MEDIUM,
        )
    elif score >= policy.review_threshold:
        raise_to(
            DecisionAction.RESPOND,
            Category.TOXICITY,
            f"borderline {label} score {score:.2f}: a person should look",
            Severity.LOW,
        )

    if comment.has_attachment and policy.attachments_need_review:
        raise_to(
            DecisionAction.RESPOND,
            Category.ATTACHMENT,
            "has an image or attachment, which modbot never opens: a person should look "
            "on the platform",
            Severity.LOW,
        )
    if len(comment.text) > MAX_CHARS:
        raise_to(
            DecisionAction.RESPOND,
            Category.UNCHECKED,
            f"very long comment ({len(comment.text)} characters): only the first "
            f"{MAX_CHARS} were checked",
            Severity.LOW,
        )

    notice = None
    if action in (DecisionAction.HIDE, DecisionAction.ESCALATE):
        notice = _notice_for(hits, categories)
    return Decision(action, tuple(categories), tuple(reasons), notice, severity)


def _notice_for(hits: list[RuleHit], categories: list[Category]) -> str | None:
    if not all(c.allows_public_notice for c in categories):
        return None
    if any(
        h.notice is None and h.action in (DecisionAction.HIDE, DecisionAction.ESCALATE)
        for h in hits
    ):
        return None  # e.g. spam: a notice would only amplify it
    for hit in hits:
        if hit.notice:
            return hit.notice
    return DEFAULT_NOTICE
