"""Text normalisation that defeats evasion without inventing matches (the Scunthorpe problem).

A comment becomes two padded token views: `a` keeps double letters ("ass", "kill") and only
squeezes stretched runs to two; `b` squeezes every run to one letter, so "fuuuuck" and "shiiit"
meet their patterns. Word boundaries are spaces, so "Scunthorpe" is one token and never
contains another. Steps: NFKC (full-width, ligatures), case folding, format characters
(zero-width, bidi controls, soft hyphen) removed, accents stripped, look-alike Cyrillic and
Greek letters mapped to Latin, leetspeak mapped inside words, letters spaced, dotted, dashed or
underscored apart ("f u c k", "f.u.c.k", "f_u_c_k") joined back together.

Disguised words that the two views cannot spell out are kept aside as `disguised` forms for the
rules' lexicon: masked letters become `*` ("sh*th*le", "f@ck", "c#nt") and leetspeak at word
ends is mapped ("wh0r3"). The rules compare those forms with whole lexicon words only, so a mask
can never make an ordinary word match (see `RulesClassifier`)."""

from __future__ import annotations

import re
import sys
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from bot.core.models import valid_text

MAX_CHARS = 20_000  # classifiers see at most this much of a comment; the rest is flagged, not lost

_CONFUSABLES = str.maketrans(
    {
        # Cyrillic look-alikes (lower case: text is case-folded first)
        "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o",
        "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i",
        "ј": "j", "ԁ": "d", "ӏ": "l", "ɡ": "g", "ս": "u", "ո": "n", "г": "r", "п": "n",
        # Greek look-alikes
        "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
        "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ς": "s", "σ": "o", "μ": "u", "γ": "y",
        "һ": "h", "ԝ": "w", "ѡ": "w", "ԛ": "q", "ɑ": "a", "ʏ": "y",
        # small capitals, which NFKC leaves alone
        "ᴀ": "a", "ʙ": "b", "ᴄ": "c", "ᴅ": "d", "ᴇ": "e", "ꜰ": "f", "ɢ": "g", "ʜ": "h",
        "ɪ": "i", "ᴊ": "j", "ᴋ": "k", "ʟ": "l", "ᴍ": "m", "ɴ": "n", "ᴏ": "o", "ᴘ": "p",
        "ʀ": "r", "ꜱ": "s", "ᴛ": "t", "ᴜ": "u", "ᴠ": "v", "ᴡ": "w", "ᴢ": "z",
        # Latin oddities NFKC leaves alone
        "ı": "i", "ł": "l", "ø": "o", "đ": "d", "ß": "ss", "æ": "ae", "œ": "oe",
        "ƒ": "f", "ɩ": "i", "ʋ": "v", "ɨ": "i", "ɵ": "o", "ɔ": "c", "ⱪ": "k",
    }
)  # fmt: skip

_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s",
     "!": "i", "|": "l", "€": "e", "£": "l"}
)  # fmt: skip
_STRETCH3 = re.compile(r"(.)\1{2,}")
_STRETCH2 = re.compile(r"(.)\1+")


@lru_cache(maxsize=1)
def _format_chars() -> re.Pattern[str]:
    """Every format (Cf), surrogate (Cs) and control (Cc) character but tab and newline.
    Built once, on first use, from the running Python's Unicode tables."""
    ranges: list[str] = []
    start: int | None = None
    prev = 0
    for cp in range(sys.maxunicode + 1):
        drop = unicodedata.category(chr(cp)) in ("Cf", "Cs", "Cc") and chr(cp) not in "\n\t"
        if drop and start is None:
            start = cp
        if not drop and start is not None:
            ranges.append(f"{re.escape(chr(start))}-{re.escape(chr(prev))}")
            start = None
        prev = cp
    return re.compile(f"[{''.join(ranges)}]+")


_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]+")


def strip_format(text: str) -> str:
    """NFKC, then drop format characters (zero-width, bidi overrides) and lone surrogates."""
    if text.isascii():
        return _ASCII_CONTROL.sub("", text)
    return _format_chars().sub("", unicodedata.normalize("NFKC", text))


def _fold(text: str) -> str:
    if text.isascii():
        return _ASCII_CONTROL.sub("", text).lower()
    text = strip_format(text).casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    text = text.translate(_CONFUSABLES)
    if _EMOJI_MASK_GATE.search(text):
        text = _EMOJI_MASK.sub(lambda m: "*" * len(m.group(0)), text)
    return text


