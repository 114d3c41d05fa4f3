"""The moderation policy: a pure function from a comment and its verdict to a decision.

No I/O and no clock, so every rule of the school's policy can be tested directly:
- a category found by either layer counts: the rules (exact patterns, slurs, evasion) or the
  semantic layer (meaning; a score per category against `policy.semantic_tiers`);
- anything that raises a safeguarding concern is escalated to the DSL. It is hidden meanwhile
  when a rule found it or the semantic score is in the confident tier (`act`); a concern only
  the model sees below that (`review`) is escalated WITHOUT hiding (`Decision.hide` False): a
  person looks, and a harmless parent is not hidden on a guess; unless the model sees harm from
  several sides at once (`policy.semantic_corroboration`, see `harm_mass`);
- an allegation against staff escalates quietly (no notice) and is never filed as an insult;
- identity hate only the model sees is hidden when confident, else a person looks (`respond`);
- offensive content (rule hits, or a toxicity score at or above `hide_threshold`) is hidden;
  but a mild word written plainly that the model does not read as its category ("won't shut
  up about the trip") goes to a person instead (`DOUBTABLE_SEVERITY`);
- questions, complaints, photo-consent requests and media enquiries, borderline scores,
  attachments modbot does not open, and comments too long to check whole go to a person
  (`respond`), never hidden;
- the rest is allowed.
A public notice is chosen only when no category forbids one (a disclosure must never draw the
audience's attention to a child). Each reason names the layer that found it."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config.settings import Policy
from bot.core.models import Category, Comment, Decision, DecisionAction, Severity, Verdict
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
SEMANTIC_PREFIX = "semantic:"
DEFAULT_NOTICE = "offensive_language"
RESPOND_CATEGORIES = frozenset(
    {Category.QUESTION, Category.COMPLAINT, Category.PHOTO_CONSENT, Category.MEDIA_ENQUIRY}
)


@dataclass(frozen=True)
class _Profile:
    """What a semantic finding of a category does: its action and severity when confident,
    and the notice the audience sees if it is hidden (None: hidden quietly)."""

    action: DecisionAction
    severity: Severity
    notice: str | None


_S = DecisionAction.ESCALATE
_C, _H, _M, _L = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW
SEMANTIC_PROFILES = {
    Category.SELF_HARM: _Profile(_S, _C, None),
    Category.ABUSE_DISCLOSURE: _Profile(_S, _C, None),
    Category.GROOMING: _Profile(_S, _C, None),
    Category.SEXUAL_EXPLOITATION: _Profile(_S, _C, None),
    Category.CRIMINAL_EXPLOITATION: _Profile(_S, _C, None),
    Category.STAFF_ALLEGATION: _Profile(_S, _C, None),
    Category.THREAT: _Profile(_S, _C, "threat"),
    Category.RADICALISATION: _Profile(_S, _H, "hate_speech"),
    Category.BULLYING: _Profile(_S, _H, None),
    Category.PUPIL_IDENTIFICATION: _Profile(_S, _M, None),
    Category.IDENTITY_HATE: _Profile(DecisionAction.HIDE, _H, "hate_speech"),
    Category.SEXUAL_CONTENT: _Profile(DecisionAction.HIDE, _M, DEFAULT_NOTICE),
    Category.INSULT: _Profile(DecisionAction.HIDE, _L, DEFAULT_NOTICE),
    Category.PROFANITY: _Profile(DecisionAction.HIDE, _L, DEFAULT_NOTICE),
    Category.SPAM: _Profile(DecisionAction.HIDE, _L, None),
    Category.PHOTO_CONSENT: _Profile(DecisionAction.RESPOND, _H, None),
    Category.MEDIA_ENQUIRY: _Profile(DecisionAction.RESPOND, _M, None),
    Category.QUESTION: _Profile(DecisionAction.RESPOND, _L, None),
    Category.COMPLAINT: _Profile(DecisionAction.RESPOND, _L, None),
}


def toxicity_score(verdict: Verdict) -> tuple[str, float]:
    scored = [(k, v) for k, v in verdict.scores.items() if k in SCORE_KEYS]
    return max(scored, key=lambda kv: kv[1]) if scored else ("", 0.0)


def semantic_scores(verdict: Verdict) -> dict[Category, float]:
    """The semantic layer's score for each category it knows (none if the layer is off)."""
    out = {}
    for key, value in verdict.scores.items():
        if key.startswith(SEMANTIC_PREFIX):
            try:
                out[Category(key[len(SEMANTIC_PREFIX) :])] = value
            except ValueError:
                continue  # e.g. a library category this version does not act on
    return out


