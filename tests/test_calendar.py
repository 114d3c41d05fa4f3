"""The acknowledgement deadline: the policy's words, UK bank holidays by nation, clock changes."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.acknowledgement.calendar import Closure, SchoolCalendar
from bot.faces.cli import cli

LONDON = ZoneInfo("Europe/London")


def cal(nation: str = "england", **kw) -> SchoolCalendar:
    return SchoolCalendar("Europe/London", nation, **kw)


def due(received: str, nation: str = "england", **kw) -> datetime:
    return cal(nation, **kw).deadline(datetime.fromisoformat(received)).due


@pytest.mark.parametrize(
    ("received", "nation", "expected"),
    [
        ("2026-11-21T09:00", "england", "2026-11-23T17:00:00+00:00"),  # Saturday morning
        ("2026-11-20T18:30", "england", "2026-11-21T18:30:00+00:00"),  # Friday evening: 24 h
        ("2026-12-24T10:00", "england", "2026-12-25T10:00:00+00:00"),  # Christmas Eve: 24 h
        ("2026-12-25T10:00", "england", "2026-12-29T17:00:00+00:00"),  # not Mon 28: Boxing Day sub
        ("2027-01-02T10:00", "england", "2027-01-04T17:00:00+00:00"),
        ("2027-01-02T10:00", "scotland", "2027-01-05T17:00:00+00:00"),  # 4 Jan a Scottish holiday
        ("2026-10-25T01:30", "england", "2026-10-26T17:00:00+00:00"),  # the hour that happens twice
        ("2027-03-17T09:00", "northern_ireland", "2027-03-18T17:00:00+00:00"),  # St Patrick's Day
        ("2027-03-17T09:00", "england", "2027-03-18T09:00:00+00:00"),
    ],
)
def test_the_policy_cases(received, nation, expected):
    assert due(received, nation).isoformat() == expected


def test_roll_option_moves_a_weekend_deadline_to_the_next_working_day():
    assert (
        due("2026-11-20T18:30", roll_to_working_day=True).isoformat() == "2026-11-23T18:30:00+00:00"
    )
    assert (
        due("2026-12-24T10:00", roll_to_working_day=True).isoformat() == "2026-12-29T10:00:00+00:00"
    )


def test_closure_days_are_not_working_days():
    closures = (Closure(date(2026, 11, 23), date(2026, 11, 23), "INSET day"),)
    calendar = cal(closures=closures)
    assert calendar.why_not_working(date(2026, 11, 23)) == "INSET day"
    assert calendar.deadline(datetime(2026, 11, 21, 9, tzinfo=LONDON)).due == datetime(
        2026, 11, 24, 17, tzinfo=LONDON
    )


def test_easter_weekend_across_the_spring_clock_change():
    # Good Friday 26 March 2027, clocks forward Sunday 28th, Easter Monday 29th
    result = cal().deadline(datetime(2027, 3, 26, 12, tzinfo=LONDON))
    assert result.due.isoformat() == "2027-03-30T17:00:00+01:00"
    assert "Good Friday" in result.rule


calendars = st.sampled_from(
    [cal(n) for n in ("england", "scotland", "northern_ireland")]
    + [cal("england", roll_to_working_day=True)]
)
moments = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=400, deadline=None)
@given(calendar=calendars, received=moments)
def test_deadline_properties(calendar, received):
    result = calendar.deadline(received)
    local = received.astimezone(LONDON)
    assert result.due > received
    assert result.due.tzinfo is not None
    if calendar.is_working_day(local.date()):
        if calendar.roll_to_working_day:
            assert calendar.is_working_day(result.due.date())
            assert result.due - received >= timedelta(hours=24)
        else:
            assert result.due - received == timedelta(hours=24)
    else:
        assert calendar.is_working_day(result.due.date())
        assert result.due.timetz().replace(tzinfo=None) == time(17, 0)
        between = local.date() + timedelta(days=1)
        while between < result.due.date():  # no working day skipped
            assert not calendar.is_working_day(between)
            between += timedelta(days=1)


def test_deadline_command_prints_iso_time_and_rule():
    result = CliRunner().invoke(
        cli, ["deadline", "--ignore-closures", "--nation", "scotland", "2027-01-02T10:00"]
    )
    assert result.exit_code == 0, result.output
    assert "due: 2027-01-05T17:00:00+00:00" in result.output
    assert "rule: received on a non-working day (weekend)" in result.output
    ambiguous = CliRunner().invoke(cli, ["deadline", "2026-10-25T01:30"])
    assert "happens twice" in ambiguous.output
    bad = CliRunner().invoke(cli, ["deadline", "next tuesday"])
    assert bad.exit_code == 2
