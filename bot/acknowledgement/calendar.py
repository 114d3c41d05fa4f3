"""Working days and the 24-hour acknowledgement deadline, in the school's own time zone.

The policy (Little Kinvaston School, shared/seeds/002): comments "must be responded to within
24 hours (or on the next working day if received at a weekend)". So, by default:
- received on a working day: due 24 hours later (elapsed time, so a clock change does not
  stretch or shrink it);
- received on a non-working day (weekend, bank holiday for the school's nation, a closure day
  from the config): due at the end of the next working day.
With `roll_to_working_day`, a deadline that lands on a non-working day moves to the same
local time on the next working day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

import holidays

SUBDIVISIONS = {"england": "ENG", "wales": "WLS", "scotland": "SCT", "northern_ireland": "NIR"}


@dataclass(frozen=True)
class Closure:
    start: date
    end: date
    name: str = "school closure"


@dataclass(frozen=True)
class Deadline:
    received: datetime
    due: datetime
    rule: str


class SchoolCalendar:
    def __init__(
        self,
        timezone: str,
        nation: str,
        closures: tuple[Closure, ...] = (),
        day_ends: time = time(17, 0),
        roll_to_working_day: bool = False,
        day_starts: time = time(8, 0),
    ):
        self.tz = ZoneInfo(timezone)
        self.nation = nation
        self.closures = closures
        self.day_ends = day_ends
        self.roll_to_working_day = roll_to_working_day
        self.day_starts = day_starts

    @cached_property
    def _holidays(self) -> holidays.HolidayBase:
        return holidays.country_holidays("GB", subdiv=SUBDIVISIONS[self.nation])

    def why_not_working(self, day: date) -> str | None:
        """None on a working day, else the reason (weekend, the bank holiday's name, closure)."""
        if day.weekday() >= 5:
            return "weekend"
        name = self._holidays.get(day)
        if name:
            return f"bank holiday: {name}"
        for closure in self.closures:
            if closure.start <= day <= closure.end:
                return closure.name
        return None

    def is_working_day(self, day: date) -> bool:
        return self.why_not_working(day) is None

    def next_working_day(self, day: date) -> date:
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def local(self, moment: datetime) -> datetime:
        """An aware time in the school's zone; a naive one is taken as school time (the first
        of the two readings when the clocks go back)."""
        if moment.tzinfo is None:
            return moment.replace(tzinfo=self.tz)
        return moment.astimezone(self.tz)

    def deadline(self, received: datetime) -> Deadline:
        received = self.local(received)
        day = received.date()
        reason = self.why_not_working(day)
        if reason is not None:
            due_day = self.next_working_day(day)
            due = datetime.combine(due_day, self.day_ends, tzinfo=self.tz)
            return Deadline(
                received,
                due,
                f"received on a non-working day ({reason}): due at "
                f"the end of the next working day, {due_day:%A %-d %B %Y}",
            )
        due = (received.astimezone(ZoneInfo("UTC")) + timedelta(hours=24)).astimezone(self.tz)
        rule = "received on a working day: due 24 hours later"
        if self.roll_to_working_day and not self.is_working_day(due.date()):
            landing = self.why_not_working(due.date())
            due_day = self.next_working_day(due.date())
            due = datetime.combine(due_day, due.time(), tzinfo=self.tz)
            rule += (
                f", which fell on a non-working day ({landing}), so moved to the same time "
                f"on the next working day, {due_day:%A %-d %B %Y}"
            )
        return Deadline(received, due, rule)

    def in_working_hours(self, moment: datetime) -> bool:
        local = self.local(moment)
        return self.is_working_day(local.date()) and self.day_starts <= local.time() < self.day_ends

    def urgent_deadline(self, received: datetime, minutes: int) -> Deadline:
        """The DSL's shorter clock: `minutes` inside working hours; out of hours, `minutes`
        after the next working day starts."""
        received = self.local(received)
        if self.in_working_hours(received):
            due = received + timedelta(minutes=minutes)
            return Deadline(received, due, f"urgent, in working hours: due in {minutes} minutes")
        day = received.date()
        if not (self.is_working_day(day) and received.time() < self.day_starts):
            day = self.next_working_day(day)
        start = datetime.combine(day, self.day_starts, tzinfo=self.tz)
        return Deadline(
            received,
            start + timedelta(minutes=minutes),
            f"urgent, out of hours: due {minutes} minutes after the working day "
            f"starts ({day:%A %-d %B})",
        )
