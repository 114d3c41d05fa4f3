"""Typed records and statuses that cross the store boundary: callers never see raw rows of the
tables these describe, and never spell a status as a bare string."""

from __future__ import annotations

import functools
import json
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum
from typing import Any, Self, Union, get_args, get_origin, get_type_hints


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


def _optional_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _converter(hint: Any) -> Callable[[Any], Any]:
    """How a column's value becomes a field of type `hint`: ISO text to a datetime (empty to
    None when optional), a status's text to its enum, 0/1 to a bool, JSON text to a tuple or a
    dict; anything else as SQLite gave it."""
    if get_origin(hint) in (Union, types.UnionType):
        inner = [a for a in get_args(hint) if a is not type(None)]
        if inner == [datetime]:
            return _optional_time
        convert = _converter(inner[0]) if len(inner) == 1 else _same
        return lambda value: None if value is None else convert(value)
    origin = get_origin(hint) or hint
    if origin is datetime:
        return datetime.fromisoformat
    if isinstance(origin, type) and issubclass(origin, StrEnum):
        return origin
    if origin is bool:
        return bool
    if origin is tuple:
        return lambda value: tuple(json.loads(value or "[]"))
    if origin is dict:
        return lambda value: json.loads(value or "{}")
    return _same


def _same(value: Any) -> Any:
    return value


@functools.cache
def _converters(cls: type) -> tuple[tuple[str, Callable[[Any], Any]], ...]:
    hints = get_type_hints(cls)
    return tuple((f.name, _converter(hints[f.name])) for f in fields(cls))


def record_from_row(cls: type, row: Mapping[str, Any], **given: Any) -> Any:
    """The typed record `cls` (a dataclass) from a row: each field read from the column of the
    same name and converted by the field's type (see `_converter`); `given` fields as they are."""
    values = {
        name: given[name] if name in given else convert(row.get(name))
        for name, convert in _converters(cls)
    }
    return cls(**values)


class Record:
    """A dataclass read from a table row whose columns carry the fields' names."""

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Self:
        record: Self = record_from_row(cls, row)
        return record


@dataclass(frozen=True)
class Message(Record):
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
class Item(Record):
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


@dataclass(frozen=True)
class Escalation(Record):
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
