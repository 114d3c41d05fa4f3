"""The nouns of modbot: what a connector gives, what classifiers say, what the policy decides,
and the platform actions a connector carries out. All frozen: they are records, not state."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


def valid_text(value: str) -> str:
    """Lone surrogates (valid in JSON, not in UTF-8) become U+FFFD instead of failing later."""
    return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


class Category(StrEnum):
    """What a comment is about. Safeguarding categories always reach the DSL."""

    SELF_HARM = "self_harm"
    ABUSE_DISCLOSURE = "abuse_disclosure"
    GROOMING = "grooming"
    SEXUAL_EXPLOITATION = "sexual_exploitation"
    CRIMINAL_EXPLOITATION = "criminal_exploitation"
    RADICALISATION = "radicalisation"
    BULLYING = "bullying"
    THREAT = "threat"
    IDENTITY_HATE = "identity_hate"
    SEXUAL_CONTENT = "sexual_content"
    PUPIL_IDENTIFICATION = "pupil_identification"
    STAFF_ALLEGATION = "staff_allegation"
    PHOTO_CONSENT = "photo_consent"
    MEDIA_ENQUIRY = "media_enquiry"
    PROFANITY = "profanity"
    INSULT = "insult"
    SPAM = "spam"
    TOXICITY = "toxicity"
    QUESTION = "question"
    COMPLAINT = "complaint"
    ATTACHMENT = "attachment"
    UNCHECKED = "unchecked"

    @property
    def is_safeguarding(self) -> bool:
        return self in SAFEGUARDING

    @property
    def allows_public_notice(self) -> bool:
        """A notice must never draw attention to a child who disclosed something or was named."""
        return self not in NO_PUBLIC_NOTICE


SAFEGUARDING = frozenset(
    {
        Category.SELF_HARM,
        Category.ABUSE_DISCLOSURE,
        Category.GROOMING,
        Category.SEXUAL_EXPLOITATION,
        Category.CRIMINAL_EXPLOITATION,
        Category.RADICALISATION,
        Category.BULLYING,
        Category.THREAT,
        Category.PUPIL_IDENTIFICATION,
        Category.STAFF_ALLEGATION,
    }
)
NO_PUBLIC_NOTICE = frozenset(
    {
        Category.SELF_HARM,
        Category.ABUSE_DISCLOSURE,
        Category.GROOMING,
        Category.SEXUAL_EXPLOITATION,
        Category.CRIMINAL_EXPLOITATION,
        Category.BULLYING,
        Category.PUPIL_IDENTIFICATION,
        Category.STAFF_ALLEGATION,
        Category.PHOTO_CONSENT,
        Category.MEDIA_ENQUIRY,
    }
)


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


class DecisionAction(StrEnum):
    """allow: nothing to do. respond: a person should reply (question, complaint).
    hide: offensive, remove from public view. escalate: hide and send to the DSL."""

    ALLOW = "allow"
    RESPOND = "respond"
    HIDE = "hide"
    ESCALATE = "escalate"

    @property
    def rank(self) -> int:
        return list(DecisionAction).index(self)


@dataclass(frozen=True)
class Comment:
    platform: str
    account: str
    post_id: str
    comment_id: str
    text: str
    created_at: datetime
    author_id: str = ""
    author_handle: str = ""
    parent_id: str | None = None
    permalink: str = ""
    has_attachment: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return (self.platform, self.comment_id)


@dataclass(frozen=True)
class RuleHit:
    rule_id: str
    category: Category
    severity: Severity
    action: DecisionAction
    reason: str
    notice: str | None = None
    matched: str = ""
    hides_alone: bool = False  # the rule is specific enough to hide though the model doubts it


@dataclass(frozen=True)
class Verdict:
    """What the classifiers say about one text: model scores in [0, 1] and rule hits."""

    scores: dict[str, float] = field(default_factory=dict)
    hits: tuple[RuleHit, ...] = ()
    model: str = ""
    model_version: str = ""
    # The semantic layer's explanation: for each category, the closest exemplar in the
    # library and its cosine similarity, so a reason can say what the text is close to.
    nearest: dict[str, tuple[str, float]] = field(default_factory=dict)

    def merge(self, other: Verdict) -> Verdict:
        models = "+".join(m for m in (self.model, other.model) if m)
        versions = "+".join(v for v in (self.model_version, other.model_version) if v)
        return Verdict(
            {**self.scores, **other.scores},
            self.hits + other.hits,
            models,
            versions,
            {**self.nearest, **other.nearest},
        )


# --- platform actions: types, so a connector can say which it supports -------------------


@dataclass(frozen=True)
class Action:
    comment_id: str

    @property
    def kind(self) -> str:
        return type(self).__name__.lower()

    @property
    def target(self) -> str:
        return self.comment_id


@dataclass(frozen=True)
class Hide(Action):
    """Hide a comment from the public (the author and their friends may still see it)."""


@dataclass(frozen=True)
class Unhide(Action):
    """Undo a hide, e.g. after a person reviewed a false positive."""


@dataclass(frozen=True)
class Delete(Action):
    """Remove a comment for good. Evidence is kept in modbot's store first."""


@dataclass(frozen=True)
class Notice(Action):
    """Tell the audience why something was removed. Never quotes the comment."""

    post_id: str = ""
    text: str = ""
    template: str = ""

    @property
    def target(self) -> str:
        return self.post_id


@dataclass(frozen=True)
class Ban(Action):
    """Block the comment's author from the account. Only ever on a person's approval; the
    comment that prompted it (if any) is `comment_id`."""

    author_id: str = ""

    @property
    def target(self) -> str:
        return self.author_id


@dataclass(frozen=True)
class Decision:
    action: DecisionAction
    categories: tuple[Category, ...] = ()
    reasons: tuple[str, ...] = ()
    notice_template: str | None = None
    severity: Severity = Severity.LOW
    hide: bool = True  # False: a person (the DSL) looks first, nothing is hidden yet

    @property
    def needs_person(self) -> bool:
        return self.action is not DecisionAction.ALLOW

    @property
    def is_safeguarding(self) -> bool:
        return any(c.is_safeguarding for c in self.categories)
