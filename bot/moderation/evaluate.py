"""`modbot evaluate`: measure decisions against labelled data instead of guessing.

Inputs: JSON lines with `text` and `label` (a decision: allow, respond, hide, escalate;
optionally `category`), or the Davidson et al. (2017) CSV (`class` 0 hate and 1 offensive are
counted as hide, 2 as allow). Reports the headline rates the schools judge us by, precision and
recall per decision and per category, a confusion matrix, every miss with the nearest exemplar
in the library (so a DSL can see what the model thought it was close to), and the hide
threshold it would recommend for the toxicity scores.

"Taken down" means hidden: a hide, or an escalation that hides. A concern only the model sees
below its confident tier is escalated without hiding: it counts as escalated, not taken down."""

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
    hidden: list[bool] = field(default_factory=list)  # taken down (empty: as predicted)
    # per example: the nearest exemplar overall and in the labelled category, if known
    nearest: list[dict[str, tuple[str, float]]] = field(default_factory=list)

    def taken_down(self) -> list[bool]:
        if self.hidden:
            return self.hidden
        return [p in REMOVE for p in self.predicted]


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
    result = Result(examples, [], [], [])
    for start in range(0, len(examples), batch_size):
        batch = examples[start : start + batch_size]
        verdicts = classifier.classify([e.text for e in batch])
        for example, verdict in zip(batch, verdicts, strict=True):
            comment = Comment("eval", "eval", "", "", example.text, datetime.now(UTC))
            decision = decide(comment, verdict, policy)
            result.predicted.append(decision.action.value)
            result.hidden.append(decision.action.value in REMOVE and decision.hide)
            result.categories.append(tuple(c.value for c in decision.categories))
            result.scores.append(toxicity_score(verdict)[1])
            result.nearest.append(_nearest(verdict.nearest, example.category))
        if progress:
            progress(min(start + batch_size, len(examples)), len(examples))
    return result


