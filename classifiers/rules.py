"""Safeguarding and moderation rules from YAML files a DSL can read and edit.

Conventions follow Reddit's AutoModerator: `match` is `includes-word` (the default: whole
words or phrases), `starts-with` (a word that begins with the phrase: "fuck" finds "fucking"),
`includes` (anywhere, even inside words: use sparingly), or `regex`. `action_reason` is the
reason shown to moderators. All literal phrases from every file go into one Aho-Corasick
automaton per text view (pyahocorasick, in C), so thousands of phrases cost one pass.

Beyond AutoModerator:
- `lexicon: true` marks word lists people disguise (swearing, slurs, sexual words): each one-word
  phrase is also matched masked ("sh*th*le", "f@ck"), with leetspeak at its ends ("wh0r3") and
  with the usual letter swaps ("fvck", "phuck", "fuk"). A masked word matches only a lexicon word
  of the same length whose letters agree, with a real letter at each end.
- An exception cancels only the occurrences it covers, so "Twatt is lovely, you twat" still hits.
  `raw_exceptions` are regexes on the text as written, capitals kept ("Twatt", "Bell End").
- `negation_guard: true` skips occurrences that are negated or reported as wrong in the same
  clause: "No Muslim deserves to die", "it's never ok to say kill yourself".
- `overrides: [insult]` drops those categories when the rule hits: an allegation against a
  member of staff is not an insult.
- `senses` give a word with an innocent sense the words that show it ("cock": pheasant, hen,
  blackbird): an occurrence whose sentence holds one is excused. Masked forms ("c*ck")
  never are, and the semantic layer still reads the whole comment.
`innocent_text` returns a comment with its excused words made neutral, so a word-level
toxicity model need not score "a cock pheasant" or "Dick King-Smith" on the word alone."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from itertools import groupby
from pathlib import Path

import ahocorasick
import yaml

from bot.core.errors import ConfigError
from bot.core.models import Category, DecisionAction, RuleHit, Severity, Verdict
from classifiers.normalise import NormalText, normalise, normalise_pattern, squeeze, tokens

_DIGIT = re.compile(r"\d")
MATCH_MODES = ("includes-word", "starts-with", "includes", "regex")
RULE_KEYS = {
    "id", "category", "severity", "action", "notice", "action_reason", "match", "view",
    "phrases", "exceptions", "comment", "requires", "lexicon", "raw_exceptions",
    "negation_guard", "overrides", "senses", "hides_alone",
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
    lexicon: bool = False  # one-word phrases also match masked, leetspeak and swapped forms
    raw_exceptions: tuple[re.Pattern[str], ...] = field(default=(), compare=False)
    negation_guard: bool = False  # skip occurrences negated or condemned in their clause
    overrides: tuple[Category, ...] = ()  # categories dropped when this rule hits
    # word -> words that, in the same sentence, show its innocent sense
    senses: dict[str, frozenset[str]] = field(default_factory=dict, compare=False, hash=False)
    hides_alone: bool = False  # a pattern specific enough to hide though the model doubts it

    def hit(self, matched: str) -> RuleHit:
        return RuleHit(
            self.id,
            self.category,
            self.severity,
            self.action,
            self.reason,
            self.notice,
            matched,
            self.hides_alone,
        )


class _LineLoader(yaml.SafeLoader):
    """Records each mapping's line so errors can say where a rule is."""


def _mapping_with_line(loader: _LineLoader, node: yaml.MappingNode) -> dict:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_line)


def _enum(kind: type[Enum], value: object, where: str, key: str, problems: list[str]):
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
    raw_exceptions = []
    raw_list = merged.get("raw_exceptions") or []
    if not isinstance(raw_list, list):
        problems.append(f"{where}: `raw_exceptions` must be a list of regexes")
        raw_list = []
    for i, pattern in enumerate(raw_list):
        try:
            raw_exceptions.append(re.compile(str(pattern)))
        except re.error as exc:
            problems.append(f"{where}: raw_exceptions[{i}] is not a valid regex ({exc})")
    for key in ("lexicon", "negation_guard", "hides_alone"):
        if not isinstance(merged.get(key, False), bool):
            problems.append(f"{where}: `{key}` must be true or false")
    overrides = merged.get("overrides") or []
    if not isinstance(overrides, list):
        problems.append(f"{where}: `overrides` must be a list of categories")
        overrides = []
    override_categories = [_enum(Category, o, where, "overrides", problems) for o in overrides]
    senses = _parse_senses(merged.get("senses"), where, problems)
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
        lexicon=bool(merged.get("lexicon", False)),
        raw_exceptions=tuple(raw_exceptions),
        negation_guard=bool(merged.get("negation_guard", False)),
        overrides=tuple(override_categories),
        senses=senses,
        hides_alone=bool(merged.get("hides_alone", False)),
    )


