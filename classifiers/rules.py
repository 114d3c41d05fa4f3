"""Safeguarding and moderation rules from YAML files a DSL can read and edit.

Conventions follow Reddit's AutoModerator: `match` is `includes-word` (the default: whole
words or phrases), `starts-with` (a word that begins with the phrase: "fuck" finds "fucking"),
`includes` (anywhere, even inside words: use sparingly), or `regex`. `action_reason` is the
reason shown to moderators. All literal phrases from every file go into one Aho-Corasick
automaton per text view (pyahocorasick, in C), so thousands of phrases cost one pass."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import ahocorasick
import yaml

from bot.core.errors import ConfigError
from bot.core.models import Category, DecisionAction, RuleHit, Severity, Verdict
from classifiers.normalise import NormalText, normalise, normalise_pattern, squeeze

_DIGIT = re.compile(r"\d")
MATCH_MODES = ("includes-word", "starts-with", "includes", "regex")
RULE_KEYS = {
    "id", "category", "severity", "action", "notice", "action_reason", "match", "view",
    "phrases", "exceptions", "comment", "requires",
}  # fmt: skip


@dataclass(frozen=True)
class Rule:
    id: str
    category: Category
    severity: Severity
    action: DecisionAction
    reason: str
    notice: str | None
    match: str
    phrases: tuple[str, ...]
    exceptions: tuple[str, ...] = ()
    view: str = "normal"
    source: str = ""
    regexes: tuple[re.Pattern[str], ...] = field(default=(), compare=False)
    requires: tuple[str, ...] = ()  # regex rules: skip unless one of these is in the text

    def hit(self, matched: str) -> RuleHit:
        return RuleHit(
            self.id, self.category, self.severity, self.action, self.reason, self.notice, matched
        )


class _LineLoader(yaml.SafeLoader):
    """Records each mapping's line so errors can say where a rule is."""


def _mapping_with_line(loader: _LineLoader, node: yaml.MappingNode) -> dict:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_line)


def _enum(kind: type, value: object, where: str, key: str, problems: list[str]):
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        problems.append(f"{where}: {key} {value!r} is not one of: {allowed}")
        return None


def _parse_rule(raw: dict, defaults: dict, where: str, problems: list[str]) -> Rule | None:
    before = len(problems)
    unknown = sorted(set(raw) - RULE_KEYS - {"__line__"})
    if unknown:
        problems.append(f"{where}: unknown key(s) {', '.join(unknown)}")
    merged = {**defaults, **raw}
    rule_id = str(merged.get("id") or "").strip()
    if not rule_id:
        problems.append(f"{where}: every rule needs an `id`")
    category = _enum(Category, merged.get("category"), where, "category", problems)
    severity = _enum(Severity, merged.get("severity", "medium"), where, "severity", problems)
    action = _enum(DecisionAction, merged.get("action"), where, "action", problems)
    mode = merged.get("match", "includes-word")
    if mode not in MATCH_MODES:
        problems.append(f"{where}: match {mode!r} is not one of: {', '.join(MATCH_MODES)}")
    view = merged.get("view", "normal")
    if view not in ("normal", "raw"):
        problems.append(f"{where}: view {view!r} must be normal or raw")
    phrases = merged.get("phrases")
    if not isinstance(phrases, list) or not phrases:
        problems.append(f"{where}: `phrases` must be a non-empty list")
        phrases = []
    regexes = []
    for i, phrase in enumerate(phrases):
        if not isinstance(phrase, str | int) or not str(phrase).strip():
            problems.append(f"{where}: phrases[{i}] is empty")
            continue
        if mode == "regex":
            try:
                regexes.append(re.compile(str(phrase), re.IGNORECASE if view == "normal" else 0))
            except re.error as exc:
                problems.append(f"{where}: phrases[{i}] is not a valid regex ({exc})")
        elif not normalise_pattern(str(phrase)):
            problems.append(f"{where}: phrases[{i}] {phrase!r} has no letters or digits to match")
    exceptions = merged.get("exceptions") or []
    if not isinstance(exceptions, list):
        problems.append(f"{where}: `exceptions` must be a list")
        exceptions = []
    if len(problems) > before:
        return None
    notice = merged.get("notice")
    requires = merged.get("requires") or []
    if not isinstance(requires, list) or not all(isinstance(r, str) and r for r in requires):
        problems.append(f"{where}: `requires` must be a list of non-empty strings")
        return None
    return Rule(
        id=rule_id,
        category=category,
        severity=severity,
        action=action,
        reason=str(merged.get("action_reason") or f"{category.value} ({rule_id})"),
        notice=None if notice in (None, "none") else str(notice),
        match=mode,
        phrases=tuple(str(p) for p in phrases),
        exceptions=tuple(normalise_pattern(str(e)) for e in exceptions if str(e).strip()),
        view=view,
        source=where,
        regexes=tuple(regexes),
        requires=tuple(requires),
    )


