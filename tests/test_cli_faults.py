"""The fault scenarios again, from the command line: `modbot run --once` in a subprocess against
the sandbox school week and a real local SMTP server. A full disk is a real one: the process
runs with a file-size limit (RLIMIT_FSIZE), so the kernel refuses its writes."""

from __future__ import annotations

import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import Sink, free_port, write_config

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="uses Linux resource limits")


def config(tmp_path: Path, smtp_port: int | None = None, templates: Path | None = None) -> Path:
    path = write_config(tmp_path)
    text = path.read_text()  # write_config: rules only (semantic = false)
    text = text.replace('mode = "shadow"', 'mode = "enforce"')
    if smtp_port:
        text = text.replace('mode = "outbox"', 'mode = "smtp"')
        text = text.replace(
            "[email]", f'[email]\nhost = "127.0.0.1"\nport = {smtp_port}\nsecurity = "none"', 1
        )
    if templates:
        text = text.replace(str(Path(__file__).parents[1] / "config" / "templates"), str(templates))
    path.write_text(text)
    return path


def modbot(cfg: Path, *args: str, file_limit: int | None = None) -> subprocess.CompletedProcess:
    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails, no kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))

    return subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(cfg), *args],
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=limit if file_limit else None,
    )


def db_rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def assert_each_escalation_told_once(db: Path) -> None:
    escalations = db_rows(db, "select count(*) from escalations")[0][0]
    assert escalations > 0
    per = db_rows(
        db, "select item_id, recipient, count(*) from outbox where kind = 'alert' group by 1, 2"
    )
    assert per and all(n == 1 for _, _, n in per)
    items = db_rows(db, "select count(distinct item_id) from outbox where kind = 'alert'")[0][0]
    assert items == escalations


def test_cli_a_full_disk_then_space_freed(tmp_path):
    cfg = config(tmp_path)
    db = tmp_path / "m.db"
    first = modbot(cfg, "run", "--once", file_limit=700_000)
    assert "Traceback" not in first.stderr
    if first.returncode == 0:
        pytest.skip("the school week fitted under the limit on this machine")
    assert first.returncode == 6, first.stderr
    assert "Nothing was lost" in first.stderr
    again = modbot(cfg, "run", "--once")
    assert again.returncode in (0, 5), again.stderr
    statuses = dict(db_rows(db, "select status, count(*) from comments group by 1"))
    assert set(statuses) <= {"done", "gone"}, statuses
    assert_each_escalation_told_once(db)
    assert db_rows(db, "select count(*) from outbox where status != 'sent'")[0][0] == 0


def test_cli_smtp_down_then_up(tmp_path):
    down = free_port()
    cfg = config(tmp_path, smtp_port=down)
    first = modbot(cfg, "run", "--once")
    assert "Traceback" not in first.stderr
    db = tmp_path / "m.db"
    assert db_rows(db, "select count(*) from outbox where status = 'sent'")[0][0] == 0
    assert db_rows(db, "select count(*) from outbox where kind = 'alert'")[0][0] > 0
    hidden = db_rows(db, "select count(*) from actions where kind = 'hide' and status = 'done'")
    assert hidden[0][0] > 0  # hiding never waits for email
    sink = Sink()
    up = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=up)
    controller.start()
    try:
        cfg.write_text(cfg.read_text().replace(f"port = {down}", f"port = {up}"))
        # the failed messages wait for their backoff: a later run (by the clock) sends them
        db_rows(db, "select 1")
        with sqlite3.connect(db) as conn:
            conn.execute("update outbox set next_attempt_at = null")
        assert modbot(cfg, "run", "--once").returncode in (0, 5)
        assert modbot(cfg, "run", "--once").returncode in (0, 5)
    finally:
        controller.stop()
    assert_each_escalation_told_once(db)
    alerts = [m for m in sink.messages if "safeguarding concern" in m["Subject"]]
    keys = [(m["To"], m["Subject"]) for m in alerts]
    assert alerts and len(keys) == len(set(keys))  # each alert to each person exactly once


def test_cli_a_broken_template(tmp_path):
    templates = tmp_path / "templates"
    shutil.copytree(Path(__file__).parents[1] / "config" / "templates", templates)
    (templates / "notices" / "threat.txt").write_text("We hid it {% if %}\n")
    (templates / "email" / "dsl_alert.html").unlink()
    cfg = config(tmp_path, templates=templates)
    check = modbot(cfg, "config", "check")
    assert check.returncode == 3
    assert "notices/threat.txt:1" in check.stderr and "dsl_alert.html" in check.stderr
    run = modbot(cfg, "run", "--once")
    assert run.returncode in (0, 5) and "Traceback" not in run.stderr
    db = tmp_path / "m.db"
    threats = db_rows(
        db,
        "select a.status from actions a join decisions d on d.id = a.decision_id "
        "where d.categories like '%threat%' and a.kind = 'hide'",
    )
    assert threats and {s for (s,) in threats} == {"done"}
    assert_each_escalation_told_once(db)
    assert db_rows(db, "select count(*) from outbox where status != 'sent'")[0][0] == 0
    outbox = tmp_path / "outbox"
    assert all(p.stat().st_mode & 0o077 == 0 for p in outbox.glob("*.eml"))
    assert outbox.stat().st_mode & 0o077 == 0
