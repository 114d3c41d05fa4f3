"""`modbot evaluate`: measure decisions against labelled data instead of guessing.

Inputs: JSON lines with `text` and `label` (a decision: allow, respond, hide, escalate;
optionally `category`), or the Davidson et al. (2017) CSV (`class` 0 hate and 1 offensive are
counted as hide, 2 as allow). Reports precision, recall and F1 per decision and per category,
a confusion matrix, the three headline rates the schools judge us by, and the hide threshold
it would recommend for the model scores."""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bot.config.settings import Policy
from bot.core.models import Comment, DecisionAction
from bot.moderation.policy import decide, toxicity_score
from classifiers.base import Classifier

DECISIONS = [d.value for d in DecisionAction]
REMOVE = {"hide", "escalate"}


@dataclass
class Example:
    text: str
    label: str
    category: str | None = None


@dataclass
class Result:
    examples: list[Example]
    predicted: list[str]
    categories: list[tuple[str, ...]]
    scores: list[float]
    problems: list[str] = field(default_factory=list)


def read_examples(path: Path) -> tuple[list[Example], list[str]]:
    if path.suffix == ".csv":
        return list(_davidson(path)), []
    examples, problems = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            label = str(row["label"])
            if label not in DECISIONS:
                raise ValueError(f"label {label!r} is not one of {', '.join(DECISIONS)}")
            examples.append(Example(str(row["text"]), label, row.get("category")))
        except (ValueError, KeyError, TypeError) as exc:
            problems.append(f"{path.name} line {number}: skipped ({exc})")
    return examples, problems


def _davidson(path: Path) -> Iterator[Example]:
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            cls = int(row["class"])
            yield Example(
                row["tweet"],
                "allow" if cls == 2 else "hide",
                {0: "hate", 1: "offensive", 2: None}[cls],
            )


def run(
    examples: list[Example],
    classifier: Classifier,
    policy: Policy,
    batch_size: int = 256,
    progress=None,
) -> Result:
    predicted, categories, scores = [], [], []
    for start in range(0, len(examples), batch_size):
        batch = examples[start : start + batch_size]
        verdicts = classifier.classify([e.text for e in batch])
        for example, verdict in zip(batch, verdicts, strict=True):
            comment = Comment("eval", "eval", "", "", example.text, datetime.now(UTC))
            decision = decide(comment, verdict, policy)
            predicted.append(decision.action.value)
            categories.append(tuple(c.value for c in decision.categories))
            scores.append(toxicity_score(verdict)[1])
        if progress:
            progress(min(start + batch_size, len(examples)), len(examples))
    return Result(examples, predicted, categories, scores)


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def headline(result: Result) -> dict[str, float | int | None]:
    pairs = list(zip((e.label for e in result.examples), result.predicted, strict=True))
    removable = [p for t, p in pairs if t in REMOVE]
    harmless = [p for t, p in pairs if t in ("allow", "respond")]
    safeguarding = [
        p for e, p in zip(result.examples, result.predicted, strict=True) if e.label == "escalate"
    ]
    return {
        "examples": len(pairs),
        "harmful_caught": sum(p in REMOVE for p in removable) / len(removable)
        if removable
        else 1.0,
        "safeguarding_escalated": (
            sum(p == "escalate" for p in safeguarding) / len(safeguarding) if safeguarding else None
        ),
        "harmless_hidden": sum(p in REMOVE for p in harmless) / len(harmless) if harmless else 0.0,
    }


def recommend_threshold(result: Result, max_harmless_hidden: float = 0.02) -> float | None:
    """The lowest model threshold at which the model alone would hide at most 2% of harmless
    comments. None when the classifier gives no model scores."""
    if not any(result.scores):
        return None
    harmless = [
        s for s, e in zip(result.scores, result.examples, strict=True) if e.label not in REMOVE
    ]
    if not harmless:
        return None
    best = None
    for step in range(99, 0, -1):
        t = step / 100
        if sum(s >= t for s in harmless) / len(harmless) > max_harmless_hidden:
            break
        best = t
    return best


def report(result: Result, policy: Policy) -> str:
    labels = [e.label for e in result.examples]
    out = [f"Examples: {len(labels)}  " + ", ".join(f"{k} {v}" for k, v in Counter(labels).items())]
    h = headline(result)
    out += [
        "",
        "Headline",
        f"  harmful comments hidden or escalated : {h['harmful_caught']:.1%}",
        "  safeguarding comments escalated      : "
        + (
            f"{h['safeguarding_escalated']:.1%}"
            if h["safeguarding_escalated"] is not None
            else "n/a (none labelled escalate)"
        ),
        f"  harmless comments hidden             : {h['harmless_hidden']:.1%}",
        "",
        "Per decision            precision  recall     F1  support",
    ]
    for d in DECISIONS:
        tp = sum(t == d and p == d for t, p in zip(labels, result.predicted, strict=True))
        fp = sum(t != d and p == d for t, p in zip(labels, result.predicted, strict=True))
        fn = sum(t == d and p != d for t, p in zip(labels, result.predicted, strict=True))
        p, r, f = _prf(tp, fp, fn)
        out.append(f"  {d:<20} {p:>10.2f} {r:>7.2f} {f:>6.2f} {labels.count(d):>8}")
    cats = sorted({e.category for e in result.examples if e.category})
    if cats:
        out += [
            "",
            "Per category (found: the labelled category is among the decision's; "
            "removed: hidden or escalated)",
            "  category               precision  recall     F1  removed  support",
        ]
        for c in cats:
            labelled = [e.category == c for e in result.examples]
            found = [c in cs for cs in result.categories]
            tp = sum(a and b for a, b in zip(labelled, found, strict=True))
            fp = sum(b and not a for a, b in zip(labelled, found, strict=True))
            fn = sum(a and not b for a, b in zip(labelled, found, strict=True))
            p, r, f = _prf(tp, fp, fn)
            idx = [i for i, is_c in enumerate(labelled) if is_c]
            removed = sum(result.predicted[i] in REMOVE for i in idx) / len(idx)
            out.append(f"  {c:<22} {p:>9.2f} {r:>7.2f} {f:>6.2f} {removed:>8.2f} {len(idx):>8}")
    out += [
        "",
        "Confusion matrix (rows: label, columns: decision)",
        "  " + " " * 10 + "".join(f"{d:>10}" for d in DECISIONS),
    ]
    for t in DECISIONS:
        row = [
            sum(lt == t and p == d for lt, p in zip(labels, result.predicted, strict=True))
            for d in DECISIONS
        ]
        out.append(f"  {t:<10}" + "".join(f"{n:>10}" for n in row))
    threshold = recommend_threshold(result)
    out.append("")
    out.append(
        f"Recommended hide_threshold: {threshold:.2f} (now {policy.hide_threshold:.2f}; "
        "lowest that keeps harmless comments hidden by the model alone at or under 2%)"
        if threshold is not None
        else "Recommended hide_threshold: no model scores to tune"
    )
    return "\n".join(out)
