"""The long-running bot: one job per account poll, the housekeeping job (acknowledgement clock,
outbox, retention), the monthly report and nightly backup checks, optional webhooks, a lock
against two copies, and a clean stop.

Intervals are measured on the monotonic clock. APScheduler 3 (used before) computes every wait
from the wall clock, so when the clock steps back an hour (an NTP correction, a restored VM)
its interval jobs stall for that hour and nothing is watched; a small loop on `time.monotonic`
cannot be fooled that way. The wall clock is used only for an account's `next_poll_at` (a rate
limit's reset or a backoff), which the accounts repository clamps to the delay it was given.

Jobs run one at a time on the service's thread (SQLite has one writer anyway), missed runs are
coalesced, and webhook deliveries are handed to the same thread. SIGTERM or Ctrl-C sets a stop
flag: the batch in hand is finished, then the service stops."""

from __future__ import annotations

import fcntl
import os
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import structlog

from bot.config.settings import Account
from bot.core.errors import LockHeld
from bot.moderation.pipeline import Pipeline

log = structlog.get_logger("modbot.service")
HOUSEKEEPING_SECONDS = 60.0
REPORT_CHECK_SECONDS = 300.0  # the monthly report job asks whether it is time
BACKUP_CHECK_SECONDS = 600.0  # the nightly backup job asks whether a copy is due
MAX_SLEEP = 30.0  # wake at least this often, to notice a stop