# Negative squared letters ("🅱️itch"), which no normal form turns into letters.
_SQUARED = {chr(0x1F170 + i): chr(ord("a") + i) for i in range(26)}
_CONFUSABLES.update(str.maketrans(_SQUARED))
_CONFUSABLES.update({0xFE0E: "", 0xFE0F: ""})  # emoji or text presentation: no letter
# A pictograph standing for a letter inside a word ("sh🤬t", "sh💩t") is a mask, like "*".
_EMOJI = "\U0001f300-\U0001faff\u2600-\u27bf"
_EMOJI_MASK_GATE = re.compile(f"[a-z][{_EMOJI}]")
_EMOJI_MASK = re.compile(f"(?<=[a-z])[{_EMOJI}](?=[a-z])")


_LEET_SET = "0134 57@$!|€£".replace(" ", "")
_HAS_LEET = re.compile(f"[{re.escape(_LEET_SET)}]")
_LEET_OR_MENTION = re.compile(
    r"(?P<mention>(?<!\S)@\w{4,})"  # an @mention names an account, not a word
    f"|(?<=[a-z])[{re.escape(_LEET_SET)}]+(?=[a-z])"  # inside a word: k1ll, sh!t
    f"|(?<![\\w{re.escape(_LEET_SET)}])[{re.escape(_LEET_SET)}]+(?=[a-z])"  # start: $hit, @ss
    r"|(?<=[a-z])[$5]+(?![\w$])"  # end: a$$
)


def _leet_or_mention(m: re.Match[str]) -> str:
    return " " if m.group("mention") else m.group(0).translate(_LEET)


def _unleet(text: str) -> str:
    """Leet characters count as letters only where they touch letters ("k1ll", "$hit", "a$$"),
    so numbers, prices and "great!!!" are left alone. One pass over the text."""
    return _LEET_OR_MENTION.sub(_leet_or_mention, text)


_SPACED_RUN = re.compile(r"(?<!\S)\S(?: \S){2,}(?!\S)")


_WORD = re.compile(r"[\w*]+")


# Letters spelt out with dots or dashes, in chunks of one or two ("d.i.c.k.h.e.a.d",
# "sp.a.s.t.i.c", "sh-i-t"): one word. "e.g.", "x-ray" and "co.uk" have too few chunks.
_SPELT_PUNCT_GATE = re.compile(r"[a-z][.-][a-z]{1,2}[.-][a-z]")
_SPELT_PUNCT = re.compile(r"(?<![\w.-])[a-z]{1,2}(?:[.-][a-z]{1,2}){2,}(?![\w-])")
# A spelt-out run after the article "a" or the pronoun "i" takes it in ("is a d y k e" reads
# "adyke"); the run without it is kept as a disguised form ("i d i o t" stays "idiot").
_AFTER_ARTICLE = re.compile(r"(?<!\S)[ai](?: \S){3,}(?!\S)")


def _spelt_out(folded: str) -> str:
    if _SPELT_PUNCT_GATE.search(folded):
        folded = _SPELT_PUNCT.sub(lambda m: re.sub(r"[.-]", "", m.group(0)), folded)
    return folded


def _tokens_and_runs(folded: str) -> tuple[str, tuple[str, ...]]:
    """The joined words, and spelt-out runs read without a leading "a" or "i"."""
    if "_" in folded:  # "_" separates, so "f_u_c_k" is spelt out like "f u c k"
        folded = folded.replace("_", " ")
    if "." in folded or "-" in folded:
        folded = _spelt_out(folded)
    if _HAS_LEET.search(folded):
        folded = _unleet(folded)
    joined = " ".join(_WORD.findall(folded))
    runs: tuple[str, ...] = ()
    if _SPACED_RUN.search(joined):
        runs = tuple(m.group(0)[2:].replace(" ", "") for m in _AFTER_ARTICLE.finditer(joined))
        joined = _SPACED_RUN.sub(lambda m: m.group(0).replace(" ", ""), joined)
    return joined, runs


def _tokens(folded: str) -> str:
    return _tokens_and_runs(folded)[0]


def tokens(text: str) -> str:
    """The words of a text, folded, space-separated: the `a` view before squeezing."""
    return _tokens(_fold(text))