def load_rule_file(path: Path, problems: list[str]) -> list[Rule]:
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        problems.append(f"{path}{line}: not valid YAML ({getattr(exc, 'problem', exc)})")
        return []
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"{path}: cannot read ({exc})")
        return []
    if not isinstance(doc, dict) or not isinstance(doc.get("rules"), list):
        problems.append(f"{path}: expected a mapping with a `rules:` list")
        return []
    defaults = {k: v for k, v in doc.items() if k not in ("rules", "__line__")}
    rules = []
    for raw in doc["rules"]:
        line = raw.get("__line__", "?") if isinstance(raw, dict) else "?"
        where = f"{path}:{line}"
        if not isinstance(raw, dict):
            problems.append(f"{where}: each rule must be a mapping")
            continue
        rule = _parse_rule(raw, defaults, where, problems)
        if rule:
            rules.append(rule)
    return rules


def load_rules(rules_dir: Path) -> list[Rule]:
    """Every *.yaml file in the folder; raises ConfigError listing each file:line problem."""
    problems: list[str] = []
    files = sorted(rules_dir.glob("*.yaml")) if rules_dir.is_dir() else []
    if not files:
        raise ConfigError(f"classifiers.rules_dir: no rule files (*.yaml) in {rules_dir}")
    rules = [r for f in files for r in load_rule_file(f, problems)]
    seen: dict[str, str] = {}
    for rule in rules:
        if rule.id in seen:
            problems.append(f"{rule.source}: rule id {rule.id!r} already used at {seen[rule.id]}")
        seen[rule.id] = rule.source
    if problems:
        raise ConfigError(problems)
    return rules


def _gate(rule: Rule) -> tuple[bool, frozenset[str], tuple[str, ...]]:
    """`requires` split into: any digit; whole words (folded text); other literal strings."""
    words = frozenset(normalise_pattern(n) for n in rule.requires if n.isalnum() and n != "digit")
    raw = tuple(n for n in rule.requires if not n.isalnum())
    return "digit" in rule.requires, words, raw


class RulesClassifier:
    """Matches every rule against a comment's normalised views in one pass per view."""

    name = "rules"

    def __init__(self, rules: Sequence[Rule]):
        self.rules = list(rules)
        self.version = f"{len(self.rules)}-rules"
        self._a = ahocorasick.Automaton()
        self._b = ahocorasick.Automaton()
        self._regex_rules = [
            (i, r, _gate(r)) for i, r in enumerate(self.rules) if r.match == "regex"
        ]
        for index, rule in enumerate(self.rules):
            if rule.match == "regex":
                continue
            for phrase in rule.phrases:
                self._add_phrase(index, rule.match, normalise_pattern(phrase), phrase)
        for automaton in (self._a, self._b):
            if len(automaton):
                automaton.make_automaton()

    @classmethod
    def from_dir(cls, rules_dir: Path) -> RulesClassifier:
        return cls(load_rules(rules_dir))

    def _add_phrase(self, index: int, mode: str, norm: str, original: str) -> None:
        def key(p: str) -> str:
            return {"includes-word": f" {p} ", "starts-with": f" {p}", "includes": p}[mode]

        forms_a = {norm}
        if " " in norm:
            forms_a.add(norm.replace(" ", ""))  # "k y s" and "killyourself" arrive as one word
        forms_b = set()
        for form in forms_a:
            squeezed = squeeze(form, keep_doubles=False)
            # "ass" squeezed is "as": only squeeze where it cannot collide with a common word
            if squeezed == form or len(squeezed) >= 4:
                forms_b.add(squeezed)
        for automaton, forms in ((self._a, forms_a), (self._b, forms_b)):
            for form in forms:
                k = key(form)
                entries = automaton.get(k, [])
                entries.append((index, original))
                automaton.add_word(k, entries)

    def match(self, norm: NormalText) -> list[RuleHit]:
        found: dict[int, str] = {}
        for automaton, view in ((self._a, norm.a), (self._b, norm.b)):
            if not len(automaton):
                continue
            for _end, entries in automaton.iter(view):
                for index, phrase in entries:
                    found.setdefault(index, phrase)
        has_digit = _DIGIT.search(norm.raw) is not None
        words: set[str] | None = None
        for index, rule, (digit, gate_words, gate_raw) in self._regex_rules:
            if digit or gate_words or gate_raw:  # a cheap test first (see `requires`)
                if words is None and gate_words:
                    words = set(norm.a.split())
                if not (
                    (digit and has_digit)
                    or (gate_words and not gate_words.isdisjoint(words))
                    or any(need in norm.raw for need in gate_raw)
                ):
                    continue
            text = norm.raw if rule.view == "raw" else norm.a
            for rx in rule.regexes:
                m = rx.search(text)
                if m:
                    found.setdefault(index, m.group(0).strip())
                    break
        hits = []
        for index in sorted(found):
            rule = self.rules[index]
            if any(f" {exc} " in norm.a for exc in rule.exceptions):
                continue
            hits.append(rule.hit(found[index]))
        return hits

    def classify(self, texts: Sequence[str]) -> list[Verdict]:
        out = []
        for text in texts:
            norm = normalise(text or "")
            hits = self.match(norm)
            out.append(Verdict(hits=tuple(hits), model=self.name, model_version=self.version))
        return out
