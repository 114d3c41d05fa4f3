"""Safeguarding escalations to the DSL, owned here from start to end: opening (the evidence
version, the suggested route, the acknowledgement item, the alerts), the status workflow written
to the audit log, and the evidence record (JSON and a printable HTML page) a DSL can attach to
CPOMS or MyConcern.

`open_escalation` runs inside the transaction that records the decision, so the escalation, its
item and its alerts exist together or not at all: a crash cannot leave an item without its
alert. Urgent concerns are urgent all year: their clock ignores closures and holidays.

modbot prepares referrals; a named person makes them. It never downloads, views or stores
images: for suspected indecent images it keeps the URL and ids only."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import jinja2

from bot.acknowledgement.duty import on_leave
from bot.config.settings import Person
from bot.core.clock import iso
from bot.core.files import write_private
from bot.core.models import Category, Comment, Decision
from bot.safeguarding.routes import suggest_route
from bot.store import Store
from bot.store.records import Escalation, EscalationStatus

URGENT = frozenset(
    {
        Category.SELF_HARM,
        Category.ABUSE_DISCLOSURE,
        Category.GROOMING,
        Category.THREAT,
        Category.SEXUAL_EXPLOITATION,
        Category.STAFF_ALLEGATION,
    }
)
STATUSES = tuple(s.value for s in EscalationStatus)


class EscalationNotFound(LookupError):
    pass


def open_escalation(desk, comment: Comment, decision_id: int, decision: Decision) -> int:
    """Open the escalation, its item and its alerts. Returns the item id."""
    store, s = desk.store, desk.settings
    now = store.now()
    today = desk.calendar.local(now).date()
    urgent = any(c in URGENT for c in decision.categories)
    categories = [c.value for c in decision.categories]
    route = suggest_route(
        categories,
        store.rule_ids(decision_id),
        comment.text,
        comment.has_attachment,
        s.school.nation,
    )
    escalation_id, created = store.escalations.open(
        platform=comment.platform,
        comment_id=comment.comment_id,
        decision_id=decision_id,
        categories=categories,
        severity=decision.severity.value,
        urgent=urgent,
        route=route.route,
        route_reason=route.reason,
        route_steps=list(route.steps),
        family_implicated=route.family_implicated,
        version_id=store.latest_version_id(comment.platform, comment.comment_id),
    )
    if urgent:
        minutes = s.acknowledgement.dsl_ack_minutes
        due = now + timedelta(minutes=minutes)
        rule = f"urgent: within {minutes} minutes, every day of the year"
    else:
        deadline = desk.calendar.deadline(comment.created_at)
        due, rule = deadline.due, deadline.rule
    recipients = alert_recipients(desk, decision, urgent, today)
    present = [p for p in (s.dsl, s.deputy_dsl) if not on_leave(s, store, p.name, today)]
    assignee = present[0] if present else s.slt
    backup = present[1] if len(present) > 1 else s.slt
    item_id, _ = store.items.open(
        platform=comment.platform,
        comment_id=comment.comment_id,
        decision_id=decision_id,
        kind="escalation",
        received_at=comment.created_at,
        due_at=due,
        rule=rule,
        assignee=assignee.name,
        backup=backup.name,
    )
    if created:
        store.audit(
            "escalation.opened",
            platform=comment.platform,
            comment_id=comment.comment_id,
            escalation=escalation_id,
            item=item_id,
            urgent=urgent,
            route=route.route,
            told=[p.name for p in recipients],
            due=iso(due),
        )
    item = store.items.get(item_id)
    for person in recipients:
        desk.queue_item_message(
            item,
            "alert",
            person,
            {"escalation_id": escalation_id, "route": route.route, "urgent": urgent},
        )
    return item_id


def alert_recipients(desk, decision: Decision, urgent: bool, today) -> list[Person]:
    """Who is told at once. The DSL (and the deputy when urgent); if the DSL is on leave, the
    deputy too, and if both are away the out-of-hours contact or SLT: a DSL on leave is never
    the only one told. Staff allegations also go to the head (SLT), quietly. Out of hours, an
    urgent alert also goes to the out-of-hours contact."""
    s, store = desk.settings, desk.store
    away = {p.name for p in s.people().values() if on_leave(s, store, p.name, today)}
    wanted: list[Person] = [s.dsl, s.deputy_dsl] if urgent else [s.dsl]
    if s.dsl.name in away and s.deputy_dsl not in wanted:
        wanted.append(s.deputy_dsl)
    if Category.STAFF_ALLEGATION in decision.categories:
        wanted.append(s.slt)
    fallback = s.safeguarding.out_of_hours or s.slt
    if all(p.name in away for p in wanted):
        wanted.append(fallback if fallback.name not in away else s.slt)
    ooh = s.safeguarding.out_of_hours
    if urgent and ooh and not desk.calendar.in_working_hours(store.now()):
        wanted.append(ooh)
    return list({p.name: p for p in wanted}.values())


def change_status(
    store: Store,
    escalation_id: int,
    status: str,
    by: str,
    reference: str | None = None,
    outcome: str | None = None,
) -> Escalation:
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}")
    escalation = get(store, escalation_id)
    with store.transaction():
        store.escalations.set_status(escalation_id, EscalationStatus(status), reference, outcome)
        store.audit(
            f"escalation.{status}",
            actor=by,
            platform=escalation.platform,
            comment_id=escalation.comment_id,
            escalation=escalation_id,
            reference=reference,
            outcome=outcome,
        )
    return get(store, escalation_id)


def get(store: Store, escalation_id: int) -> Escalation:
    escalation = store.escalations.get(escalation_id)
    if escalation is None:
        raise EscalationNotFound(f"no escalation {escalation_id}")
    return escalation


def evidence(store: Store, escalation_id: int) -> dict:
    """The evidence record: the words that were escalated (whatever the comment says now),
    every later version, times, classification, actions and history."""
    escalation = get(store, escalation_id)
    parts = store.escalations.evidence_rows(escalation)
    comment, decision, verdict = parts["comment"], parts["decision"], parts["verdict"]
    versions = parts["versions"]
    escalated = next((v for v in versions if v["id"] == escalation.version_id), None)
    words = escalated["text"] if escalated else comment.get("text")
    hidden = next(
        (
            a["completed_at"]
            for a in parts["actions"]
            if a["kind"] == "hide" and a["status"] == "done"
        ),
        None,
    )
    return {
        "escalation": escalation.id,
        "status": escalation.status.value,
        "urgent": escalation.urgent,
        "categories": list(escalation.categories),
        "severity": escalation.severity,
        "route": escalation.route,
        "route_reason": escalation.route_reason,
        "route_steps": list(escalation.route_steps),
        "reference": escalation.reference,
        "outcome": escalation.outcome,
        "comment": {
            "words": words,
            "escalated_version": escalated["version"] if escalated else None,
            "author_handle": comment.get("author_handle"),
            "author_id": comment.get("author_id"),
            "platform": escalation.platform,
            "account": comment.get("account"),
            "post_id": comment.get("post_id"),
            "comment_id": escalation.comment_id,
            "permalink": comment.get("permalink"),
            "has_attachment": bool(comment.get("has_attachment")),
            "attachment_note": "not opened, downloaded or stored by modbot"
            if comment.get("has_attachment")
            else None,
        },
        "versions": [
            {
                "version": v["version"],
                "words": v["text"],
                "seen": v["seen_at"],
                "sha256": v["text_sha256"],
                "purged": v["purged_at"],
            }
            for v in versions
        ],
        "times": {
            "posted": comment.get("created_at"),
            "seen": comment.get("first_seen_at"),
            "hidden": hidden,
            "escalated": iso(escalation.created_at),
        },
        "classification": {
            "scores": json.loads(verdict["scores"]),
            "rule_hits": json.loads(verdict["hits"]),
            "model": verdict["model"],
            "model_version": verdict["model_version"],
            "reasons": json.loads(decision["reasons"]),
        },
        "actions": [
            {"kind": a["kind"], "status": a["status"], "at": a["completed_at"]}
            for a in parts["actions"]
        ],
        "history": [{**h, "detail": json.loads(h["detail"])} for h in parts["history"]],
    }


def export(
    store: Store, escalation_id: int, folder: Path, templates_dir: Path, by: str = "modbot"
) -> list[Path]:
    """Write the evidence record as JSON and a printable HTML page, 0600 from the first byte."""
    record = evidence(store, escalation_id)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir)), autoescape=True)
    json_path = write_private(
        folder / f"escalation-{escalation_id}.json",
        json.dumps(record, indent=2, ensure_ascii=False),
    )
    html_path = write_private(
        folder / f"escalation-{escalation_id}.html",
        env.get_template("evidence.html").render(r=record),
    )
    store.audit("escalation.exported", actor=by, escalation=escalation_id, folder=str(folder))
    return [json_path, html_path]
