"""A reporting month in the school's own time zone: 1 November 00:00 to 1 December 00:00 school
time, whatever the clocks did in between. Parsed from `YYYY-MM`, refused when malformed or in
the future, so a report is never made of a period that has not started."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.clock import iso
from bot.core.errors import ModbotError

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class BadMonth(ModbotError):
    """The month asked for is malformed, or has not started yet."""


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        match = _MONTH.match(text.strip())
        if not match:
            raise BadMonth(f"--month must look like 2026-11 (YYYY-MM), not {text!r}")
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            raise BadMonth(f"--month {text!r}: the month must be 01 to 12")
        if year < 2000:
            raise BadMonth(f"--month {text!r}: modbot has no data from before 2000")
        return cls(year, month)

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return self.next().first_day - timedelta(days=1)

    @property
    def title(self) -> str:
        return f"{self.first_day:%B %Y}"

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Month:
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def start(self, tz: ZoneInfo) -> datetime:
        return datetime.combine(self.first_day, datetime.min.time(), tzinfo=tz)

    def end(self, tz: ZoneInfo) -> datetime:
        return self.next().start(tz)

    def window(self, tz: ZoneInfo) -> Window:
        return Window(self.start(tz), self.end(tz))

    def check_started(self, now: datetime, tz: ZoneInfo) -> None:
        """A month that has not begun in school time has no report."""
        if self.start(tz) > now:
            today = now.astimezone(tz).date()
            raise BadMonth(
                f"--month {self} is in the future (today is {today:%-d %B %Y}); "
                f"the latest month with a report is {Month.of(today)}"
            )


@dataclass(frozen=True)
class Window:
    """[start, end) as aware times; `lo`/`hi` are the stored (UTC ISO) forms for queries."""

    start: datetime
    end: datetime

    @property
    def lo(self) -> str:
        return iso(self.start)

    @property
    def hi(self) -> str:
        return iso(self.end)

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def weeks(self, tz: ZoneInfo) -> list[Window]:
        """Monday-to-Sunday weeks, clipped to the window (the first and last may be short)."""
        out = []
        start = self.start.astimezone(tz)
        while start < self.end:
            monday = start.date() - timedelta(days=start.weekday())
            following = datetime.combine(monday + timedelta(days=7), datetime.min.time(), tz)
            out.append(Window(start, min(following, self.end.astimezone(tz))))
            start = following
        return out
