"""Shared fixtures: real settings from the example file, a real SQLite store in a temporary
folder, and the sandbox platform as the backend (like errbot's in-memory test backend)."""

from __future__ import annotations

import email
import socket
import tomllib
from datetime import datetime
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from bot.app import Classifiers, build_classifier, build_pipeline
from bot.config.settings import EXAMPLE_CONFIG, Settings, parse_settings
from connectors.sandbox import SandboxConnector, SandboxPlatform

TESTS = Path(__file__).parent
SMALL_SCENARIO = TESTS / "scenarios" / "small.jsonl"


def example_data() -> dict:
    """The example configuration, rules-only: tests of the rules and the workflow must not
    depend on the model of meaning (tests/test_semantic*.py and test_judgement.py use it)."""
    data = tomllib.loads(EXAMPLE_CONFIG.read_text())
    data["classifiers"] = {**data.get("classifiers", {}), "semantic": False}
    return data


def write_config(folder: Path) -> Path:
    """The example configuration, copied into `folder` with its paths pointing back at the
    repository's rules, templates and scenario and its database, outbox and secrets in
    `folder`; rules only, so subprocesses start fast."""
    base = EXAMPLE_CONFIG.parent
    text = (
        EXAMPLE_CONFIG.read_text()
        .replace('"sandbox/', f'"{base}/sandbox/')
        .replace('database = "../var/modbot.db"', f'database = "{folder}/m.db"')
        .replace('rules_dir = "rules"', f'rules_dir = "{base}/rules"')
        .replace('templates_dir = "templates"', f'templates_dir = "{base}/templates"')
        .replace('outbox_dir = "../var/outbox"', f'outbox_dir = "{folder}/outbox"')
        .replace('backend = "auto"', 'backend = "none"')
        .replace("semantic = true", "semantic = false")
        .replace('exemplars_dir = "exemplars"', f'exemplars_dir = "{base}/exemplars"')
    )
    path = folder / "modbot.toml"
    path.write_text(text)
    return path


@pytest.fixture
def settings_data() -> dict:
    return example_data()


def make_settings(data: dict | None = None, **policy) -> Settings:
    data = data or example_data()
    if policy:
        data["policy"] = {**data.get("policy", {}), **policy}
    return parse_settings(data, EXAMPLE_CONFIG)


@pytest.fixture
def settings() -> Settings:
    return make_settings()


@pytest.fixture(scope="session")
def rules_only() -> Classifiers:
    data = example_data()
    data["classifiers"]["backend"] = "none"
    return build_classifier(parse_settings(data, EXAMPLE_CONFIG))


@pytest.fixture
def sandbox() -> SandboxPlatform:
    return SandboxPlatform.from_scenario(SMALL_SCENARIO, "lks-page")


@pytest.fixture
def make_pipeline(tmp_path, rules_only):
    """Build a pipeline over a given sandbox platform and database, as `modbot run` does."""

    def build(
        platform: SandboxPlatform,
        settings: Settings | None = None,
        db: Path | None = None,
        page_size: int = 3,
    ):
        settings = settings or make_settings()
        db = db or tmp_path / "modbot.db"
        settings = settings.model_copy(  # the jobs beside polling write beside the database
            update={
                "storage": settings.storage.model_copy(update={"database": db}),
                "report": settings.report.model_copy(update={"out_dir": tmp_path / "reports"}),
            }
        )
        key = settings.accounts[0].key
        pipeline, _ = build_pipeline(
            settings,
            db,
            connectors={key: SandboxConnector(platform, page_size)},
            classifiers=rules_only,
            outbox=tmp_path / "outbox",
        )
        return pipeline

    return build


class Clock:
    """A clock the test moves by hand (modbot takes its time from `store.now`)."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Sink:
    """aiosmtpd handler: keeps every message a real local SMTP server is sent."""

    def __init__(self):
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:  # a free port on loopback
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp():
    """A real SMTP server on loopback: yields (sink, port)."""
    port = free_port()
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    yield sink, port
    controller.stop()
