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
