"""modbot evaluate: the figures the schools judge us by, on our own labelled set."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.app import build_classifier
from bot.config.settings import REPO_ROOT, load_settings
from bot.faces.cli import EXIT_PARTIAL, cli
from bot.moderation.evaluate import headline, read_examples, recommend_threshold, run

SCHOOL_SET = REPO_ROOT / "tests" / "data" / "school_comments.jsonl"
DAVIDSON = REPO_ROOT.parent / "shared" / "data" / "davidson2017" / "labeled_data.csv"


def test_school_set_is_big_enough_and_covers_every_category():
    examples, problems = read_examples(SCHOOL_SET)
    assert problems == [] and len(examples) >= 300
    assert {e.category for e in examples} >= {
        "self_harm",
        "abuse_disclosure",
        "grooming",
        "sexual_exploitation",
        "criminal_exploitation",
        "radicalisation",
        "bullying",
        "threat",
        "identity_hate",
        "sexual_content",
        "pupil_identification",
        "spam",
        "question",
        "complaint",
    }


def test_the_acceptance_rates_on_the_school_set():
    settings = load_settings()
    examples, _ = read_examples(SCHOOL_SET)
    rates = headline(run(examples, build_classifier(settings).combined, settings.policy))
    assert rates["harmful_caught"] >= 0.95
    assert rates["safeguarding_escalated"] >= 0.95
    assert rates["harmless_hidden"] <= 0.02


def test_bad_lines_are_reported_and_the_command_exits_5(tmp_path):
    data = tmp_path / "labels.jsonl"
    data.write_text(
        "\n".join(
            [
                json.dumps({"text": "lovely", "label": "allow"}),
                json.dumps({"text": "x", "label": "maybe"}),
                "{broken",
                json.dumps({"text": "f u c k off", "label": "hide"}),
            ]
        )
    )
    result = CliRunner().invoke(cli, ["evaluate", str(data)])
    assert result.exit_code == EXIT_PARTIAL
    assert "labels.jsonl line 2: skipped (label 'maybe'" in result.output
    assert "labels.jsonl line 3: skipped" in result.output
    assert "Examples: 2" in result.stdout and "Confusion matrix" in result.stdout


def test_threshold_recommendation_keeps_harmless_hiding_under_two_percent():
    from bot.moderation.evaluate import Example, Result

    examples = [Example("", "allow")] * 100 + [Example("", "hide")] * 10
    scores = [i / 100 for i in range(100)] + [0.99] * 10
    result = Result(examples, ["allow"] * 110, [()] * 110, scores)
    assert recommend_threshold(result) == 0.98  # 0.98 and 0.99 are the 2 harmless at or above


@pytest.mark.skipif(not DAVIDSON.exists(), reason="../shared/data/davidson2017 not present")
def test_reads_the_davidson_csv():
    examples, _ = read_examples(Path(DAVIDSON))
    assert len(examples) > 20_000
    assert {e.label for e in examples} == {"allow", "hide"}


class Replay:
    """Verdicts fixed in advance: what the report does with them is under test, not a model."""

    name = version = "replay"

    def __init__(self, verdicts):
        self.verdicts = verdicts

    def classify(self, texts):
        return [self.verdicts[t] for t in texts]


def test_each_miss_is_listed_with_its_nearest_exemplars():
    from bot.config.settings import Policy
    from bot.core.models import Verdict
    from bot.moderation.evaluate import Example, report

    near = {
        "harmless": ("absolutely killing it on sports day", 0.71),
        "self_harm": ("wish I could sleep and never wake up", 0.52),
    }
    verdicts = {
        "so tired of being alive": Verdict({"semantic:self_harm": 0.1}, nearest=near),
        "lovely concert": Verdict({"semantic:self_harm": 0.01}, nearest=near),
    }
    examples = [
        Example("so tired of being alive", "escalate", "self_harm"),
        Example("lovely concert", "allow", "harmless"),
    ]
    result = run(examples, Replay(verdicts), Policy())
    text = report(result, Policy())
    assert "Misses: 1 (with the nearest exemplars)" in text
    assert "[escalate/self_harm -> allow: -] so tired of being alive" in text
    assert 'nearest (harmless): "absolutely killing it on sports day" (0.71)' in text
    assert 'nearest self_harm: "wish I could sleep and never wake up" (0.52)' in text
    quiet = report(result, Policy(), max_misses=0)
    assert "Misses: 1" in quiet and "so tired of being alive" not in quiet


def test_an_escalation_without_hiding_counts_as_escalated_not_taken_down():
    from bot.config.settings import Policy
    from bot.core.models import Verdict
    from bot.moderation.evaluate import Example

    tier = Policy().semantic_tier("grooming")
    middle = Verdict({"semantic:grooming": (tier.act + tier.review) / 2})
    examples = [Example("which bus does she get home", "escalate", "grooming")]
    result = run(examples, Replay({examples[0].text: middle}), Policy())
    rates = headline(result)
    assert rates["safeguarding_escalated"] == 1.0
    assert rates["harmful_caught"] == 0.0
