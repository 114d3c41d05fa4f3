"""Public notices ("we have hidden a comment because..."): the templates, and the rules for when
a notice must NOT be posted.

A notice is the school speaking in public, under the very comment it hid. So it is posted only
when the Hide succeeded (never "we removed" over a comment still showing), never for categories
whose notice would draw attention to a child (disclosures, bullying, pupil data, staff
allegations), never under a comment that names or targets a child, and never where the platform
would put it in the author's own thread (an X mention). Refusing a notice is always safe: the
comment stays hidden and the people who need to know are told privately."""

from __future__ import annotations

import re
from pathlib import Path

import jinja2

from bot.core.models import Comment, Decision

SAMPLE = {"school_name": "Example Primary School", "house_rules_url": "https://example.org/rules"}

# Someone in particular, and likely a child: a mention, a child word, a year group, or a name.
_CHILD_WORDS = re.compile(
    r"(?<!\w)@\w|\b(?:kids?|child(?:ren)?|pupils?|students?|son|daughter|boys?|girls?|lads?|lass(?:es)?"
    r"|year\s*\d{1,2}|yr\s*\d{1,2}|y\d{1,2}|class\s*\d|reception|nursery|sixth\s*form(?:er)?s?"
    r"|form\s+\d|\d{1,2}[a-z]\b)",
    re.IGNORECASE,
)
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]{2,}\b")
_LEADING_NAME = re.compile(
    r"^([A-Z][a-z]{2,})(?:'s)?\s+(?:is|was|has|needs|should|will|and|from|in|at|got|smells)\b"
)
_NOT_NAMES = frozenset(
    {
        "The",
        "This",
        "That",
        "They",
        "There",
        "Their",
        "What",
        "When",
        "Why",
        "How",
        "You",
        "Your",
        "Our",
        "School",
        "Academy",
        "Trust",
        "Head",
        "Headteacher",
        "Miss",
        "Mrs",
        "Mr",
        "Ms",
        "Sir",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
        "God",
        "Facebook",
        "Instagram",
        "Twitter",
        "English",
        "British",
        "Christmas",
        "Easter",
        "Muslims",
        "Muslim",
        "Jews",
        "Jewish",
        "Christians",
        "Christian",
        "Hindus",
        "Sikhs",
        "Gypsies",
        "Travellers",
        "Irish",
        "Polish",
        "Romanians",
        "Pakistanis",
    }
)


def targets_a_child(text: str) -> bool:
    """True when the comment may name or point at a particular person, most likely a pupil.
    Deliberately wide: a wrong True only costs a notice."""
    if _CHILD_WORDS.search(text):
        return True
    leading = _LEADING_NAME.match(text.strip())
    if leading and leading.group(1) not in _NOT_NAMES:
        return True
    return any(m.group(0) not in _NOT_NAMES for m in _NAME.finditer(text))


def notice_refusal(comment: Comment, decision: Decision, hide_status: str, connector) -> str | None:
    """Why no notice may be posted here, or None when one may."""
    if hide_status != "done":
        return f"the comment was not hidden ({hide_status}), so no notice says it was"
    if not all(c.allows_public_notice for c in decision.categories):
        return "no public notice for this kind of concern"
    if targets_a_child(comment.text):
        return "the comment names or targets a person: a notice would draw attention to them"
    allowed = getattr(connector, "notice_allowed", None)
    if allowed is not None and not allowed(comment):
        return "on this platform a notice would land in the author's own thread"
    return None


class NoticeTemplates:
    """Jinja2 notice templates from config/templates/notices; given no comment data at all."""

    def __init__(self, templates_dir: Path, school_name: str, house_rules_url: str):
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(templates_dir / "notices")),
            undefined=jinja2.StrictUndefined,
            autoescape=False,
            keep_trailing_newline=False,
        )
        self.context = {"school_name": school_name, "house_rules_url": house_rules_url}

    def render(self, name: str) -> str:
        return self.env.get_template(f"{name}.txt").render(**self.context).strip()

    def render_safely(self, name: str) -> tuple[str, str | None]:
        """(text, None), or ("", what is wrong): a broken template never stops a Hide."""
        try:
            text = self.render(name)
        except (jinja2.TemplateError, OSError) as exc:
            return "", f"notice template {name!r} could not be used: {type(exc).__name__}: {exc}"
        if not text:
            return "", f"notice template {name!r} renders empty"
        return text, None

    def names(self) -> list[str]:
        return sorted(
            n.removesuffix(".txt") for n in self.env.list_templates() if n.endswith(".txt")
        )

    def problems(self) -> list[str]:
        """Every template rendered with sample data, for `config check`."""
        out = []
        for name in self.names():
            try:
                self.env.get_template(f"{name}.txt").render(**SAMPLE)
            except jinja2.TemplateSyntaxError as exc:
                out.append(f"{name}.txt:{exc.lineno}: {exc.message}")
            except jinja2.TemplateError as exc:
                out.append(f"notices/{name}.txt: {type(exc).__name__}: {exc}")
        return out
