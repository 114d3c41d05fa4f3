"""`modbot demo`: the sandbox scenario end to end, then a summary a person can read."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from bot.config.settings import Settings
from bot.moderation.pipeline import Pipeline
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


class SimulatedClock:
    """The demo's clock: moved forward by the simulation, read by everything else."""

    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def _acts(item: dict) -> str:
    """How the simulated staff behave, fixed per item so every run tells the same story."""
    if item["kind"] == "escalation":
        return "dsl"  # the DSL picks up every safeguarding alert within half an hour
    return {0: "breach", 5: "backup", 9: "backup"}.get(item["id"] % 10, "assignee")


def simulate_week(
    pipeline: Pipeline,
    clock: SimulatedClock,
    end: datetime,
    step: timedelta = timedelta(minutes=30),
    progress=None,
) -> dict[str, int]:
    """Run the bot through the scenario's week on a simulated clock, with staff acknowledging
    items the way people do: most on time, some only after the backup is told, one never."""
    desk = pipeline.desk
    counts = {"acknowledged": 0, "by_backup": 0, "breached": 0}
    while clock.now <= end:
        pipeline.run_once()
        for item in pipeline.store.rows("select * from items where status in ('open', 'breached')"):
            created = datetime.fromisoformat(item["created_at"])
            behaviour = _acts(item)
            sent = {
                r["step"]
                for r in pipeline.store.rows(
                    "select step from notifications where item_id = ? and status = 'sent'",
                    [item["id"]],
                )
            }
            waited = clock.now - created
            if (behaviour == "dsl" and waited >= timedelta(minutes=30)) or (
                behaviour == "assignee" and waited >= timedelta(hours=2)
            ):
                desk.acknowledge(item["id"], item["assignee"], via="email link")
            elif behaviour == "backup" and "backup" in sent:
                desk.acknowledge(item["id"], item["backup"], via="email link")
        clock.now += step
        if progress:
            progress(clock.now)
    for row in pipeline.store.rows("select * from items"):
        if row["status"] == "breached":
            counts["breached"] += 1
        elif row["acknowledged_by"] == row["backup"]:
            counts["by_backup"] += 1
        elif row["acknowledged_by"]:
            counts["acknowledged"] += 1
    return counts


def acknowledgement_summary(
    settings: Settings,
    pipeline: Pipeline,
    counts: dict[str, int],
    outbox: Path,
    exported: list[Path],
) -> str:
    store = pipeline.store
    out = ["", "The 24-hour acknowledgement clock (a simulated week)"]
    items = store.rows("select kind, count(*) n from items group by kind")
    out.append("  items opened: " + ", ".join(f"{r['kind']} {r['n']}" for r in items))
    out.append(
        f"  acknowledged by the administrator on duty (or the DSL): {counts['acknowledged']}"
    )
    out.append(f"  acknowledged by the backup after the 75% alert: {counts['by_backup']}")
    out.append(
        f"  deadline missed, breach reported to {settings.slt.name} (SLT): {counts['breached']}"
    )
    example = store.rows("select * from items where status = 'breached' limit 1")
    if example:
        e = example[0]
        out.append(f"    e.g. item {e['id']} ({e['kind']}), due {e['due_at']}: {e['rule']}")
    steps = store.rows(
        "select case when step like 'digest-%' then 'digest' else step end as step, "
        "count(*) n from notifications where status = 'sent' group by 1 order by 1"
    )
    out.append(
        "  emails written to the outbox: " + ", ".join(f"{r['step']} {r['n']}" for r in steps)
    )
    out.append(f"    {outbox}")
    out += ["", f"Safeguarding escalations for {settings.dsl.name} (DSL)"]
    for r in store.rows("select * from escalations order by id"):
        urgent = "URGENT " if r["urgent"] else ""
        cats = ", ".join(json.loads(r["categories"]))
        out.append(f"  #{r['id']:<3} {r['status']:<12} {urgent}{cats}")
        out.append(
            f"        route: {r['route']}" + (f" (ref {r['reference']})" if r["reference"] else "")
        )
    if exported:
        out.append("  evidence record exported: " + ", ".join(str(p) for p in exported))
    return "\n".join(out)
