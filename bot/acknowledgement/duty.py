"""Who is on duty: a rota of the designated administrators (alternate weeks by default) and
everyone's recorded leave (administrators, DSL, deputy, SLT). Someone on leave is never the one
assigned; if no administrator is available, the senior leader is, so nothing waits unseen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.config.settings import Person, SchoolSettings
from bot.store import Store


@dataclass(frozen=True)
class Duty:
    assignee: Person
    backup: Person
    note: str = ""


def on_leave(settings: SchoolSettings, store: Store, name: str, day: date) -> bool:
    for leave in settings.acknowledgement.leave:
        if leave.name == name and leave.start <= day <= leave.end:
            return True
    return store.items.on_recorded_leave(name, day)


def who_is_on_duty(settings: SchoolSettings, store: Store, day: date) -> Duty:
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


def add_leave(
    store: Store, settings: SchoolSettings, name: str, start: date, end: date, by: str = ""
) -> None:
    """Record leave for an administrator, the DSL, the deputy or SLT."""
    if name not in settings.people():
        raise ValueError(
            f"{name!r} is not named in the configuration (one of: "
            f"{', '.join(sorted(settings.people()))})"
        )
    if end < start:
        raise ValueError("the leave ends before it starts")
    with store.transaction():
        store.items.add_leave(name, start, end)
        store.audit(
            "leave.added",
            actor=by or name,
            person=name,
            start=start.isoformat(),
            end=end.isoformat(),
        )


def available(
    settings: SchoolSettings, store: Store, people: list[Person], day: date
) -> list[Person]:
    """Those of `people` not on leave that day, in order."""
    return [p for p in people if not on_leave(settings, store, p.name, day)]