@contextmanager
def process_lock(database: Path) -> Iterator[Path]:
    """Only one modbot may moderate a database: two would act twice."""
    lock_path = database.with_name(database.name + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            raise LockHeld(
                f"another modbot (pid {holder}) is already moderating {database}; stop it first"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield lock_path
    finally:
        os.close(fd)


@dataclass
class Job:
    name: str
    run: Callable[[], object]
    interval: float
    due: float  # monotonic seconds


class Scheduler:
    """Interval jobs on the monotonic clock, run one at a time on the thread that calls
    `run_pending` (or `run`). Other threads hand work over with `submit`."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic):
        self.monotonic = monotonic
        self.jobs: dict[str, Job] = {}
        self._submitted: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._wake = threading.Event()

    def add(self, name: str, run: Callable[[], object], interval: float, first_in: float = 0.0):
        self.jobs[name] = Job(name, run, interval, self.monotonic() + first_in)

    def postpone(self, name: str, seconds: float) -> None:
        """Run `name` no sooner than `seconds` from now (a rate limit, a backoff)."""
        job = self.jobs[name]
        job.due = max(job.due, self.monotonic() + seconds)

    def submit(self, work: Callable[[], None]) -> None:
        """Thread-safe: run `work` on the scheduler's thread, before the next due job."""
        self._submitted.put(work)
        self._wake.set()

    def wake(self) -> None:
        self._wake.set()

    def run_pending(self, stop: threading.Event | None = None) -> list[str]:
        """Run submitted work, then every job that is due, each once (missed runs coalesce).
        A job that raises is logged and runs again at its next interval. Once `stop` is set,
        no further job starts: a stop waits for the job in hand only."""
        ran = ["submitted"] * self._run_submitted()
        for job in list(self.jobs.values()):
            if stop is not None and stop.is_set():
                break
            started = self.monotonic()
            if job.due > started:
                continue
            self._guarded(job.name, job.run)
            job.due = max(job.due, started + job.interval)  # a postpone during the run wins
            ran.append(job.name)
        return ran

    def _run_submitted(self) -> int:
        count = 0
        while True:
            try:
                work = self._submitted.get_nowait()
            except queue.Empty:
                return count
            self._guarded("submitted work", work)
            count += 1

    def seconds_until_next(self) -> float:
        if not self.jobs:
            return MAX_SLEEP
        return max(0.0, min(j.due for j in self.jobs.values()) - self.monotonic())

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.run_pending(stop)
            if stop.is_set():
                break
            self._wake.wait(min(self.seconds_until_next(), MAX_SLEEP))
            self._wake.clear()
        self._run_submitted()  # handed over before the stop (an audit, a delivery): not lost

    @staticmethod
    def _guarded(name: str, work: Callable[[], object]) -> None:
        try:
            work()
        except Exception:
            log.exception("job failed; it runs again at its next interval", job=name)


def poll_job(pipeline: Pipeline, acct: Account, scheduler: Scheduler) -> Callable[[], None]:
    """Poll `acct` on its interval, but not while its `next_poll_at` (a rate limit, a backoff)
    says wait. The wait is also counted on the monotonic clock: once it has really passed, the
    account is polled even if the wall clock stepped back meanwhile. `modbot accounts resume`
    clears the wait; the next interval then polls."""
    accounts = pipeline.store.accounts
    until: float | None = None  # monotonic end of the wait in force

    def run() -> None:
        nonlocal until
        now = scheduler.monotonic()
        wait = accounts.wait_seconds(acct.key)
        if wait > 0:
            if until is None:  # first seen here: a restart, or set while acting
                until = now + wait
            if now < until:
                log.info("not polling yet", account=acct.key, wait_seconds=round(wait))
                return
        until = None
        pipeline.poll_account(acct)
        wait = accounts.wait_seconds(acct.key)
        if wait > 0:
            until = scheduler.monotonic() + wait

    return run


def build_scheduler(
    pipeline: Pipeline, monotonic: Callable[[], float] = time.monotonic
) -> Scheduler:
    scheduler = Scheduler(monotonic)
    for acct in pipeline.settings.accounts:
        if acct.key in pipeline.connectors:
            scheduler.add(acct.key, poll_job(pipeline, acct, scheduler), acct.poll_interval_seconds)
    if pipeline.housekeeping is not None:
        scheduler.add("housekeeping", pipeline.housekeeping, HOUSEKEEPING_SECONDS)
    scheduler.add("monthly report", lambda: _monthly_report(pipeline), REPORT_CHECK_SECONDS)
    scheduler.add("nightly backup", lambda: _nightly_backup(pipeline), BACKUP_CHECK_SECONDS)
    return scheduler


def _monthly_report(pipeline: Pipeline) -> list[str]:
    """Cheap until it is time (bot/reports/job.py)."""
    from bot.reports.job import monthly_report_job

    return monthly_report_job(pipeline.settings, pipeline.store, pipeline.store.now())


def _nightly_backup(pipeline: Pipeline) -> Path | None:
    from bot.store.backup import nightly_backup

    return nightly_backup(pipeline.settings, pipeline.store, pipeline.store.now())


def run_forever(
    pipeline: Pipeline,
    stop: threading.Event | None = None,
    webhooks=None,
) -> None:
    """Poll every account on its interval until stopped. `webhooks`: a WebhookSettings to also
    serve Meta webhooks (default: from the environment, see bot.faces.webhooks)."""
    stop = stop or pipeline.stop
    scheduler = build_scheduler(pipeline)
    webhook_settings = webhooks
    if webhook_settings is None and os.environ.get("MODBOT_WEBHOOK_PORT"):
        from bot.faces.webhooks import WebhookSettings

        webhook_settings = WebhookSettings.from_env()
    server = None
    if webhook_settings is not None:
        from bot.faces import webhooks as hooks

        app = hooks.create_app(
            pipeline, webhook_settings.app_secret, webhook_settings.verify_token, scheduler.submit
        )
        server = hooks.serve(app, webhook_settings)
        threading.Thread(target=server.run, name="webhooks", daemon=True).start()

    def request_stop(signum: int) -> None:
        log.info("stop requested; finishing the batch in hand", signal=signal.Signals(signum).name)
        stop.set()
        pipeline.stop.set()
        scheduler.wake()

    restore_signals = _stop_on_signals(request_stop)

    def wake_on_stop() -> None:  # a stop set by another thread ends the wait at once
        stop.wait()
        scheduler.wake()

    threading.Thread(target=wake_on_stop, daemon=True).start()
    log.info(
        "modbot running",
        accounts=[a.key for a in pipeline.settings.accounts if a.key in scheduler.jobs],
        jobs=sorted(scheduler.jobs),
        webhooks=webhook_settings.port if webhook_settings else None,
    )
    try:
        scheduler.run(stop)
    finally:
        if server is not None:
            server.should_exit = True
        restore_signals()
        log.info("modbot stopped cleanly")


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def _ignore(_signum: int, _frame: object) -> None:
    """The Python-level handler does nothing: the signal is read from the wakeup pipe."""


def _stop_on_signals(request_stop: Callable[[int], None]) -> Callable[[], None]:
    """Call `request_stop(signum)` on SIGTERM or SIGINT, from a thread of its own.

    Why not in the signal handler: a handler runs in the main thread between two bytecodes,
    and if that thread is inside a logger or an Event (each holds a lock) when the signal
    lands, logging or setting an Event from the handler waits for ever on that lock (seen: a
    SIGTERM during the "modbot running" log line hung the service). The C-level wakeup fd
    takes no Python lock: the signal number is written to a pipe, and a thread acts on it.
    Returns a function that puts the previous handlers back."""
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    previous_fd = signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    previous = {s: signal.signal(s, _ignore) for s in STOP_SIGNALS}

    def watch() -> None:  # owns the read end: closed here, once the write end is gone
        with os.fdopen(read_end, "rb", buffering=0) as pipe:
            while data := pipe.read(64):
                for signum in data:
                    if signum in STOP_SIGNALS:
                        request_stop(signum)

    threading.Thread(target=watch, name="signals", daemon=True).start()

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        signal.set_wakeup_fd(previous_fd)
        os.close(write_end)  # the watcher reads the end of the pipe and closes its side

    return restore
