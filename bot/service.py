"""The long-running bot: one APScheduler job per account, a lock, and a clean stop.

Jobs run one at a time on a single worker (SQLite has one writer anyway), never two runs of the
same account at once, missed runs coalesced. SIGTERM or Ctrl-C sets a stop flag: the batch in
hand is finished, then the scheduler shuts down."""

from __future__ import annotations

import fcntl
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import structlog
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from bot.core.errors import LockHeld
from bot.moderation.pipeline import Pipeline

log = structlog.get_logger("modbot.service")


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


def run_forever(pipeline: Pipeline, stop: threading.Event | None = None) -> None:
    stop = stop or pipeline.stop
    scheduler = BackgroundScheduler(
        executors={"default": ThreadPoolExecutor(1)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    )
    for acct in pipeline.settings.accounts:
        if acct.key not in pipeline.connectors:
            continue
        scheduler.add_job(
            pipeline.poll_account,
            "interval",
            args=[acct],
            id=acct.key,
            name=f"poll {acct.key}",
            seconds=acct.poll_interval_seconds,
            next_run_time=datetime.now(UTC),
        )

    if pipeline.desk is not None:
        scheduler.add_job(
            pipeline.tick,
            "interval",
            id="acknowledgement-clock",
            name="acknowledgement reminders",
            seconds=60,
            next_run_time=datetime.now(UTC),
        )

    def _stop(signum: int, _frame: object) -> None:
        log.info("stop requested; finishing the batch in hand", signal=signal.Signals(signum).name)
        stop.set()
        pipeline.stop.set()

    previous = {s: signal.signal(s, _stop) for s in (signal.SIGTERM, signal.SIGINT)}
    scheduler.start()
    log.info("modbot running", accounts=[j.id for j in scheduler.get_jobs()])
    try:
        stop.wait()
    finally:
        scheduler.shutdown(wait=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        log.info("modbot stopped cleanly")