def _parse_senses(raw: object, where: str, problems: list[str]) -> dict[str, frozenset[str]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.append(f"{where}: `senses` must map a word to a list of words")
        return {}
    senses = {}
    for word, context in raw.items():
        if word == "__line__":
            continue
        if not isinstance(context, list) or not context:
            problems.append(f"{where}: senses.{word} must be a non-empty list of words")
            continue
        key = normalise_pattern(str(word))
        words = frozenset(normalise_pattern(str(c)) for c in context) - {""}
        if not key or not words:
            problems.append(f"{where}: senses.{word} has no letters or digits to match")
            continue
        senses[key] = words
    return senses


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


# Letter swaps people use to dodge word lists, applied to lexicon words (not to the text, so an
# ordinary word can only meet a swapped form that someone listed as a lexicon word).
_SWAPS: tuple[tuple[str, str], ...] = (
    (r"u", "v"),  # fvck, cvnt
    (r"f", "ph"),  # phuck
    (r"ck", "k"),  # fuk, dik
    (r"ck", "kk"),  # fukk
    (r"ck", "q"),  # fuq
    (r"(?<=[a-z]{3})er(?=s?$)", "a"),  # wanka, fucka
    (r"i", "y"),  # shyt, bytch
    (r"s$", "z"),  # bitchez
)


def swapped_forms(word: str) -> set[str]:
    """Every combination of the swaps that applies to a lexicon word ("fuck": "fvck", "phuck",
    "fuk", "phvk", ...), the word itself excluded."""
    forms = {word}
    for pattern, replacement in _SWAPS:
        forms |= {re.sub(pattern, replacement, f) for f in forms}
    forms.discard(word)
    return forms


def _runs(text: str) -> list[tuple[str, int]]:
    return [(ch, len(list(group))) for ch, group in groupby(text)]


def stretches(text: str, pattern: str, prefix: bool = False) -> bool:
    """Whether text is pattern with letters held longer ("fuuck" stretches "fuck"), never
    fewer: "shooting" does not stretch "shotting", nor "cons" "coons". With prefix, text may
    go on after the pattern ("fuuucking")."""
    have, want = _runs(text), _runs(pattern)
    if len(have) < len(want) or (not prefix and len(have) != len(want)):
        return False
    return all(h[0] == w[0] and h[1] >= w[1] for h, w in zip(have, want, strict=False))


def _mask_fits(masked: str, word: str) -> bool:
    """A mask stands for exactly one letter and every real letter agrees: "sh*th*le" fits
    "shithole", "c*t" fits no lexicon word, "ass*ssment" fits none."""
    if len(masked) != len(word):
        return False
    return all(m in ("*", w) for m, w in zip(masked, word, strict=True))


# Negation and counter-speech, read in the occurrence's own clause (a-view words).
_NEGATED_SUBJECT = re.compile(
    r"(?:^| )(?:no|nobody|noone|no one|no body|not one|not a single|not any|none of \w+)"
    r"(?! (?:you|u|ur|he|she|they|i|we|it)\b)(?: \w+){0,3}? (?:ever )?"
    r"(?:deserves?|should|must|needs? to|has to|have to|ought to|gets? to|is to)\b"
)
_NOT_OK_BEFORE = re.compile(
    r"(?:^| )(?:never|not|isn t|isnt|is not|its not|it s not|ain t|aint)(?: \w+)? "
    r"(?:ok|okay|acceptable|alright|cool|funny|right|fine|banter|a joke|appropriate)"
    r"(?: to| for (?:\w+ ){1,2}to)?"
    r"(?: (?:say|tell|write|post|type|shout|joke about|call|threaten|wish)(?: \w+)?)?(?: to)?$"
)
_TELLING_OFF_BEFORE = re.compile(
    r"(?:^| )(?:don t|dont|do not|never|stop|should never|must never|shouldn t|shouldnt)"
    r"(?: ever)? (?:say|saying|tell(?:ing)?(?: \w+)? to|post|posting|write|writing|type|typing"
    r"|shout|shouting|chant|chanting|joke about|joking about)"
    r"(?: things like| stuff like| that| words like)?$"
)
_REPORTED_BEFORE = re.compile(
    r"(?:^| )(?:threat(?:s|ening|ened|en)?|saying|posting|shouting|chanting|writing|typing"
    r"|telling(?: \w+)? to|told(?: \w+)? to|joking about)(?: to| that| like)?$"
)
# words that condemn what was said, shared by the frames below
_CONDEMNING = r"unacceptable|wrong|vile|disgusting|horrible|hateful|appalling|shameful|racist|awful"
_CONSEQUENCE_AFTER = re.compile(
    r"^(?:\w+ ){0,3}?(?:will|can|could|would|gets?|got|is|are|was|were|means|leads to)"
    r"(?: \w+){0,3}? (?:jail|jailed|arrested|excluded|expelled|banned|reported|prosecuted|crime"
    r"|criminal|illegal|law|suspended|trouble|prison|police|offence"
    r"|never ok|never okay|not ok|not okay|not acceptable|not banter|not a joke"
    rf"|evil|sick|bigoted|{_CONDEMNING})\b"
)
# "people saying X", "the comment saying X": someone else's words, reported to be condemned
_CONDEMNED_SPEAKER_BEFORE = re.compile(
    r"(?:^| )(?:people|anyone|anybody|those|whoever|someone|somebody|the comments?|comments"
    r"|the posts?|posts|a comment|a post|trolls?|the person|the people) (?:saying|who say|who said"
    r"|that say|that said|posting|writing|shouting|chanting|wrote|posted|typed|who wrote"
    r"|who posted|who typed|has commented|commented|has written|has posted|on here said"
    r"|keeps saying)(?: that| things like| stuff like)?(?: \w+){0,3}$"
)
_APPROVAL_AFTER = re.compile(
    r"^(?:\w+ ){0,2}?(?:are|is|was|were|re|s) (?:(?:so|dead|totally|100) )?"
    r"(?:right|correct|spot on|true)\b"
)
_NOT_OK_AFTER = re.compile(
    r"^(?:is|are|was) (?:never|not|not ever) (?:ok|okay|acceptable|alright|banter|a joke|funny"
    r"|cool|fine)\b|^(?:isn t|isnt|aren t|arent) (?:ok|okay|acceptable|alright|banter|a joke"
    r"|funny|cool|fine)\b|^(?:is|are) (?:a (?:hate )?crime|illegal|against the law|unacceptable"
    r"|wrong|never acceptable)\b|^(?:is|are) (?:never|not) (?:the|an|a) (?:answer|solution|way)\b"
)
# "the 'go back to your own country' comments were disgusting": the phrase named as others' words
_CONDEMNED_QUOTE_AFTER = re.compile(
    r"^(?:comments?|posts?|remarks?|messages?|replies|chants?|graffiti|stickers?|rubbish)"
    r"(?: \w+){0,6}? (?:is|are|was|were|has been|have been) (?:\w+ )?"
    rf"(?:{_CONDEMNING}|sickening|disgraceful|removed|reported|deleted)\b"
)
_CLAUSE_BREAK = re.compile(r"[.!?;:]+(?=\s|$)|,\s|\n|\s[-\u2013\u2014]\s")
_HELD_THRICE = re.compile(r"([a-z])\1\1")
_SENTENCE_BREAK = re.compile(r"[.!?;]+(?=\s|$)|\n")


def _guarded(words: list[str], t0: int, t1: int) -> bool:
    """True if the words t0..t1 sit in a negated or condemning frame within their clause."""
    before = " ".join(words[max(0, t0 - 8) : t0])
    hit = " ".join(words[t0:t1])
    after = " ".join(words[t1 : t1 + 10])
    near = " ".join(words[max(0, t0 - 4) : t0])
    window = f"{near} {' '.join(words[t0 : t0 + 3])}".strip()
    subject = _NEGATED_SUBJECT.search(window)
    if subject and subject.end() > len(near) - 1:  # the negation runs on into the occurrence
        return True
    if _NOT_OK_BEFORE.search(before) or _TELLING_OFF_BEFORE.search(before):
        return True
    if _REPORTED_BEFORE.search(before) and _CONSEQUENCE_AFTER.search(after):
        return True
    if _CONDEMNED_SPEAKER_BEFORE.search(before) and not _APPROVAL_AFTER.search(after):
        return True
    if _CONDEMNED_QUOTE_AFTER.search(after):
        return True
    return bool(hit) and bool(_NOT_OK_AFTER.search(after)) and not before.endswith(" you")


class _Text:
    """Lazily computed facts about one comment, shared by every rule that needs them."""

    def __init__(self, norm: NormalText):
        self.norm = norm
        self._words: list[str] | None = None
        self._clauses: list[int] | None = None
        self._sentences: list[int] | None = None
        self._doubled: list[int] | None = None
        self._written: list[str] | None = None

    def token_span(self, view: str, start: int, end: int) -> tuple[int, int]:
        """Characters start..end (inclusive) of a padded view, as word indices [t0, t1)."""
        text = self.norm.a if view == "a" else self.norm.b
        t0 = text.count(" ", 0, start + 1) - 1
        t1 = text.count(" ", 0, end)
        return max(t0, 0), max(t1, t0 + 1)

    @property
    def words(self) -> list[str]:
        if self._words is None:
            self._words = self.norm.a.split()
        return self._words

    def stretched(self, t0: int, t1: int, mode: str, form: str) -> bool:
        """Whether words t0..t1 as written are the phrase `form` with letters held longer."""
        if self._doubled is None:
            self._doubled = [
                i
                for i, (a, b) in enumerate(zip(self.words, self.norm.b.split(), strict=True))
                if a != b
            ]
        if not any(t0 <= i < t1 for i in self._doubled):
            return False  # as written in the a view, which matched it already if it matches
        written = " ".join(self.words[t0:t1])
        if mode == "includes":
            return written != squeeze(written, keep_doubles=False)
        if " " not in form:
            written = written.replace(" ", "")
        return written != form and stretches(written, form, prefix=mode == "starts-with")

    def held_thrice(self, t0: int, t1: int) -> bool:
        """Whether words t0..t1 hold a letter three times as written (the normal view keeps
        two of a run); False if the written words do not line up with the normal view's."""
        if self._written is None:
            written = tokens(self.norm.raw).split()
            self._written = written if len(written) == len(self.words) else []
        return bool(_HELD_THRICE.search(" ".join(self._written[t0:t1])))

    def _numbered(self, pattern: re.Pattern[str]) -> list[int]:
        """Each word's piece number when the raw text is split by pattern; empty if the split
        does not line up with the words (the whole text is then one piece)."""
        pieces = pattern.split(self.norm.raw)
        numbers = [i for i, p in enumerate(pieces) for _ in tokens(p).split()]
        return numbers if len(numbers) == len(self.words) else []

    def clause_of(self, t: int) -> int:
        """Clause number of word t; the whole text is one clause if the split does not line up."""
        if self._clauses is None:
            self._clauses = self._numbered(_CLAUSE_BREAK)
        return self._clauses[t] if self._clauses else 0

    def sentence_words(self, t: int) -> str:
        """The sentence holding word t, as " word word " (the whole text if unsplittable)."""
        if self._sentences is None:
            self._sentences = self._numbered(_SENTENCE_BREAK)
        if not self._sentences:
            return self.norm.a
        number = self._sentences[t]
        words = (w for w, n in zip(self.words, self._sentences, strict=True) if n == number)
        return " " + " ".join(words) + " "

    def in_innocent_sense(self, rule: Rule, t0: int, t1: int) -> bool:
        context = rule.senses.get(" ".join(self.words[t0:t1]))
        if not context:
            return False
        sentence = self.sentence_words(t0)
        return any(f" {c} " in sentence for c in context)

    def clause_words(self, t0: int, t1: int) -> tuple[list[str], int, int] | None:
        """The clause holding words t0..t1, and their offsets in it; None if they straddle two."""
        first, last = self.clause_of(t0), self.clause_of(t1 - 1)
        if first != last:
            return None
        if not self._clauses:
            return self.words, t0, t1
        start = self._clauses.index(first)
        end = start + self._clauses.count(first)
        return self.words[start:end], t0 - start, t1 - start

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        """Characters start..end of the raw text as word indices, widened to whole words."""
        raw = self.norm.raw
        t0 = len(tokens(raw[:start]).split())
        if 0 < start < len(raw) and raw[start - 1].isalnum() and raw[start].isalnum():
            t0 -= 1  # the match begins inside a word
        t1 = len(tokens(raw[:end]).split())
        return t0, max(t1, t0 + 1)

    def raw_spans(self, pattern: re.Pattern[str]) -> list[tuple[int, int]]:
        """Where a raw-text regex matches, as word indices."""
        return [self.raw_span(*m.span()) for m in pattern.finditer(self.norm.raw)]


class RulesClassifier:
    """Matches every rule against a comment's normalised views in one pass per view."""

    name = "rules"

    def __init__(self, rules: Sequence[Rule]):
        self.rules = list(rules)
        self.version = f"{len(self.rules)}-rules"
        # the last batch's excused words, made neutral, for the toxicity model (innocent_text)
        self._recent: dict[str, str | None] = {}
        self._a = ahocorasick.Automaton()
        self._b = ahocorasick.Automaton()
        self._regex_rules = [
            (i, r, _gate(r)) for i, r in enumerate(self.rules) if r.match == "regex"
        ]
        # which regex rules a text can need, looked up from its words, digits and characters
        self._ungated = [i for i, r, g in self._regex_rules if not (g[0] or g[1] or g[2])]
        self._digit_gated = [i for i, r, g in self._regex_rules if g[0]]
        self._raw_gated = [(i, g[2]) for i, r, g in self._regex_rules if g[2]]
        self._word_gated: dict[str, list[int]] = {}
        for i, _r, (_d, gate_words, _raw) in self._regex_rules:
            for word in gate_words:
                self._word_gated.setdefault(word, []).append(i)
        # rules whose occurrences must be looked at one by one (exceptions and guards)
        self._positional = {
            i
            for i, r in enumerate(self.rules)
            if r.exceptions or r.raw_exceptions or r.negation_guard or r.senses
        }
        self._lexicon_words: dict[str, list[tuple[int, str]]] = {}  # with swapped forms
        self._swapped: set[str] = set()  # the swapped forms ("fvck", "cok")
        self._lexicon_stems: dict[str, list[tuple[int, str]]] = {}
        # masked words are compared with the lexicon as written, never with swapped forms
        self._masked_by_first: dict[str, list[tuple[str, bool, int, str]]] = {}
        for index, rule in enumerate(self.rules):
            if rule.match == "regex":
                continue
            for phrase in rule.phrases:
                norm = normalise_pattern(phrase)
                self._add_phrase(index, rule.match, norm, phrase)
                if rule.lexicon and norm.isalpha() and norm.isascii():
                    self._add_lexicon_word(index, rule.match, norm, phrase)
        # every rule's exceptions in one automaton over the a view, read only when needed
        self._exceptions = ahocorasick.Automaton()
        for index, rule in enumerate(self.rules):
            for exception in rule.exceptions:
                key = f" {exception} "
                entries = self._exceptions.get(key, [])
                entries.append((index, len(key)))
                self._exceptions.add_word(key, entries)
        for automaton in (self._a, self._b, self._exceptions):
            if len(automaton):
                automaton.make_automaton()

    @classmethod
    def from_dir(cls, rules_dir: Path) -> RulesClassifier:
        return cls(load_rules(rules_dir))

    def _add_lexicon_word(self, index: int, mode: str, word: str, original: str) -> None:
        stem = mode == "starts-with"
        table = self._lexicon_stems if stem else self._lexicon_words
        if len(word) >= 3 and not (stem and len(word) < 4):
            self._masked_by_first.setdefault(word[0], []).append((word, stem, index, original))
        for form in (word, *sorted(swapped_forms(word))):
            table.setdefault(form, []).append((index, original))
            if form != word:
                self._swapped.add(form)
                self._add_phrase(index, mode, form, original)

    def _add_phrase(self, index: int, mode: str, norm: str, original: str) -> None:
        def key(p: str) -> str:
            return {"includes-word": f" {p} ", "starts-with": f" {p}", "includes": p}[mode]

        forms_a = {norm}
        if " " in norm and mode != "includes":
            forms_a.add(norm.replace(" ", ""))  # "k y s" and "killyourself" arrive as one word
        for form in forms_a:
            keys = [(self._a, key(form))]
            squeezed = squeeze(form, keep_doubles=False)
            # "ass" squeezed is "as": a short squeezed form would meet every common word
            if squeezed == form or len(squeezed) >= 4:
                keys.append((self._b, key(squeezed)))
            for automaton, k in keys:
                entries = automaton.get(k, [])
                entries.append((index, original, len(k), mode, form))
                automaton.add_word(k, entries)

    def _stretched(self, text: _Text, t0: int, t1: int, mode: str, form: str) -> bool:
        """Whether words t0..t1 are `form` with letters held longer. A swapped form must hold
        a letter three times or more ("fuuuk"): held twice, ordinary words would meet it
        ("cook" is "cok" stretched, and "cok" is "cock" swapped)."""
        if not text.stretched(t0, t1, mode, form):
            return False
        return form not in self._swapped or text.held_thrice(t0, t1)

    def _disguised(self, form: str) -> list[tuple[int, str]]:
        """Lexicon entries a masked or leetspeak word stands for (see `_mask_fits`)."""
        if "*" not in form:
            found = list(self._lexicon_words.get(form, ()))
            for stem_len in range(3, len(form) + 1):
                found += self._lexicon_stems.get(form[:stem_len], ())
            return found
        found = []
        for word, stem, index, phrase in self._masked_by_first.get(form[0], ()):
            if not stem:
                if _mask_fits(form, word):
                    found.append((index, phrase))
            elif (
                len(form) >= len(word)
                and form[len(word) - 1] != "*"
                and "*" not in form[len(word) :]
                and _mask_fits(form[: len(word)], word)
            ):
                found.append((index, phrase))
        return found

    def match(
        self, norm: NormalText, innocent: list[tuple[int, int]] | None = None
    ) -> list[RuleHit]:
        """The rules that hit. `innocent`, if given, receives the word spans (a view) that
        exceptions or senses excused."""
        found: dict[int, str] = {}
        # where each occurrence is, for rules with exceptions or a guard: (view, first
        # character, last character), or None for a disguised word (never excused)
        places: dict[int, list[tuple | None]] = {}
        positional = self._positional
        for end, entries in self._a.iter(norm.a) if len(self._a) else ():
            for index, phrase, length, _mode, _form in entries:
                if index not in found:
                    found[index] = phrase
                if index in positional:
                    places.setdefault(index, []).append(("a", end - length + 1, end))
        text = _Text(norm)
        # the b view is for stretched words ("fuuuck"): without a doubled letter it adds nothing
        stretchy = len(self._b) and norm.a != norm.b
        for end, entries in self._b.iter(norm.b) if stretchy else ():
            for index, phrase, length, mode, form in entries:
                if index in found:
                    if index in positional:  # checked only if the other places are excused
                        places[index].append(("b", end - length + 1, end, mode, form))
                    continue
                where = ("b", end - length + 1, end)
                # the words as written must be the phrase with letters held longer, so "cons"
                # never meets "coons", "Niger" "nigger" and "shooting" "shotting"
                if self._stretched(text, *text.token_span(*where), mode, form):
                    found[index] = phrase
                    if index in positional:
                        places[index] = [where]
        for form in norm.disguised:
            for index, phrase in self._disguised(form):
                found.setdefault(index, phrase)
                if index in positional:
                    places.setdefault(index, []).append(None)
        if self._regex_rules:
            self._match_regexes(norm, found, places)
        if not found:
            return []
        excused: dict[int, list[tuple[int, int]]] | None = None
        hits = []
        overridden: set[Category] = set()
        for index in sorted(found):
            rule = self.rules[index]
            if index in positional:
                if excused is None:
                    excused = self._excused(text)
                if not self._survives(rule, places[index], text, excused.get(index, []), innocent):
                    continue
            hits.append(rule.hit(found[index]))
            overridden.update(rule.overrides)
        if overridden:
            hits = [h for h in hits if h.category not in overridden]
        return hits

    def _match_regexes(self, norm: NormalText, found: dict, places: dict) -> None:
        raw = norm.raw
        todo = set()
        if self._digit_gated and _DIGIT.search(raw):
            todo.update(self._digit_gated)
        for index, needs in self._raw_gated:
            if any(need in raw for need in needs):
                todo.add(index)
        for word in self._word_gated.keys() & norm.a.split():
            todo.update(self._word_gated[word])
        for index in (*self._ungated, *sorted(todo)) if todo else self._ungated:
            rule = self.rules[index]
            view = "raw" if rule.view == "raw" else "a"
            subject = norm.raw if view == "raw" else norm.a
            for rx in rule.regexes:
                if index not in self._positional:
                    m = rx.search(subject)
                    if m:
                        found.setdefault(index, m.group(0).strip())
                        break
                    continue
                for m in rx.finditer(subject):
                    s, e = m.span()
                    if e > s:
                        found.setdefault(index, m.group(0).strip())
                        places.setdefault(index, []).append((view, s, e - 1))

    def _excused(self, text: _Text) -> dict[int, list[tuple[int, int]]]:
        """Where each rule's exceptions occur, as word spans: one pass for every rule."""
        spans: dict[int, list[tuple[int, int]]] = {}
        if len(self._exceptions):
            for end, entries in self._exceptions.iter(text.norm.a):
                for index, length in entries:
                    span = text.token_span("a", end - length + 1, end)
                    spans.setdefault(index, []).append(span)
        return spans

    def _survives(
        self,
        rule: Rule,
        places: list,
        text: _Text,
        excused: list,
        innocent: list[tuple[int, int]] | None = None,
    ) -> bool:
        """Whether any occurrence is left once exceptions, senses and the negation guard have
        spoken. Excused occurrences are added to `innocent` (until one survives)."""
        excused = list(excused)
        for pattern in rule.raw_exceptions:
            if pattern.search(text.norm.raw):
                excused += text.raw_spans(pattern)
        if not excused and not rule.negation_guard and not rule.senses:
            return True  # the common case: nothing here could excuse an occurrence
        for where in places:
            if where is None:
                return True
            if where[0] == "raw":
                t0, t1 = text.raw_span(where[1], where[2] + 1)
            else:
                t0, t1 = text.token_span(*where[:3])
                if len(where) == 5 and not self._stretched(text, t0, t1, *where[3:]):
                    continue  # a b-view place not yet checked, and not a stretched word
            if any(e0 <= t0 and t1 <= e1 for e0, e1 in excused) or text.in_innocent_sense(
                rule, t0, t1
            ):
                if innocent is not None:
                    innocent.append((t0, t1))
                continue
            if rule.negation_guard:
                clause = text.clause_words(t0, t1)
                if clause is not None and _guarded(*clause):
                    continue
            return True
        return False

    def innocent_text(self, text: str) -> str | None:
        """The comment's words with those the rules excused ("Dick King-Smith", "a cock
        pheasant") replaced by a neutral word, or None if nothing was excused. Comments of the
        last batch `classify` read are answered from that reading, not matched again."""
        recent = self._recent  # another thread's batch may replace it; then match again
        if text in recent:
            return recent[text]
        norm = normalise(text or "")
        spans: list[tuple[int, int]] = []
        self.match(norm, spans)
        return _neutral(norm, spans)

    def classify(self, texts: Sequence[str]) -> list[Verdict]:
        out = []
        recent: dict[str, str | None] = {}
        for text in texts:
            norm = normalise(text or "")
            spans: list[tuple[int, int]] = []
            hits = self.match(norm, spans)
            recent[text] = _neutral(norm, spans)
            out.append(Verdict(hits=tuple(hits), model=self.name, model_version=self.version))
        self._recent = recent
        return out


def _neutral(norm: NormalText, spans: list[tuple[int, int]]) -> str | None:
    """The normal view's words with the excused spans replaced by "thing"; None if none."""
    if not spans:
        return None
    words = norm.a.split()
    for t0, t1 in spans:
        words[t0:t1] = ["thing"] + [""] * (t1 - t0 - 1)
    return " ".join(w for w in words if w)
