"""`modbot demo`: the sandbox scenario end to end, then a summary a person can read."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from bot.config.settings import SchoolSettings
from bot.moderation.pipeline import Pipeline
from bot.services.acknowledgement import acknowledge
from bot.services.actors import actor_from_config
from bot.store.records import Item
from classifiers.normalise import strip_format


def _excerpt(text: str | None, width: int = 70) -> str:
    text = " ".join(strip_format(text or "").split())  # no bidi tricks in the terminal
    return text if len(text) <= width else text[: width - 1] + "…"


def summary(
    settings: SchoolSettings, pipeline: Pipeline, backend: str, rules: int, problems: list[str]
) -> str:
    store = pipeline.store
    rows = store.views.comments_with_decisions()
    decisions = Counter(r["action"] or "pending" for r in rows)
    categories = Counter(c for r in rows for c in r["categories"])
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
            reasons = "; ".join(r["reasons"])
            what = (
                f'"{_excerpt(r["text"])}"' if show_text else "(words kept in the evidence record)"
            )
            out.append(f"  {r['comment_id']:<6} @{_excerpt(r['author_handle'], 18):<18} {what}")
            out.append(f"         why: {reasons}")

    section("Hidden, and why", "hide", True)
    section("Escalated to the DSL, " + settings.dsl.name + " (hidden meanwhile)", "escalate", False)
    section("Waiting for a person to reply", "respond", True)
    notices = store.views.notices_posted()
    actions = store.views.action_counts()
    throttled = actions["notice throttled"]
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
    out.extend(
        ["", "Platform actions: " + ", ".join(f"{k}: {v}" for k, v in sorted(actions.items()))]
    )
    out.append(f"Escalations queued for the DSL: {len(store.escalations.all())}")
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


def _acts(item: Item) -> str:
    """How the simulated staff behave, fixed per item so every run tells the same story."""
    if item.kind == "escalation":
        return "dsl"  # the DSL picks up every safeguarding alert within half an hour
    return {0: "breach", 5: "backup", 9: "backup"}.get(item.id % 10, "assignee")


def simulate_week(
    pipeline: Pipeline,
    clock: SimulatedClock,
    end: datetime,
    step: timedelta = timedelta(minutes=30),
    progress=None,
) -> dict[str, int]:
    """Run the bot through the scenario's week on a simulated clock, with staff acknowledging
    items the way people do: most on time, some only after the backup is told, one never."""
    store = pipeline.store
    housekeeping = pipeline.housekeeping or (lambda: [])
    settings = pipeline.settings
    counts = {"acknowledged": 0, "by_backup": 0, "breached": 0}
    while clock.now <= end:
        pipeline.run_once()
        housekeeping()
        for item in store.items.waiting():
            behaviour = _acts(item)
            told_backup = store.outbox.sent_to(item.id, "backup")
            waited = clock.now - item.created_at
            if (behaviour == "dsl" and waited >= timedelta(minutes=30)) or (
                behaviour == "assignee" and waited >= timedelta(hours=2)
            ):
                who = item.assignee
            elif behaviour == "backup" and told_backup:
                who = item.backup
            else:
                continue
            acknowledge(store, item.id, actor_from_config(settings, who), via="email link")
        clock.now += step
        if progress:
            progress(clock.now)
    housekeeping()
    for item in store.items.with_status(None):
        if item.status.value == "breached":
            counts["breached"] += 1
        elif item.acknowledged_by == item.backup:
            counts["by_backup"] += 1
        elif item.acknowledged_by:
            counts["acknowledged"] += 1
    return counts


def acknowledgement_summary(
    settings: SchoolSettings,
    pipeline: Pipeline,
    counts: dict[str, int],
    outbox: Path,
    exported: list[Path],
) -> str:
    store = pipeline.store
    out = ["", "The 24-hour acknowledgement clock (a simulated week)"]
    items = store.items.counts_by_kind()
    out.append("  items opened: " + ", ".join(f"{k} {n}" for k, n in sorted(items.items())))
    out.append(
        f"  acknowledged by the administrator on duty (or the DSL): {counts['acknowledged']}"
    )
    out.append(f"  acknowledged by the backup after the 75% alert: {counts['by_backup']}")
    out.append(
        f"  deadline missed, breach reported to {settings.slt.name} (SLT): {counts['breached']}"
    )
    breached = store.items.with_status("breached")
    if breached:
        first = breached[0]
        out.append(
            f"    e.g. item {first.id} ({first.kind}), due {first.due_at.isoformat()}: {first.rule}"
        )
    sent = {k.removesuffix(" sent"): n for k, n in store.outbox.counts().items() if "sent" in k}
    out.append(
        "  emails sent through the outbox: "
        + ", ".join(f"{k} {n}" for k, n in sorted(sent.items()))
    )
    waiting = {k: n for k, n in store.outbox.counts().items() if "pending" in k}
    if waiting:
        out.append(
            "  still waiting to be sent: " + ", ".join(f"{k} {n}" for k, n in waiting.items())
        )
    out.append(f"    {outbox}")
    out += ["", f"Safeguarding escalations for {settings.dsl.name} (DSL)"]
    for e in reversed(store.escalations.all()):
        urgent = "URGENT " if e.urgent else ""
        out.append(f"  #{e.id:<3} {e.status.value:<12} {urgent}{', '.join(e.categories)}")
        out.append(f"        route: {e.route}" + (f" (ref {e.reference})" if e.reference else ""))
    if exported:
        out.append("  evidence record exported: " + ", ".join(str(p) for p in exported))
    return "\n".join(out)


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {n}" for k, n in sorted(counts.items()))


def refer_and_export(pipeline: Pipeline, settings: SchoolSettings, folder: Path) -> list[Path]:
    """The DSL's part of the story: refer the first grooming concern to CEOP and export the
    first urgent escalation's evidence record, through the same use cases the CLI uses."""
    from bot.services import safeguarding as use

    store = pipeline.store
    dsl = actor_from_config(settings, settings.dsl.name)
    escalations = list(reversed(store.escalations.all()))
    grooming = next((e for e in escalations if "grooming" in e.categories), None)
    if grooming:
        use.refer(store, grooming.id, dsl, route="CEOP", reference="demo-0001")
    urgent = next((e for e in escalations if e.urgent), None)
    if urgent is None:
        return []
    templates = settings.path(settings.notices.templates_dir)
    return use.export_evidence(store, urgent.id, dsl, folder, templates)