def semantic_reason(verdict: Verdict, category: Category, score: float) -> str:
    """'semantic model: self_harm 0.97, close in meaning to: "..." (0.83)'."""
    reason = f"semantic model: {category.value} {score:.2f}"
    near = verdict.nearest.get(category.value)
    if near:
        text, similarity = near
        shown = text if len(text) <= 90 else text[:87] + "..."
        reason += f', close in meaning to: "{shown}" ({similarity:.2f})'
    return reason


class _Builder:
    """Collects what each layer found; the strongest action wins, hiding only if some finding
    that is confident enough asks for it."""

    def __init__(self) -> None:
        self.action = DecisionAction.ALLOW
        self.severity = Severity.LOW
        self.categories: list[Category] = []
        self.reasons: list[str] = []
        self.hiding = False
        self.notices: list[tuple[DecisionAction, str | None]] = []

    def add(
        self,
        action: DecisionAction,
        category: Category,
        reason: str,
        severity: Severity,
        hides: bool,
        notice: str | None = None,
    ) -> None:
        self.action = max(self.action, action, key=lambda a: a.rank)
        self.severity = max(self.severity, severity, key=lambda s: s.rank)
        if category not in self.categories:
            self.categories.append(category)
        if reason not in self.reasons:
            self.reasons.append(reason)
        if hides:
            self.hiding = True
            self.notices.append((action, notice))


def decide(comment: Comment, verdict: Verdict, policy: Policy) -> Decision:
    found = _Builder()
    semantic_by_category = semantic_scores(verdict)
    hits = sorted(verdict.hits, key=lambda h: (h.action.rank, h.severity.rank), reverse=True)
    for hit in hits:
        wanted = DecisionAction.ESCALATE if hit.category.is_safeguarding else hit.action
        hides = wanted in (DecisionAction.HIDE, DecisionAction.ESCALATE)
        reason = hit.reason
        doubt = semantic_by_category.get(hit.category)
        doubted = (
            not hit.hides_alone
            and doubt is not None
            and doubt < policy.semantic_tier(hit.category.value).review
        )
        if doubted and hit.category.is_safeguarding:
            # A safeguarding word the meaning does not bear out ("FGM awareness session"):
            # the DSL still looks, but nothing is hidden on a keyword alone. A rule marked
            # `hides_alone` is a whole pattern, not a keyword, and hides whatever the model says.
            hides = False
            reason += f" (the semantic model disagrees, {doubt:.2f}: not hidden)"
        elif (
            doubted
            and hides
            and hit.severity.rank <= DOUBTABLE_SEVERITY.rank
            and _written_plainly(hit.matched, comment.text)
        ):
            # A mild word the meaning does not bear out ("won't shut up about the pasta bake",
            # "a sore loser, my son"): a person looks instead of the parent being hidden. A
            # disguised word ("d1ck", "l.o.s.e.r") is intent in itself, and the model cannot
            # read it, so it still hides.
            wanted, hides = DecisionAction.RESPOND, False
            reason += f" (the semantic model disagrees, {doubt:.2f}: a person should look)"
        found.add(wanted, hit.category, reason, hit.severity, hides, hit.notice)

    by_rules = {h.category for h in verdict.hits}
    semantic = sorted(semantic_by_category.items(), key=lambda kv: -kv[1])
    mass, others = harm_mass(semantic_by_category)
    corroborated = 0 < policy.semantic_corroboration <= mass and others >= OTHER_SIDES
    for category, score in semantic:
        _add_semantic(
            found, verdict, policy, category, score, category in by_rules, mass, corroborated
        )

    label, score = toxicity_score(verdict)
    if score >= policy.hide_threshold:
        found.add(
            DecisionAction.HIDE,
            Category.TOXICITY,
            f"{verdict.model or 'model'} {label} score {score:.2f} >= {policy.hide_threshold:.2f}",
            Severity.MEDIUM,
            True,
            DEFAULT_NOTICE,
        )
    elif score >= policy.review_threshold:
        found.add(
            DecisionAction.RESPOND,
            Category.TOXICITY,
            f"borderline {label} score {score:.2f}: a person should look",
            Severity.LOW,
            False,
        )

    if comment.has_attachment and policy.attachments_need_review:
        found.add(
            DecisionAction.RESPOND,
            Category.ATTACHMENT,
            "has an image or attachment, which modbot never opens: a person should look "
            "on the platform",
            Severity.LOW,
            False,
        )
    if len(comment.text) > MAX_CHARS:
        found.add(
            DecisionAction.RESPOND,
            Category.UNCHECKED,
            f"very long comment ({len(comment.text)} characters): only the first "
            f"{MAX_CHARS} were checked",
            Severity.LOW,
            False,
        )

    categories = found.categories
    if Category.STAFF_ALLEGATION in categories:  # an allegation, however angry, is no insult
        categories = [c for c in categories if c not in (Category.INSULT, Category.TOXICITY)]
    removes = found.action in (DecisionAction.HIDE, DecisionAction.ESCALATE)
    hide = removes and found.hiding
    notice = _notice_for(found.notices, categories) if hide else None
    return Decision(
        found.action, tuple(categories), tuple(found.reasons), notice, found.severity, hide
    )


