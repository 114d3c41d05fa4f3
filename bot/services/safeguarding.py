"""Use cases of the DSL's queue: list, view the evidence (every view audited with the viewer),
refer, close, export. Only the DSL role may see a safeguarding comment's words."""

from __future__ import annotations

from pathlib import Path

from bot.safeguarding.escalations import EscalationNotFound, change_status, evidence, export, get
from bot.services.actors import Actor, NotFound, Role
from bot.store import Store
from bot.store.records import Escalation, EscalationStatus


def queue(store: Store, actor: Actor) -> list[Escalation]:
    """The escalations, newest first: references and categories, no words."""
    actor.require(Role.DSL, Role.SLT)
    return store.escalations.all()


def view_evidence(store: Store, escalation_id: int, actor: Actor, via: str = "cli") -> dict:
    actor.require(Role.DSL)
    try:
        record = evidence(store, escalation_id)
    except EscalationNotFound as exc:
        store.audit("escalation.view_refused", actor=actor.name, escalation=escalation_id)
        raise NotFound(str(exc)) from None
    store.audit(
        "escalation.viewed",
        actor=actor.name,
        platform=record["comment"]["platform"],
        comment_id=record["comment"]["comment_id"],
        escalation=escalation_id,
        via=via,
    )
    return record


def _change(store: Store, escalation_id: int, actor: Actor, status: EscalationStatus, **kw):
    actor.require(Role.DSL)
    try:
        return change_status(store, escalation_id, status.value, actor.name, **kw)
    except EscalationNotFound as exc:
        raise NotFound(str(exc)) from None


def acknowledge(store: Store, escalation_id: int, actor: Actor) -> Escalation:
    """The DSL has seen it: the escalation's item is acknowledged too (alerts stop)."""
    from bot.services.acknowledgement import acknowledge as acknowledge_item

    actor.require(Role.DSL)
    escalation = _lookup(store, escalation_id)
    item = store.items.for_decision(escalation.decision_id)
    if item is not None:
        acknowledge_item(store, item.id, actor)  # moves a new escalation to acknowledged
    if escalation.status is EscalationStatus.NEW and item is None:
        return _change(store, escalation_id, actor, EscalationStatus.ACKNOWLEDGED)
    return _lookup(store, escalation_id)  # never moves a referred or closed one back


def refer(store: Store, escalation_id: int, actor: Actor, route: str, reference: str):
    return _change(
        store, escalation_id, actor, EscalationStatus.REFERRED, reference=f"{route}: {reference}"
    )


def close(store: Store, escalation_id: int, actor: Actor, outcome: str):
    return _change(store, escalation_id, actor, EscalationStatus.CLOSED, outcome=outcome)


def export_evidence(
    store: Store, escalation_id: int, actor: Actor, folder: Path, templates_dir: Path
) -> list[Path]:
    actor.require(Role.DSL)
    _lookup(store, escalation_id)
    return export(store, escalation_id, folder, templates_dir, by=actor.name)


def _lookup(store: Store, escalation_id: int) -> Escalation:
    try:
        return get(store, escalation_id)
    except EscalationNotFound as exc:
        raise NotFound(str(exc)) from None
