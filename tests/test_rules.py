"""The rules survive evasion and stay clear of the Scunthorpe problem."""

from pathlib import Path

import pytest

from bot.config.settings import REPO_ROOT
from bot.core.errors import ConfigError
from bot.core.models import Category
from classifiers.normalise import normalise
from classifiers.rules import RulesClassifier, load_rules

RULES = REPO_ROOT / "config" / "rules"


@pytest.fixture(scope="module")
def rules() -> RulesClassifier:
    return RulesClassifier.from_dir(RULES)


def categories(rules: RulesClassifier, text: str) -> set[str]:
    return {h.category.value for h in rules.classify([text])[0].hits}


CLEAN = [
    "Well done Penistone Grammar!",
    "Scunthorpe Juniors played well",
    "A trip to Clitheroe",
    "Cockermouth was lovely",
    "Shitterton village fete",
    "Sussex, Middlesex and Essex",
    "Lightwater Primary",
    "The assessment results",
    "a classic match",
    "Emily Dickinson",
    "grape juice",
    "our therapist visited",
    "Thank you Mrs Hughes, love from us all xxx",
    "As a gay dad I am so proud",
    "Thank you, this really touched me",
    "Well done everyone",
    "Muslim girls in sport",
    "pros and cons",  # "coons" squeezed is "cons": a squeezed slur must not meet a plain word
    "the River Niger",  # likewise "nigger" squeezed
    "clay pigeon shooting",  # "shotting" squeezed is "shoting", as is "shooting"
]


@pytest.mark.parametrize("text", CLEAN)
def test_place_names_and_ordinary_words_stay_clean(rules, text):
    assert categories(rules, text) <= {"question", "complaint"}, text


EVASIONS = {
    "k1ll urself": "threat",
    "kill yourself": "threat",
    "k i l l  y o u r s e l f": "threat",
    "f u c k off": "profanity",
    "f.u.c.k off": "profanity",
    "fuuuuuck": "profanity",
    "FUCK": "profanity",
    "ｆｕｃｋ": "profanity",  # full-width
    "fυck": "profanity",  # Greek upsilon
    "ѕһіt": "profanity",  # Cyrillic
    "f\u200bu\u200bc\u200bk": "profanity",  # zero-width spaces
    "sh!t": "profanity",
    "a$$hole": "profanity",
    "sh1te": "profanity",
    "p a k i": "identity_hate",
    "r3tards": "identity_hate",
    "i want to d1e": "self_harm",
    "my stepdad hits me": "abuse_disclosure",
    "add me on snap, our little secret": "grooming",
    "Call Amy on 07700 900123": "pupil_identification",
    "Amy Jones in Year 4 is lovely": "pupil_identification",
}


@pytest.mark.parametrize(("text", "category"), EVASIONS.items())
def test_evasions_are_caught(rules, text, category):
    assert category in categories(rules, text)


def test_suicide_awareness_is_not_intent_but_intent_is_never_excepted(rules):
    assert "self_harm" not in categories(rules, "Thanks for the suicide prevention talk")
    assert "self_harm" in categories(rules, "suicide prevention talk, but i want to kill myself")


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "😀" * 500,
        "a" * 100_000,
        "\u202e\u200f\u200d",
        "\ud800 lone surrogate",
        "混合 script мир عربى",
    ],
)
def test_strange_text_never_crashes(rules, text):
    rules.classify([text])


def test_long_text_is_marked_truncated():
    assert normalise("x " * 20_000).truncated


def write(tmp_path: Path, text: str) -> Path:
    d = tmp_path / "rules"
    d.mkdir(exist_ok=True)
    (d / "bad.yaml").write_text(text)
    return d


def test_bad_regex_and_empty_phrase_are_refused_with_file_and_line(tmp_path):
    d = write(
        tmp_path,
        """category: spam
action: hide
rules:
  - id: ok.one
    phrases: [hello]
  - id: bad.regex
    match: regex
    phrases: ['(unclosed']
  - id: bad.empty
    phrases: ['', 'fine']
""",
    )
    with pytest.raises(ConfigError) as info:
        load_rules(d)
    problems = info.value.problems
    assert any(p.startswith(f"{d / 'bad.yaml'}:6:") and "not a valid regex" in p for p in problems)
    assert any(
        p.startswith(f"{d / 'bad.yaml'}:9:") and "phrases[0] is empty" in p for p in problems
    )


def test_unknown_category_and_duplicate_id_are_refused(tmp_path):
    d = write(
        tmp_path,
        """rules:
  - {id: a, category: gossip, action: hide, phrases: [x]}
  - {id: b, category: spam, action: hide, phrases: [x]}
  - {id: b, category: spam, action: hide, phrases: [y]}
""",
    )
    with pytest.raises(ConfigError) as info:
        load_rules(d)
    text = "\n".join(info.value.problems)
    assert "category 'gossip' is not one of" in text
    assert "rule id 'b' already used" in text


def test_invalid_yaml_says_where(tmp_path):
    d = write(tmp_path, "rules:\n  - id: x\n    phrases: [unclosed\n")
    with pytest.raises(ConfigError, match=r"bad.yaml:\d+: not valid YAML"):
        load_rules(d)


def test_every_category_in_the_rule_files_is_known():
    assert {r.category for r in load_rules(RULES)} >= {
        Category.SELF_HARM,
        Category.ABUSE_DISCLOSURE,
        Category.GROOMING,
        Category.THREAT,
        Category.IDENTITY_HATE,
        Category.BULLYING,
        Category.PUPIL_IDENTIFICATION,
        Category.SEXUAL_EXPLOITATION,
        Category.CRIMINAL_EXPLOITATION,
        Category.RADICALISATION,
    }


def test_offline_model_does_not_punish_identity_words():
    from classifiers.toxicity import ProfanityCheckClassifier

    clf = ProfanityCheckClassifier()
    texts = [
        "As a gay dad I am so proud",
        "It's a gay old time at the panto!",
        "As a Muslim mum I loved the Eid assembly",
        "you fucking muslim",
    ]
    scores = [v.scores["profanity"] for v in clf.classify(texts)]
    assert max(scores[:3]) < 0.5
    assert scores[3] > 0.9  # the abuse is still scored as abuse
