"""The service's scheduler: intervals on the monotonic clock, each account's `next_poll_at`
honoured, a wall clock stepping back an hour changes nothing. Injected clocks; no sleeping."""

from __future__ import annotations

from datetime import timedelta

import responses

from bot.core.errors import RateLimited
from bot.service import Scheduler, build_scheduler
from tests.conftest import example_data, make_settings
from tests.test_connector_errors import (
    GRAPH,
    HIDDEN,
    NOW,
    PAGE,
    buc,
    graph_reply,
    pipeline_for,
    serve_graph_reads,
)


class Monotonic:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def reads(calls) -> int:
    return sum(1 for c in calls if c.request.url.split("?")[0].endswith("/published_posts"))


def test_jobs_run_on_their_interval_coalesce_and_survive_errors():
    mono = Monotonic()
    scheduler = Scheduler(mono)
    ran: list[str] = []
    scheduler.add("a", lambda: ran.append("a"), 300)

    def broken() -> None:
        ran.append("b")
        raise RuntimeError("job bug")

    scheduler.add("b", broken, 60, first_in=60)
    assert scheduler.run_pending() == ["a"]
    mono.t += 60
    assert scheduler.run_pending() == ["b"]  # it raised, and is still scheduled
    mono.t += 3600  # asleep for an hour: each job runs once, not once per missed interval
    assert scheduler.run_pending() == ["a", "b"]
    assert ran == ["a", "b", "a", "b"]
    assert scheduler.seconds_until_next() == 60


def test_submitted_work_runs_first_on_the_scheduler_thread():
    scheduler = Scheduler(Monotonic())
    done: list[str] = []
    scheduler.add("poll", lambda: done.append("poll"), 300)
    scheduler.submit(lambda: done.append("webhook"))
    scheduler.run_pending()
    assert done == ["webhook", "poll"]


@responses.activate
def test_the_service_honours_next_poll_at(tmp_path, rules_only):
    """A Business Use Case limit says 12 minutes: the 5-minute interval does not poll before;
    the first interval after it does."""
    pipeline, _settings, key, clock = pipeline_for(tmp_path, rules_only, "facebook")
    mono = Monotonic()
    scheduler = build_scheduler(pipeline, mono)
    responses.add(
        responses.GET, f"{GRAPH}/{PAGE}/published_posts", **graph_reply("80001", 403, buc(12))
    )
    scheduler.run_pending()
    assert reads(responses.calls) == 1
    for minutes in (5, 10):  # the interval comes round twice: no call to the platform
        mono.t = 1000 + 60 * minutes
        clock.now = NOW + timedelta(minutes=minutes)
        scheduler.run_pending()
        assert reads(responses.calls) == 1
    mono.t = 1000 + 15 * 60
    clock.now = NOW + timedelta(minutes=15)
    responses.reset()
    serve_graph_reads(responses)
    responses.add(responses.POST, f"{GRAPH}/{HIDDEN}", json={"success": True})
    scheduler.run_pending()
    assert reads(responses.calls) >= 1
    assert pipeline.store.accounts.get(key).health == "ok"


@responses.activate
def test_a_restarted_service_still_waits(tmp_path, rules_only):
    pipeline, _settings, key, clock = pipeline_for(tmp_path, rules_only, "facebook")
    pipeline.store.accounts.failed(key, RateLimited("429", retry_after=600))
    mono = Monotonic()
    scheduler = build_scheduler(pipeline, mono)  # a fresh process: nothing in memory
    serve_graph_reads(responses)
    responses.add(responses.POST, f"{GRAPH}/{HIDDEN}", json={"success": True})
    for seconds in (0, 300):
        mono.t, clock.now = 1000 + seconds, NOW + timedelta(seconds=seconds)
        scheduler.run_pending()
        assert reads(responses.calls) == 0
    mono.t, clock.now = 1600, NOW + timedelta(seconds=600)
    scheduler.run_pending()
    assert reads(responses.calls) >= 1


@responses.activate
def test_polling_continues_when_the_wall_clock_steps_back_an_hour(tmp_path, rules_only):
    pipeline, _settings, key, clock = pipeline_for(tmp_path, rules_only, "facebook")
    mono = Monotonic()
    scheduler = build_scheduler(pipeline, mono)
    serve_graph_reads(responses)
    responses.add(responses.POST, f"{GRAPH}/{HIDDEN}", json={"success": True})
    scheduler.run_pending()
    first = reads(responses.calls)
    assert first >= 1
    clock.now = NOW - timedelta(hours=1)  # the wall clock steps back; time itself goes on
    for step in range(1, 4):
        mono.t = 1000 + 300 * step
        scheduler.run_pending()
        assert reads(responses.calls) == first * (step + 1)
        clock.now += timedelta(minutes=5)
    assert pipeline.store.accounts.get(key).health == "ok"


@responses.activate
def test_a_backoff_set_before_the_clock_stepped_back_is_not_stretched(tmp_path, rules_only):
    pipeline, _settings, key, clock = pipeline_for(tmp_path, rules_only, "facebook")
    pipeline.store.accounts.rng = lambda: 1.0  # first backoff: exactly 60 s
    mono = Monotonic()
    scheduler = build_scheduler(pipeline, mono)
    responses.add(
        responses.GET,
        f"{GRAPH}/{PAGE}/published_posts",
        body="<html>502</html>",
        status=502,
        content_type="text/html",
    )
    scheduler.run_pending()
    assert pipeline.store.accounts.get(key).next_poll_at == NOW + timedelta(seconds=60)
    clock.now = NOW - timedelta(hours=1)  # by the wall clock the backoff now ends in 1h01
    mono.t += 300  # the next interval: the minute has really passed
    scheduler.run_pending()
    assert reads(responses.calls) == 2  # polled again, not an hour later
    assert pipeline.store.accounts.get(key).health == "failing"


def test_a_stop_ends_the_loop_after_the_job_in_hand_and_work_handed_over():
    import threading

    stop = threading.Event()
    scheduler = Scheduler(Monotonic())
    done: list[str] = []

    def last_poll() -> None:
        scheduler.submit(lambda: done.append("webhook audit"))  # arrives during the stop
        stop.set()

    scheduler.add("once", last_poll, 300)
    scheduler.add("housekeeping", lambda: done.append("housekeeping"), 60)  # due, not started
    scheduler.run(stop)  # returns: the job set the stop flag
    assert done == ["webhook audit"]


def test_the_service_runs_every_job_it_owes(sandbox, make_pipeline, tmp_path):
    """Polls, housekeeping, the monthly report and the nightly backup; a first round runs
    them all without error (a failing job would be logged and kept, so look at the effects)."""
    data = example_data()
    data["storage"] = {**data.get("storage", {}), "database": str(tmp_path / "m.db")}
    data["report"] = {**data.get("report", {}), "out_dir": str(tmp_path / "reports")}
    pipeline = make_pipeline(sandbox, settings=make_settings(data), db=tmp_path / "m.db")
    scheduler = build_scheduler(pipeline, Monotonic())
    key = pipeline.settings.accounts[0].key
    assert set(scheduler.jobs) == {key, "housekeeping", "monthly report", "nightly backup"}
    assert scheduler.run_pending() == [key, "housekeeping", "monthly report", "nightly backup"]
    assert pipeline.store.accounts.get(key).health == "ok"
    taken = pipeline.store.rows("SELECT count(*) AS n FROM audit WHERE event = 'backup taken'")
    assert taken[0]["n"] == 1 and len(list((tmp_path / "backups").glob("*.db"))) == 1
