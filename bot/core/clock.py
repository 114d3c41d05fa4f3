"""Time comes from one injectable place, so tests and the demo can run on a simulated clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """Stored times are UTC ISO 8601 with offset, so they sort and compare as text."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")
