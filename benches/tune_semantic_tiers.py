"""How the semantic tiers were chosen: by measurement on the dev split, never on test.

Classifies the dev sets once (tests/data/judgement/dev3a.jsonl and dev3b.jsonl, two independent
writers, and harmless_dev.jsonl, 1,200 harmless and reply-needing comments from three more;
rules + semantic layer + toxicity backend, as the bot runs), then replays the verdicts
through `decide()` for a grid of `act` and `review` cut-offs and prints the rates the schools
judge us by, plus how many harmless comments the DSL would be asked to look at (escalated
without hiding). Usage:

    .venv/bin/python benches/tune_semantic_tiers.py [DATA.jsonl ...] [--category identity_hate]

With --category, only that category's tier moves; the others keep the configured ones.
With --corroboration, the tiers stay as configured and `policy.semantic_corroboration` (the
sum of the three strongest harm scores at which a review-tier concern is acted on) is swept.
With --grid, the default act tier, identity hate's act tier and the corroboration move together.
With --per-category, each category's act tier moves alone (down to 0.40 and 0.50) from the
configured tiers: where lowering it hides more harmful comments and no more harmless ones.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.app import build_classifier
from bot.config.settings import REPO_ROOT, SemanticTier, load_settings
from bot.core.models import Category
from bot.moderation.evaluate import headline, read_examples, run

DEV = [
    REPO_ROOT / "tests" / "data" / "judgement" / n
    for n in ("dev3a.jsonl", "dev3b.jsonl", "harmless_dev.jsonl")
]
GRID = [0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95]


class Replay:
    """The verdicts of one classification, replayed so a sweep costs no model time."""

    name = version = "replay"

    def __init__(self, texts, verdicts):
        self.by_text = dict(zip(texts, verdicts, strict=True))

    def classify(self, texts):
        return [self.by_text[t] for t in texts]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data", nargs="*", type=Path, default=DEV)
    parser.add_argument("--category", default="default")
    parser.add_argument("--corroboration", action="store_true")
    parser.add_argument("--grid", action="store_true")
    parser.add_argument("--per-category", action="store_true")
    args = parser.parse_args()
    if any("test" in path.name for path in args.data):
        sys.exit("refusing to tune on a test split: use dev")
    settings = load_settings()
    settings = settings.model_copy(
        update={"classifiers": settings.classifiers.model_copy(update={"semantic": True})}
    )
    classifiers = build_classifier(settings)
    print(classifiers.layers, file=sys.stderr)
    examples = [e for path in args.data for e in read_examples(path)[0]]
    texts = [e.text for e in examples]
    replay = Replay(texts, classifiers.combined.classify(texts))
    print("act  review | harmful_down sg_escalated | harmless_down harmless_to_DSL | routed")
    if args.grid:
        for act in (0.55, 0.6, 0.65):
            for hate in (0.75, 0.8, 0.85, 0.9):
                for total in (0.7, 0.8):
                    tiers = {
                        **settings.policy.semantic_tiers,
                        "default": SemanticTier(act=act, review=0.4),
                        "identity_hate": SemanticTier(act=hate, review=0.4),
                    }
                    policy = settings.policy.model_copy(
                        update={"semantic_tiers": tiers, "semantic_corroboration": total}
                    )
                    print(f"identity_hate {hate:.2f}, corroboration {total:.1f}:", end=" ")
                    report(examples, run(examples, replay, policy), act, 0.4)
        return
    if args.per_category:
        report(examples, run(examples, replay, settings.policy), 0, 0)
        for category in sorted(c.value for c in Category if c.value != "profanity"):
            configured = settings.policy.semantic_tier(category)
            for act in (0.4, 0.5):
                tiers = {
                    **settings.policy.semantic_tiers,
                    category: SemanticTier(act=act, review=min(configured.review, act)),
                }
                policy = settings.policy.model_copy(update={"semantic_tiers": tiers})
                print(f"{category}:", end=" ")
                report(examples, run(examples, replay, policy), act, min(configured.review, act))
        return
    if args.corroboration:
        for total in [0.0, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2]:
            policy = settings.policy.model_copy(update={"semantic_corroboration": total})
            print(f"corroboration {total:.1f}:", end=" ")
            report(examples, run(examples, replay, policy), 0, 0)
        return
    for act in GRID:
        for review in [r for r in GRID if r <= act]:
            tiers = {**settings.policy.semantic_tiers}
            tiers[args.category] = SemanticTier(act=act, review=review)
            policy = settings.policy.model_copy(update={"semantic_tiers": tiers})
            report(examples, run(examples, replay, policy), act, review)


def report(examples, result, act: float, review: float) -> None:
    h = headline(result)
    to_dsl = [
        p == "escalate" and not d
        for e, p, d in zip(examples, result.predicted, result.taken_down(), strict=True)
        if e.label in ("allow", "respond")
    ]
    print(
        f"{act:.2f} {review:.2f}  |    {h['harmful_caught']:.3f}       "
        f"{h['safeguarding_escalated']:.3f}    |    {h['harmless_hidden']:.3f}         "
        f"{sum(to_dsl) / len(to_dsl):.3f}      | {h['respond_routed']:.3f}"
    )


if __name__ == "__main__":
    main()
