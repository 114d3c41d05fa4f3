"""Use cases of the 24-hour clock: acknowledge an item, record leave, list what waits."""

from __future__ import annotations

from datetime import date

from bot.acknowledgement.duty import add_leave
from bot.config.settings import SchoolSettings
from bot.core.clock import iso
from bot.services.actors import Actor, Forbidden, NotFound, Role
from bot.store import Store
from bot.store.records import EscalationStatus, Item, ItemStatus


def acknowledge(store: Store, item_id: int, actor: Actor, via: str = "cli") -> str:
    """Acknowledge an item. Doing it twice is harmless. An escalation's item can only be
    acknowledged by the DSL (or deputy), and acknowledging it marks the escalation seen."""
    item = store.items.get(item_id)
    if item is None:
        raise NotFound(f"no item {item_id}")
    if item.kind == "escalation":
        actor.require(Role.DSL)
    else:
        actor.require(Role.ADMIN, Role.DSL)
    if item.acknowledged_at:
        return (
            f"item {item_id} was already acknowledged by {item.acknowledged_by} at "
            f"{item.acknowledged_at}"
        )
    with store.transaction():
        if not store.items.acknowledge(item_id, actor.name):
            return f"item {item_id} was already acknowledged"
        store.audit(
            "item.acknowledged",
            actor=actor.name,
            platform=item.platform,
            comment_id=item.comment_id,
            item=item_id,
            via=via,
            late=item.status is ItemStatus.BREACHED,
        )
        if item.kind == "escalation":
            escalation = store.escalations.for_decision(item.decision_id)
            if escalation and escalation.status is EscalationStatus.NEW:
                store.escalations.set_status(escalation.id, EscalationStatus.ACKNOWLEDGED)
                store.audit(
                    "escalation.acknowledged",
                    actor=actor.name,
                    platform=item.platform,
                    comment_id=item.comment_id,
                    escalation=escalation.id,
                    via=via,
                )
    late = " (after the deadline)" if item.status is ItemStatus.BREACHED else ""
    return f"item {item_id} acknowledged by {actor.name} at {iso(store.now())}{late}"


def get_item(store: Store, item_id: int, actor: Actor) -> Item:
    item = store.items.get(item_id)
    if item is None:
        raise NotFound(f"no item {item_id}")
    if item.kind == "escalation" and actor.role is not Role.DSL:
        raise Forbidden(f"item {item_id} is a safeguarding escalation: the DSL's only")
    actor.require(Role.ADMIN, Role.DSL)
    return item


def items(store: Store, actor: Actor, status: str | None) -> list[Item]:
    actor.require(Role.ADMIN, Role.DSL, Role.SLT)
    return store.items.with_status(status)


def record_leave(
    store: Store, settings: SchoolSettings, actor: Actor, name: str, start: date, end: date
) -> str:
    """Anyone may record their own leave; the DSL and administrators may record anyone's."""
    if name != actor.name:
        actor.require(Role.ADMIN, Role.DSL)
    try:
        add_leave(store, settings, name, start, end, by=actor.name)
    except ValueError as exc:
        raise NotFound(str(exc)) from None
    return f"{name} is on leave from {start:%-d %B %Y} to {end:%-d %B %Y}"
