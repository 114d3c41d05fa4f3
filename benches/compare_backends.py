"""Compare offline toxicity backends on labelled data (run on demand: make compare).

Davidson is sampled (every 8th tweet, about 3,100) to keep better-profanity's run short.

Prints, per candidate and per data set, the three headline rates. Reads the Davidson CSV from
../shared when it is there, and skips it cleanly when it is not."""

from __future__ import annotations

import sys

from bot.config.settings import REPO_ROOT, Policy
from bot.core.models import Verdict
from bot.moderation.evaluate import headline, read_examples, run
from classifiers.base import Combined
from classifiers.rules import RulesClassifier
from classifiers.toxicity import ProfanityCheckClassifier


class BetterProfanity:
    name, version = "better-profanity", "0.7"

    def __init__(self) -> None:
        from better_profanity import profanity

        profanity.load_censor_words()
        self.p = profanity

    def classify(self, texts):
        return [Verdict({"profanity": float(self.p.contains_profanity(t))}) for t in texts]


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def main() -> None:
    sets = {"school (tests/data)": REPO_ROOT / "tests" / "data" / "school_comments.jsonl"}
    davidson = REPO_ROOT.parent / "shared" / "data" / "davidson2017" / "labeled_data.csv"
    if davidson.exists():
        sets["davidson2017"] = davidson
    else:
        print("davidson2017 not found beside the repo: skipped", file=sys.stderr)
    rules = RulesClassifier.from_dir(REPO_ROOT / "config" / "rules")
    pc, bp = ProfanityCheckClassifier(), BetterProfanity()
    candidates = {
        "rules only": rules,
        "rules + profanity-check": Combined(rules, pc),
        "rules + better-profanity": Combined(rules, bp),
        "profanity-check alone": pc,
        "better-profanity alone": bp,
    }
    policies = {
        "review 0.50 / hide 0.80": Policy(review_threshold=0.50, hide_threshold=0.80),
        "review 0.65 / hide 0.85": Policy(review_threshold=0.65, hide_threshold=0.85),
    }
    print(
        f"{'candidate':<27}{'thresholds':<25}{'data':<21}{'caught':>8}{'escalated':>10}"
        f"{'harmless hidden':>16}{'harmless to a person':>21}"
    )
    for data_name, path in sets.items():
        examples, _ = read_examples(path)
        if len(examples) > 5000:
            examples = examples[::8]  # every 8th: better-profanity manages ~50 comments a second
        for name, clf in candidates.items():
            for pname, policy in policies.items():
                result = run(examples, clf, policy)
                h = headline(result)
                harmless = [
                    p for e, p in zip(examples, result.predicted, strict=True) if e.label == "allow"
                ]
                to_person = sum(p == "respond" for p in harmless) / max(len(harmless), 1)
                print(
                    f"{name:<27}{pname:<25}{data_name:<21}{h['harmful_caught']:>8.1%}"
                    f"{_pct(h['safeguarding_escalated']):>10}{h['harmless_hidden']:>16.1%}"
                    f"{to_person:>21.1%}"
                )


if __name__ == "__main__":
    main()
