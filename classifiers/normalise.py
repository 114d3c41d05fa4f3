"""Text normalisation that defeats evasion without inventing matches (the Scunthorpe problem).

A comment becomes two padded token views: `a` keeps double letters ("ass", "kill") and only
squeezes stretched runs to two; `b` squeezes every run to one letter, so "fuuuuck" and "shiiit"
meet their patterns. Word boundaries are spaces, so "Scunthorpe" is one token and never
contains another. Steps: NFKC (full-width, ligatures), case folding, format characters
(zero-width, bidi controls, soft hyphen) removed, accents stripped, look-alike Cyrillic and
Greek letters mapped to Latin, leetspeak mapped inside words, letters spaced or dotted apart
("f u c k", "f.u.c.k") joined back together."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from bot.models import valid_text

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
    }
)  # fmt: skip

_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s",
     "!": "i", "|": "l", "€": "e", "£": "l"}
)  # fmt: skip
_LEET_CHARS = frozenset("0134 57@$!|€£".replace(" ", ""))
_WORD_SPLIT = re.compile(r"[^\w*]+")
_STRETCH3 = re.compile(r"(.)\1{2,}")
_STRETCH2 = re.compile(r"(.)\1+")
_MENTION = re.compile(r"^@\w{4,}")


def strip_format(text: str) -> str:
    """NFKC, then drop format characters (zero-width, bidi overrides) and lone surrogates."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(
        ch for ch in text if unicodedata.category(ch) not in ("Cf", "Cs", "Cc") or ch in "\n\t"
    )


def _fold(text: str) -> str:
    text = strip_format(text).casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return text.translate(_CONFUSABLES)


def _unleet(token: str) -> str:
    if _MENTION.match(token):
        return ""  # an @mention names an account, not a word
    core = token.strip(".,!?;:'\"()[]{}")
    if core and any(c.isalpha() for c in core) and any(c in _LEET_CHARS for c in core):
        return token.replace(core, core.translate(_LEET))
    return token


def _join_spaced(tokens: list[str]) -> list[str]:
    """Runs of three or more single characters ("f u c k") are one word spelt out."""
    out: list[str] = []
    run: list[str] = []
    for tok in [*tokens, ""]:
        if len(tok) == 1:
            run.append(tok)
            continue
        if len(run) >= 3:
            out.append("".join(run))
        else:
            out.extend(run)
        run = []
        if tok:
            out.append(tok)
    return out


def tokens(text: str) -> list[str]:
    folded = _fold(text)
    pieces = [_unleet(t) for t in folded.split()]
    words = [w for p in pieces for w in _WORD_SPLIT.split(p) if w]
    return _join_spaced(words)


def squeeze(text: str, keep_doubles: bool) -> str:
    return (_STRETCH3 if keep_doubles else _STRETCH2).sub(r"\1\1" if keep_doubles else r"\1", text)


@dataclass(frozen=True)
class NormalText:
    raw: str  # NFKC, format characters removed, case kept: for names and phone numbers
    a: str  # " tok tok " with doubles kept
    b: str  # " tok tok " with every run squeezed to one letter
    truncated: bool = False


def normalise(text: str) -> NormalText:
    truncated = len(text) > MAX_CHARS
    if truncated:
        text = text[:MAX_CHARS]
    text = valid_text(text)
    joined = " ".join(tokens(text))
    return NormalText(
        raw=strip_format(text),
        a=f" {squeeze(joined, True)} ",
        b=f" {squeeze(joined, False)} ",
        truncated=truncated,
    )


@lru_cache(maxsize=8192)
def normalise_pattern(pattern: str) -> str:
    """Patterns go through the same steps as text, so both sides agree."""
    return squeeze(" ".join(tokens(pattern)), True)
