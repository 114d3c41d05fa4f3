"""Disguises found on the dev sets (tests/data/judgement/*_dev.jsonl), each a labelled line
there, and the harmless words the same changes must leave alone."""

from pathlib import Path

import pytest

from bot.config.settings import REPO_ROOT
from classifiers.normalise import normalise
from classifiers.rules import RulesClassifier

RULES = RulesClassifier.from_dir(REPO_ROOT / "config" / "rules")


def categories(text: str) -> set[str]:
    return {h.category.value for h in RULES.classify([text])[0].hits}


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("the parent on the zigzags is a d.i.c.k.h.e.a.d", "profanity"),  # dotted
        ("sh-i-t organisation at the fair", "profanity"),  # dashed, two-letter chunk
        ("sp.a.s.t.i.c.s shouldn't be in mainstream", "identity_hate"),
        ("the new PE teacher is a d y k e", "identity_hate"),  # spelt out after "a"
        ("what an i d i o t", "insult"),  # "i" starting the word itself still reads
        ("jeez this is sh🤬t, no heating", "profanity"),  # a pictograph as a mask
        ("Mrs Morgan the 🅱️itch strikes again", "profanity"),  # a squared letter
        ("oh FFS, another non-uniform day", "profanity"),
    ],
)
def test_disguised_words_are_caught(text, category):
    assert category in categories(text)


@pytest.mark.parametrize(
    "text",
    [
        "Teachers will assess reading levels in the first week back",
        "e.g. the x-ray results at bbc.co.uk",
        "the U.S.A. trip leaves at 9 a.m.",
        "I love it❤️so much 🎉 well done Year 6",
        "Faggots, mash and peas on the retro lunch menu",
        "The knob fell off the staffroom door again",
        "Mary rode the ass in the nativity, with the ox and the ass behind",
    ],
)
def test_harmless_words_stay_harmless(text):
    assert categories(text) == set()


def test_spelt_out_after_an_article_keeps_the_article_in_the_main_view():
    norm = normalise("is a d y k e")
    assert norm.a == " is adyke " and "dyke" in norm.disguised


DEV = REPO_ROOT / "tests" / "data" / "judgement"


def rates(name: str) -> tuple[int, int]:
    import json

    path = Path(DEV / name)
    if not path.exists():
        pytest.skip(f"{path} is not present")
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    caught = sum(bool(RULES.classify([r["text"]])[0].hits) for r in rows)
    return caught, len(rows)


def test_rules_on_the_dev_sets():
    """The rules alone, on the sets they were tuned on (the held-out sets are in
    test_judgement.py). Measured: 145 of 150 disguised words (the semantic layer adds two),
    3 of 120 harmless comments with rude substrings flagged ("uncle Dick", a farmer's bitch)."""
    caught, _ = rates("disguised_dev.jsonl")
    assert caught >= 145
    flagged, _ = rates("rude_substrings_dev.jsonl")
    assert flagged <= 3