# A mask inside a word ("f*ck", "c#nt", "f@ck"), read in the folded text, not in links.
_MASK_GATE = re.compile(r"[a-z0-9][*#@!$%]+[a-z0-9]")
_MASKED = re.compile(r"(?<![\w/.@#*!$%])[a-z0-9*#@!$%]*[a-z0-9][*#@!$%]+[a-z0-9][a-z0-9*#@!$%]*")
# A digit touching a letter in the joined words ("wh0r3", "s1ut", "1st").
_DIGIT_GATE = re.compile(r"[a-z][0-9]|[0-9][a-z]")
_ONE_GATE = re.compile(r"[a-z]1[a-z]")
_ONE_INSIDE = re.compile(r"[a-z0-9]*[a-z]1[a-z][a-z0-9]*")
_DIGIT_WORD = re.compile(r"(?<!\S)\S*?(?:[a-z][0-9]|[0-9][a-z])\S*")
_MASK_CHARS = re.compile(r"[*#@!$%]")
_DIGITS_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t"})


def _disguise(word: str) -> str | None:
    """One word as the lexicon sees it: masks as `*`, digits as letters, stretched letters
    squeezed; None unless it starts and ends with a letter (a mask stands between letters)."""
    word = word.strip("*#@!$%")
    if not word:
        return None
    word = _MASK_CHARS.sub("*", word).translate(_DIGITS_LEET)
    word = _STRETCH3.sub(lambda m: m.group(0) if m.group(1) == "*" else m.group(1) * 2, word)
    if not (word[0].isalpha() and word[-1].isalpha()) or not word.isascii():
        return None
    return word


def disguised_forms(folded: str, joined: str, runs: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Words the views cannot spell out: masked ("sh*th*le", "f@ck") or with leetspeak at an
    end ("wh0r3"). Ordinary text has none, and finding that out costs two regex searches.
    Masks are read in the folded text; digits in the joined words, where @mentions are gone."""
    forms: set[str] = set(runs)
    words: list[str] = []
    if _MASK_GATE.search(folded):
        words += [w for w in _MASKED.findall(folded) if w[0] != "@"]
    if _DIGIT_GATE.search(joined):
        words += _DIGIT_WORD.findall(joined)
    if _ONE_GATE.search(folded):  # inside a word the joined view reads 1 as i: try l ("s1ut")
        words += _ONE_INSIDE.findall(folded)
    for word in words:
        for candidate in (word, word.replace("1", "l")) if "1" in word else (word,):
            form = _disguise(candidate)  # "1" is l as often as i: "s1ut", "wh0r3"
            if form and (form != word or "*" in form):
                forms.add(form)
    return tuple(sorted(forms))


def squeeze(text: str, keep_doubles: bool) -> str:
    return (_STRETCH3 if keep_doubles else _STRETCH2).sub(r"\1\1" if keep_doubles else r"\1", text)


@dataclass(frozen=True)
class NormalText:
    raw: str  # NFKC, format characters removed, case kept: for names and phone numbers
    a: str  # " tok tok " with doubles kept
    b: str  # " tok tok " with every run squeezed to one letter
    truncated: bool = False
    disguised: tuple[str, ...] = ()  # masked or leetspeak words, for the lexicon only


# The top grade, "A*" ("three A*s"), is no masked word ("a*s" would fit "ass"); capital A only,
# as grades are written.
_TOP_GRADE = re.compile(r"(?<![^\W_])A\*(?=(?:'?s)?(?![^\W_*]))")


def normalise(text: str) -> NormalText:
    truncated = len(text) > MAX_CHARS
    if truncated:
        text = text[:MAX_CHARS]
    text = valid_text(text)
    folded = _fold(_TOP_GRADE.sub("Astar", text) if "A*" in text else text)
    joined, runs = _tokens_and_runs(folded)
    return NormalText(
        raw=strip_format(text),
        a=f" {squeeze(joined, True)} ",
        b=f" {squeeze(joined, False)} ",
        truncated=truncated,
        disguised=disguised_forms(folded, joined, runs),
    )


@lru_cache(maxsize=8192)
def normalise_pattern(pattern: str) -> str:
    """Patterns go through the same steps as text, so both sides agree."""
    return squeeze(tokens(pattern), True)