def _nearest(
    nearest: dict[str, tuple[str, float]], category: str | None
) -> dict[str, tuple[str, float]]:
    if not nearest:
        return {}
    best = max(nearest.items(), key=lambda kv: kv[1][1])
    out = {f"nearest ({best[0]})": best[1]}
    if category and category in nearest and category != best[0]:
        out[f"nearest {category}"] = nearest[category]
    return out


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def _rate(flags: list[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def headline(result: Result) -> dict[str, float | int | None]:
    """harmful taken down, safeguarding escalated, harmless taken down, replies routed."""
    down = result.taken_down()
    rows = list(zip(result.examples, result.predicted, down, strict=True))
    harmful = [d for e, _p, d in rows if e.label in REMOVE]
    harmless = [d for e, _p, d in rows if e.label in ("allow", "respond")]
    return {
        "examples": len(rows),
        "harmful_caught": _rate(harmful) if harmful else 1.0,  # taken down
        "safeguarding_escalated": _rate(
            [p == "escalate" for e, p, _d in rows if e.label == "escalate"]
        ),
        "harmless_hidden": _rate(harmless) or 0.0,  # allow or respond, taken down
        "allow_taken_down": _rate([d for e, _p, d in rows if e.label == "allow"]),
        "respond_routed": _rate([p != "allow" for e, p, _d in rows if e.label == "respond"]),
        "respond_taken_down": _rate([d for e, _p, d in rows if e.label == "respond"]),
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


def is_miss(example: Example, predicted: str, down: bool) -> bool:
    """What the school would call wrong: a harmful comment left up, a safeguarding one not
    escalated, a harmless one taken down, a question or complaint nobody is asked to answer."""
    if example.label == "escalate":
        return predicted != "escalate"
    if example.label == "hide":
        return not down
    if example.label == "respond":
        return predicted == "allow" or down
    return down


def _pct(value: float | int | None) -> str:
    return f"{value:.1%}" if isinstance(value, float) else "n/a"


def report(result: Result, policy: Policy, max_misses: int = 200) -> str:
    labels = [e.label for e in result.examples]
    down = result.taken_down()
    out = [f"Examples: {len(labels)}  " + ", ".join(f"{k} {v}" for k, v in Counter(labels).items())]
    h = headline(result)
    out += [
        "",
        "Headline",
        f"  harmful comments taken down (hidden)     : {_pct(h['harmful_caught'])}",
        f"  safeguarding comments escalated          : {_pct(h['safeguarding_escalated'])}",
        f"  harmless comments taken down             : {_pct(h['harmless_hidden'])}",
        f"  questions and complaints routed to a person: {_pct(h['respond_routed'])}",
        "",
        "Per decision            precision  recall     F1  support",
    ]
    for d in DECISIONS:
        tp = sum(t == d and p == d for t, p in zip(labels, result.predicted, strict=True))
        fp = sum(t != d and p == d for t, p in zip(labels, result.predicted, strict=True))
        fn = sum(t == d and p != d for t, p in zip(labels, result.predicted, strict=True))
        p, r, f = _prf(tp, fp, fn)
        out.append(f"  {d:<20} {p:>10.2f} {r:>7.2f} {f:>6.2f} {labels.count(d):>8}")
    out += _per_category(result, down)
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
    out += _misses(result, down, max_misses)
    threshold = recommend_threshold(result)
    out.append("")
    out.append(
        f"Recommended hide_threshold: {threshold:.2f} (now {policy.hide_threshold:.2f}; "
        "lowest that keeps harmless comments hidden by the model alone at or under 2%)"
        if threshold is not None
        else "Recommended hide_threshold: no model scores to tune"
    )
    return "\n".join(out)


def _per_category(result: Result, down: list[bool]) -> list[str]:
    cats = sorted({e.category for e in result.examples if e.category})
    if not cats:
        return []
    out = [
        "",
        "Per category (found: the labelled category is among the decision's; right: the "
        "labelled decision was made; down: taken down)",
        "  category               precision  recall   right    down  support",
    ]
    for c in cats:
        labelled = [e.category == c for e in result.examples]
        found = [c in cs for cs in result.categories]
        tp = sum(a and b for a, b in zip(labelled, found, strict=True))
        fp = sum(b and not a for a, b in zip(labelled, found, strict=True))
        fn = sum(a and not b for a, b in zip(labelled, found, strict=True))
        p, r, _f = _prf(tp, fp, fn)
        idx = [i for i, is_c in enumerate(labelled) if is_c]
        right = sum(
            not is_miss(result.examples[i], result.predicted[i], down[i]) for i in idx
        ) / len(idx)
        removed = sum(down[i] for i in idx) / len(idx)
        shown_p = f"{p:>9.2f}" if tp + fp else f"{'-':>9}"
        out.append(f"  {c:<22} {shown_p} {r:>7.2f} {right:>7.2f} {removed:>7.2f} {len(idx):>8}")
    return out


def _misses(result: Result, down: list[bool], max_misses: int) -> list[str]:
    misses = [i for i, e in enumerate(result.examples) if is_miss(e, result.predicted[i], down[i])]
    out = ["", f"Misses: {len(misses)}" + (" (with the nearest exemplars)" if misses else "")]
    for i in misses[:max_misses]:
        e = result.examples[i]
        text = " ".join(e.text.split())
        text = text if len(text) <= 100 else text[:97] + "..."
        decided = result.predicted[i] + (" (hidden)" if down[i] else "")
        cats = ", ".join(result.categories[i]) or "-"
        out.append(f"  [{e.label}/{e.category or '-'} -> {decided}: {cats}] {text}")
        near = result.nearest[i] if i < len(result.nearest) else {}
        for what, (exemplar, similarity) in near.items():
            shown = exemplar if len(exemplar) <= 90 else exemplar[:87] + "..."
            out.append(f'      {what}: "{shown}" ({similarity:.2f})')
    if len(misses) > max_misses:
        out.append(f"  ... and {len(misses) - max_misses} more (--misses N shows more)")
    return out
