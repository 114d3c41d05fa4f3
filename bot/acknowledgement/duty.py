"""Who is on duty: a rota of the designated administrators (alternate weeks by default) and
their recorded leave. An administrator on leave is never the one assigned; if nobody is
available, the senior leader is, so that nothing waits unseen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.config.settings import Person, Settings
from bot.store import Store


@dataclass(frozen=True)
class Duty:
    assignee: Person
    backup: Person
    note: str = ""


def on_leave(settings: Settings, store: Store, name: str, day: date) -> bool:
    for leave in settings.acknowledgement.leave:
        if leave.name == name and leave.start <= day <= leave.end:
            return True
    rows = store.rows(
        "select 1 from leave where name = ? and start <= ? and end >= ?",
        [name, day.isoformat(), day.isoformat()],
    )
    return bool(rows)


def who_is_on_duty(settings: Settings, store: Store, day: date) -> Duty:
    admins = list(settings.administrators)
    weeks = (day - settings.acknowledgement.rota_start).days // 7
    shift = weeks % len(admins)
    order = admins[shift:] + admins[:shift]
    available = [a for a in order if not on_leave(settings, store, a.name, day)]
    if not available:
        return Duty(settings.slt, settings.dsl, "every administrator is on leave")
    backup = available[1] if len(available) > 1 else settings.slt
    note = "" if len(available) > 1 else "only one administrator available; backup is SLT"
    return Duty(available[0], backup, note)


def add_leave(store: Store, settings: Settings, name: str, start: date, end: date) -> None:
    if name not in {a.name for a in settings.administrators}:
        raise ValueError(f"{name!r} is not a designated administrator")
    if end < start:
        raise ValueError("the leave ends before it starts")
    store.db["leave"].insert(
        {
            "name": name,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "added_at": store.now().isoformat(),
        }
    )
    store.audit("leave.added", actor=name, start=start.isoformat(), end=end.isoformat())
