"""Typed records and statuses that cross the store boundary: callers never see raw rows of the
tables these describe, and never spell a status as a bare string."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class MessageStatus(StrEnum):
    PENDING = "pending"  # written with its cause; not yet accepted by the mail server
    SENT = "sent"


class MessageKind(StrEnum):
    ALERT = "alert"  # a new safeguarding escalation, to the DSL (and deputy when urgent)
    REMINDER = "reminder"
    BACKUP = "backup"
    BREACH = "breach"
    DIGEST = "digest"
    ACCOUNT = "account"  # an account is not being watched
    BREAKER = "breaker"  # automatic hiding paused on an account
    TEMPLATE = "template"  # a template failed to render; a plain fallback went out instead
    REPORT = "report"  # the monthly report


class ItemStatus(StrEnum):
    OPEN = "open"
    BREACHED = "breached"
    ACKNOWLEDGED = "acknowledged"


class EscalationStatus(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    REFERRED = "referred"
    CLOSED = "closed"


@dataclass(frozen=True)
class Message:
    """One email waiting in (or gone from) the outbox."""

    id: int
    kind: MessageKind
    dedupe: str
    recipient: str
    address: str
    template: str
    subject: str
    context: dict
    item_id: int | None
    escalation_id: int | None
    status: MessageStatus
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    last_error: str | None

    @classmethod
    def from_row(cls, row: dict) -> Message:
        return cls(
            id=row["id"],
            kind=MessageKind(row["kind"]),
            dedupe=row["dedupe"],
            recipient=row["recipient"],
            address=row["address"],
            template=row["template"],
            subject=row["subject"],
            context=json.loads(row["context"] or "{}"),
            item_id=row["item_id"],
            escalation_id=row["escalation_id"],
            status=MessageStatus(row["status"]),
            attempts=row["attempts"],
            next_attempt_at=_time(row["next_attempt_at"]),
            created_at=datetime.fromisoformat(row["created_at"]),
            last_error=row["last_error"],
        )


@dataclass(frozen=True)
class NewMessage:
    """A message to write into the outbox beside the state change that causes it."""

    kind: MessageKind
    dedupe: str  # unique: the same step to the same person is written once, ever
    recipient: str
    address: str
    template: str
    subject: str
    context: dict
    item_id: int | None = None
    escalation_id: int | None = None


@dataclass(frozen=True)
class Item:
    id: int
    platform: str
    comment_id: str
    decision_id: int
    kind: str
    received_at: datetime
    due_at: datetime
    rule: str
    assignee: str
    backup: str
    status: ItemStatus
    acknowledged_by: str | None
    acknowledged_at: str | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: dict) -> Item:
        return cls(
            id=row["id"],
            platform=row["platform"],
            comment_id=row["comment_id"],
            decision_id=row["decision_id"],
            kind=row["kind"],
            received_at=datetime.fromisoformat(row["received_at"]),
            due_at=datetime.fromisoformat(row["due_at"]),
            rule=row["rule"],
            assignee=row["assignee"],
            backup=row["backup"],
            status=ItemStatus(row["status"]),
            acknowledged_by=row["acknowledged_by"],
            acknowledged_at=row["acknowledged_at"],
            created_at=datetime.fromisoformat(row["created_at"]),
        )


@dataclass(frozen=True)
class Escalation:
    id: int
    platform: str
    comment_id: str
    decision_id: int
    categories: tuple[str, ...]
    severity: str
    status: EscalationStatus
    urgent: bool
    route: str | None
    route_reason: str | None
    route_steps: tuple[str, ...]
    reference: str | None
    outcome: str | None
    version_id: int | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: dict) -> Escalation:
        return cls(
            id=row["id"],
            platform=row["platform"],
            comment_id=row["comment_id"],
            decision_id=row["decision_id"],
            categories=tuple(json.loads(row["categories"] or "[]")),
            severity=row["severity"],
            status=EscalationStatus(row["status"]),
            urgent=bool(row["urgent"]),
            route=row["route"],
            route_reason=row["route_reason"],
            route_steps=tuple(json.loads(row.get("route_steps") or "[]")),
            reference=row["reference"],
            outcome=row["outcome"],
            version_id=row.get("version_id"),
            created_at=datetime.fromisoformat(row["created_at"]),
        )


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
