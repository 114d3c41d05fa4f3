"""A word-level toxicity model reads a comment again with the words the rules excused made
neutral, and the lower score counts: "a cock pheasant" is not hidden on the word alone."""

from __future__ import annotations

from bot.config.settings import REPO_ROOT
from bot.core.models import Verdict
from classifiers.rules import RulesClassifier
from classifiers.toxicity import ExcusedWordsAside, ProfanityCheckClassifier

INNOCENT = [
    "Year 3 class reader this term is by Dick King-Smith",
    "Year 1 can tell a cock blackbird from a hen",
    "My daughter is the ass in the nativity and she's been braying all week",
    "the farmer showed us his bitch, a border collie who is due to have puppies",
]


def test_excused_words_no_longer_score_and_everything_else_is_untouched():
    rules = RulesClassifier.from_dir(REPO_ROOT / "config" / "rules")
    plain = ProfanityCheckClassifier()
    fused = ExcusedWordsAside(plain, rules.innocent_text)
    rude = ["you absolute bitch", "what a cock", "Well done to the netball team"]
    before = [v.scores["profanity"] for v in plain.classify(INNOCENT + rude)]
    after = [v.scores["profanity"] for v in fused.classify(INNOCENT + rude)]
    assert max(before[: len(INNOCENT)]) >= 0.85  # each would be hidden on the word alone
    assert max(after[: len(INNOCENT)]) < 0.5
    assert after[len(INNOCENT) :] == before[len(INNOCENT) :]
    assert fused.name == plain.name and fused.version == plain.version


class Counting:
    """A backend that scores by a word and counts the texts it is asked to read."""

    name, version = "counting", "1"

    def __init__(self):
        self.read: list[str] = []

    def classify(self, texts):
        self.read += texts
        return [Verdict({"toxicity": 0.9 if "cock" in t else 0.1}, (), "c", "1") for t in texts]


def test_only_comments_with_excused_words_are_read_twice():
    rules = RulesClassifier.from_dir(REPO_ROOT / "config" / "rules")
    backend = Counting()
    verdicts = ExcusedWordsAside(backend, rules.innocent_text).classify(
        ["a cock pheasant", "hello", "you cock"]
    )
    assert [v.scores["toxicity"] for v in verdicts] == [0.1, 0.1, 0.9]
    assert backend.read == ["a cock pheasant", "hello", "you cock", "a thing pheasant"]


def test_the_rules_reading_of_a_batch_is_reused_not_matched_again():
    rules = RulesClassifier.from_dir(REPO_ROOT / "config" / "rules")
    batch = ["a cock pheasant", "you cock"]
    rules.classify(batch)
    matched: list[object] = []
    real_match = rules.match
    rules.match = lambda norm, innocent=None: matched.append(norm) or real_match(norm, innocent)
    assert [rules.innocent_text(t) for t in batch] == ["a thing pheasant", None]
    assert matched == []  # answered from the batch's reading
    assert rules.innocent_text("Dick King-Smith") == "thing king smith"
    assert len(matched) == 1  # a comment outside the batch is matched
