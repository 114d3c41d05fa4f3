"""Safeguarding escalations to the DSL: a suggested route, a status workflow written to the
audit log, and an evidence record (JSON and a printable HTML page) a DSL can attach to CPOMS or
MyConcern. modbot prepares referrals; a named person makes them. It never downloads, views or
stores images: for suspected indecent images it keeps the URL and ids only."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jinja2

from bot.core.clock import iso
from bot.core.models import Category
from bot.store import Store

URGENT = frozenset(
    {
        Category.SELF_HARM,
        Category.ABUSE_DISCLOSURE,
        Category.GROOMING,
        Category.THREAT,
        Category.SEXUAL_EXPLOITATION,
    }
)
STATUSES = ("new", "acknowledged", "referred", "closed")
_STAFF = re.compile(r"\b(?:Mr|Mrs|Miss|Ms|Sir|teacher|coach|TA|head ?teacher)\b", re.I)


def suggest_route(
    categories: list[str], rules: list[str], text: str, has_attachment: bool
) -> tuple[str, str]:
    cats = set(categories)
    if has_attachment and cats & {"sexual_exploitation", "grooming", "sexual_content"}:
        return (
            "Internet Watch Foundation (report the URL only) and CEOP",
            "a sexual concern with an image attached: never open, download or save the image",
        )
    if cats & {"abuse_disclosure", "grooming"} and _STAFF.search(text or ""):
        return (
            "LADO (Local Authority Designated Officer)",
            "the concern may be about a member of staff or volunteer",
        )
    if any(r.startswith("abuse.fgm") for r in rules):
        return (
            "Police (FGM mandatory reporting duty) and children's social care",
            "possible FGM or forced marriage",
        )
    if cats & {"grooming", "sexual_exploitation"}:
        return (
            "CEOP (National Crime Agency); 999 if a child is in immediate danger",
            "online grooming or sexual exploitation: CEOP takes named reports, which a "
            "person submits through the CEOP Safety Centre",
        )
    if "self_harm" in cats:
        return (
            "Contact the child's parents or carers today; 999 if in immediate danger",
            "risk of self-harm or suicide",
        )
    if "abuse_disclosure" in cats:
        return ("Children's social care (MASH referral)", "possible disclosure of abuse or neglect")
    if "threat" in cats:
        return (
            "Police: 999 if the danger is immediate, otherwise 101",
            "a threat of violence to a person or the school",
        )
    if "criminal_exploitation" in cats:
        return (
            "Police 101 and children's social care",
            "possible criminal exploitation (county lines)",
        )
    if "radicalisation" in cats:
        return (
            "Prevent: the local authority Prevent lead (police 101 if urgent)",
            "extremist content",
        )
    if "bullying" in cats:
        return ("Pastoral lead, under the anti-bullying policy", "bullying of a child")
    if "pupil_identification" in cats:
        return (
            "Data protection officer; tell the child's parents or carers",
            "a child's personal data was posted in public",
        )
    return ("DSL to decide", "safeguarding concern")


def change_status(
    store: Store,
    escalation_id: int,
    status: str,
    by: str,
    reference: str | None = None,
    outcome: str | None = None,
) -> dict:
    row = store.db["escalations"].get(escalation_id)
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}")
    update: dict[str, object] = {"status": status, "updated_at": iso(store.now())}
    if reference:
        update["reference"] = reference
    if outcome:
        update["outcome"] = outcome
    store.db["escalations"].update(escalation_id, update)
    store.audit(
        f"escalation.{status}",
        actor=by,
        platform=row["platform"],
        comment_id=row["comment_id"],
        escalation=escalation_id,
        reference=reference,
        outcome=outcome,
    )
    return store.db["escalations"].get(escalation_id)


def evidence(store: Store, escalation_id: int) -> dict:
    esc = store.db["escalations"].get(escalation_id)
    comment = store.comment_row(esc["platform"], esc["comment_id"])
    decision = store.db["decisions"].get(esc["decision_id"])
    verdict = store.db["verdicts"].get(decision["verdict_id"])
    actions = store.actions_for(esc["decision_id"])
    hidden = next(
        (a["completed_at"] for a in actions if a["kind"] == "hide" and a["status"] == "done"), None
    )
    history = store.rows(
        "select at, actor, event, detail from audit where platform = ? and "
        "comment_id = ? order by id",
        [esc["platform"], esc["comment_id"]],
    )
    return {
        "escalation": esc["id"],
        "status": esc["status"],
        "urgent": bool(esc["urgent"]),
        "categories": json.loads(esc["categories"]),
        "severity": esc["severity"],
        "route": esc["route"],
        "route_reason": esc["route_reason"],
        "reference": esc["reference"],
        "outcome": esc["outcome"],
        "comment": {
            "words": comment["text"],
            "author_handle": comment["author_handle"],
            "author_id": comment["author_id"],
            "platform": comment["platform"],
            "account": comment["account"],
            "post_id": comment["post_id"],
            "comment_id": comment["comment_id"],
            "permalink": comment["permalink"],
            "has_attachment": bool(comment["has_attachment"]),
            "attachment_note": "not opened, downloaded or stored by modbot"
            if comment["has_attachment"]
            else None,
        },
        "times": {
            "posted": comment["created_at"],
            "seen": comment["first_seen_at"],
            "hidden": hidden,
            "escalated": esc["created_at"],
        },
        "classification": {
            "scores": json.loads(verdict["scores"]),
            "rule_hits": json.loads(verdict["hits"]),
            "model": verdict["model"],
            "model_version": verdict["model_version"],
            "reasons": json.loads(decision["reasons"]),
        },
        "actions": [
            {"kind": a["kind"], "status": a["status"], "at": a["completed_at"]} for a in actions
        ],
        "history": [{**h, "detail": json.loads(h["detail"])} for h in history],
    }


def export(store: Store, escalation_id: int, folder: Path, templates_dir: Path) -> list[Path]:
    record = evidence(store, escalation_id)
    folder.mkdir(parents=True, exist_ok=True)
    json_path = folder / f"escalation-{escalation_id}.json"
    json_path.write_text(json.dumps(record, indent=2, ensure_ascii=False))
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir)), autoescape=True)
    html_path = folder / f"escalation-{escalation_id}.html"
    html_path.write_text(env.get_template("evidence.html").render(r=record))
    for path in (json_path, html_path):
        path.chmod(0o600)
    store.audit("escalation.exported", escalation=escalation_id)
    return [json_path, html_path]
