"""Jinja filters: times in the school's zone and in words a busy person reads at a glance."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


def _moment(value: datetime | str | None) -> datetime | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def local(zone: ZoneInfo) -> Callable[[datetime | str | None], str]:
    """'Mon 16 Nov, 14:05' in school time; a dash when there is no time."""

    def fmt(value: datetime | str | None) -> str:
        moment = _moment(value)
        if moment is None:
            return "—"
        return moment.astimezone(zone).strftime("%a %-d %b, %H:%M")

    return fmt


def day(zone: ZoneInfo) -> Callable[[date | str | None], str]:
    def fmt(value: date | str | None) -> str:
        if value is None or value == "":
            return "—"
        when = value if isinstance(value, date) else date.fromisoformat(str(value))
        return when.strftime("%a %-d %b %Y")

    return fmt


def short(zone: ZoneInfo) -> Callable[[date | None], str]:
    """'Mon 16 Nov': a day in a list of days."""

    def fmt(value: date | None) -> str:
        return value.strftime("%a %-d %b") if value else "—"

    return fmt


def duration(delta: timedelta) -> str:
    minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    nb = "\u00a0"  # a number and its unit never part at the end of a line
    if days:
        return f"{days}{nb}d {hours}{nb}h"
    if hours:
        return f"{hours}{nb}h {minutes}{nb}min"
    return f"{minutes}{nb}min"


def left(zone: ZoneInfo) -> Callable[[timedelta], str]:
    """'2 h 15 min left' or 'overdue by 3 h 5 min'."""

    def fmt(delta: timedelta) -> str:
        if delta <= timedelta(0):
            return f"overdue by {duration(delta)}"
        return f"{duration(delta)} left"

    return fmt


def ago(zone: ZoneInfo) -> Callable[[timedelta], str]:
    def fmt(delta: timedelta) -> str:
        return f"{duration(delta)} ago"

    return fmt


def label(zone: ZoneInfo) -> Callable[[str | None], str]:
    """A stored name ('self_harm', 'auth_expired') as words ('self harm')."""

    def fmt(value: str | None) -> str:
        return (value or "").replace("_", " ")

    return fmt


def web_link(zone: ZoneInfo) -> Callable[[str | None], str]:
    """A platform's link, only if it is http(s): never `javascript:` or `data:`, whatever a
    platform (or an attacker posing as one) sent. Empty means: do not link."""

    def fmt(value: str | None) -> str:
        value = (value or "").strip()
        scheme = value.split(":", 1)[0].lower() if ":" in value else ""
        return (
            value if scheme in ("https", "http") and value[len(scheme) :].startswith("://") else ""
        )

    return fmt


FILTERS: dict[str, Callable[[ZoneInfo], Callable]] = {
    "local": local,
    "day": day,
    "short": short,
    "left": left,
    "ago": ago,
    "label": label,
    "web_link": web_link,
}
