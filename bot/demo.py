"""`modbot demo`: the sandbox scenario end to end, then a summary a person can read."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from bot.pipeline import Pipeline
from bot.settings import Settings
from classifiers.normalise import strip_format


def _excerpt(text: str | None, width: int = 70) -> str:
    text = " ".join(strip_format(text or "").split())  # no bidi tricks in the terminal
    return text if len(text) <= width else text[: width - 1] + "…"


def summary(
    settings: Settings, pipeline: Pipeline, backend: str, rules: int, problems: list[str]
) -> str:
    store = pipeline.store
    rows = store.rows(
        "select c.comment_id, c.post_id, c.author_handle, c.text, c.status, d.action, "
        "d.categories, d.reasons, d.mode from comments c left join decisions d "
        "on d.id = c.decision_id order by c.created_at, c.comment_id"
    )
    decisions = Counter(r["action"] or "pending" for r in rows)
    categories = Counter(c for r in rows for c in json.loads(r["categories"] or "[]"))
    out = [
        f"modbot demo — {settings.school.name}",
        "",
        f"Toxicity backend: {backend}",
        f"Safeguarding and moderation rules: {rules}",
        f"Comments processed: {len(rows)}"
        + (f"  ({len(problems)} scenario line(s) skipped, see below)" if problems else ""),
        "",
    ]
    out.append("Decisions")
    for action in ("allow", "respond", "hide", "escalate", "pending"):
        if decisions[action]:
            out.append(f"  {action:<10}{decisions[action]:>4}")
    out += ["", "By category"]
    out += [f"  {c:<24}{n:>4}" for c, n in categories.most_common()]

    def section(title: str, action: str, show_text: bool) -> None:
        chosen = [r for r in rows if r["action"] == action]
        out.extend(["", f"{title} ({len(chosen)})"])
        for r in chosen:
            reasons = "; ".join(json.loads(r["reasons"]))
            what = (
                f'"{_excerpt(r["text"])}"' if show_text else "(words kept in the evidence record)"
            )
            out.append(f"  {r['comment_id']:<6} @{_excerpt(r['author_handle'], 18):<18} {what}")
            out.append(f"         why: {reasons}")

    section("Hidden, and why", "hide", True)
    section("Escalated to the DSL, " + settings.dsl.name + " (hidden meanwhile)", "escalate", False)
    section("Waiting for a person to reply", "respond", True)
    notices = store.rows(
        "select n.post_id, n.template, a.platform_ref from notices n "
        "join actions a on a.id = n.action_id order by n.id"
    )
    throttled = store.rows("select count(*) as n from actions where status = 'throttled'")[0]["n"]
    out.extend(
        [
            "",
            f"Notices posted to the audience ({len(notices)}; {throttled} held back "
            f"so a post gets at most one per {settings.policy.notice_window_minutes} minutes)",
        ]
    )
    for n in notices:
        out.append(f"  on post {n['post_id']}: template {n['template']}")
    if notices:
        first = notices[0]["template"]
        text = pipeline.executor.notices.render(first)
        out.append(f'  e.g. "{_excerpt(text, 160)}"')
    actions = Counter(
        f"{r['kind']} {r['status']}" for r in store.rows("select kind, status from actions")
    )
    out.extend(
        ["", "Platform actions: " + ", ".join(f"{k}: {v}" for k, v in sorted(actions.items()))]
    )
    escalations = store.rows("select count(*) as n from escalations")[0]["n"]
    out.append(f"Escalations queued for the DSL: {escalations}")
    if problems:
        out.extend(["", "Scenario lines skipped"] + [f"  {p}" for p in problems])
    out.extend(["", f"Database: {Path(store.path)}"])
    return "\n".join(out)
