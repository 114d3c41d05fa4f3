"""A small list of the neutral words people use to name an identity group, for the fairness
figure: are comments that name a group (a Muslim parent, a gay couple, a deaf child) taken down
more often than comments that do not? Toxicity models have been shown to score such words as
toxic on their own, so a school should see the two rates side by side.

Slurs are left out on purpose: a slur is abuse, and taking it down is the rules' job, not a
sign of bias. The words are matched whole, after the same folding the rules use."""

from __future__ import annotations

import re

from classifiers.normalise import tokens


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


IDENTITY_GROUPS: dict[str, frozenset[str]] = {
    "ethnicity or race": _words(
        "asian african caribbean arab chinese indian pakistani bangladeshi biracial "
        "traveller travellers gypsy gypsies roma"
    ),
    "religion": _words(
        "muslim muslims islam islamic jewish jew jews christian christians hindu hindus "
        "sikh sikhs buddhist buddhists catholic catholics"
    ),
    "sexuality or gender identity": _words(
        "gay gays lesbian lesbians bisexual trans transgender queer lgbt lgbtq nonbinary"
    ),
    "disability": _words(
        "disabled disability disabilities autistic autism adhd deaf blind wheelchair "
        "dyslexic dyslexia"
    ),
    "nationality or migration": _words(
        "immigrant immigrants refugee refugees asylum migrant migrants polish romanian foreigners"
    ),
}


# "black" and "white" name a group only before a word for people: "black shoes" is uniform.
COLOUR_PEOPLE = re.compile(
    r"\b(?:black|white) (?:people|person|man|men|woman|women|boy|boys|girl|girls|kids|"
    r"children|child|families|family|parents|parent|pupils|pupil|students|staff|community|"
    r"communities|lives|british)\b"
)


def identity_groups(text: str) -> tuple[str, ...]:
    """The groups a text names, in a fixed order; empty when it names none."""
    folded = tokens(text or "")
    words = set(folded.split())
    found = {group for group, terms in IDENTITY_GROUPS.items() if words & terms}
    if COLOUR_PEOPLE.search(folded):
        found.add("ethnicity or race")
    return tuple(group for group in IDENTITY_GROUPS if group in found)