HARM_ACTIONS = (DecisionAction.ESCALATE, DecisionAction.HIDE)

# The most severe rule finding (outside safeguarding) that the semantic model may overrule
# into a person's review when it scores the category below review.
DOUBTABLE_SEVERITY = Severity.LOW


# How much of the harm mass must come from other categories than the strongest, so one score
# alone never counts as corroborated (on dev: one harmful comment fewer hidden than without it).
OTHER_SIDES = 0.2


def _written_plainly(matched: str, text: str) -> bool:
    """Whether the rule's phrase appears in the comment as written (any case and spacing),
    rather than only after the rules undid a disguise."""
    return " ".join(matched.casefold().split()) in " ".join(text.casefold().split())


def harm_mass(scores: dict[Category, float]) -> tuple[float, float]:
    """The three strongest scores among categories that take a comment down, added up, and the
    part of that from the second and third: a comment the model reads as harmful from several
    sides at once ("he films them and says he'll post it" is exploitation, grooming and a
    threat) is surer than any one score says."""
    harm = sorted(
        (
            v
            for c, v in scores.items()
            if c in SEMANTIC_PROFILES and SEMANTIC_PROFILES[c].action in HARM_ACTIONS
        ),
        reverse=True,
    )
    return sum(harm[:3]), sum(harm[1:3])


def _add_semantic(
    found: _Builder,
    verdict: Verdict,
    policy: Policy,
    category: Category,
    score: float,
    rules_too: bool,
    mass: float = 0.0,
    corroborated: bool = False,
) -> None:
    profile = SEMANTIC_PROFILES.get(category)
    tier = policy.semantic_tier(category.value)
    if profile is None or score < tier.review:
        return
    reason = semantic_reason(verdict, category, score)
    if rules_too:  # the rules decided already; the model's reason only adds to them
        found.add(DecisionAction.ALLOW, category, reason, Severity.LOW, False)
        return
    confident = score >= tier.act
    if not confident and corroborated and profile.action in HARM_ACTIONS:
        confident = True
        reason += f" (with the other harm scores, {mass:.2f} in all: acted on)"
    if profile.action is DecisionAction.ESCALATE:
        if confident:
            found.add(_S, category, reason, profile.severity, True, profile.notice)
        else:
            found.add(
                _S,
                category,
                reason + ": the DSL is asked to look; not hidden (below the confident tier)",
                Severity.MEDIUM if profile.severity.rank > Severity.MEDIUM.rank else _L,
                False,
            )
    elif profile.action is DecisionAction.HIDE:
        if confident:
            found.add(DecisionAction.HIDE, category, reason, profile.severity, True, profile.notice)
        else:
            found.add(
                DecisionAction.RESPOND,
                category,
                reason + ": a person should look; not hidden",
                Severity.LOW,
                False,
            )
    else:
        found.add(DecisionAction.RESPOND, category, reason, profile.severity, False)


def _notice_for(
    notices: list[tuple[DecisionAction, str | None]], categories: list[Category]
) -> str | None:
    if not all(c.allows_public_notice for c in categories):
        return None
    if any(n is None for _a, n in notices):
        return None  # e.g. spam: a notice would only amplify it
    ranked = sorted(notices, key=lambda an: an[0].rank, reverse=True)
    return next((n for _a, n in ranked if n), DEFAULT_NOTICE)
