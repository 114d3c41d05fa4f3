"""Wiring: settings in, a ready Pipeline out. The only place that knows every part."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import structlog

from bot.acknowledgement.desk import AckDesk
from bot.acknowledgement.digests import digest_context
from bot.config.settings import Settings
from bot.core.clock import Clock, system_clock
from bot.core.errors import ConfigError, ModbotError
from bot.moderation.actions import Executor
from bot.moderation.notices import NoticeTemplates
from bot.moderation.pipeline import Pipeline
from bot.notify.email import EmailTemplates, FolderMailer, Mailer, SmtpMailer
from bot.notify.links import load_secret
from bot.notify.outbox import OutboxSender
from bot.services.retention import purge_old_text
from bot.store import Store
from bot.store.records import MessageKind
from classifiers.base import Classifier, Combined
from classifiers.rules import RulesClassifier
from classifiers.semantic import SemanticLayer
from classifiers.toxicity import ExcusedWordsAside, select_backend
from connectors.base import Connector
from connectors.registry import build_connector

log = structlog.get_logger("modbot.app")


@dataclass
class Classifiers:
    combined: Classifier
    rules: RulesClassifier
    backend_description: str  # the toxicity backend
    semantic: SemanticLayer | None = None  # None: switched off in the configuration

    @property
    def layers(self) -> str:
        """Which judgement layers are active, said plainly (health, digests, logs)."""
        semantic = (
            self.semantic.description
            if self.semantic
            else "semantic layer off (classifiers.semantic = false)"
        )
        return (
            f"rules on ({len(self.rules.rules)} rules); {semantic}; "
            f"toxicity: {self.backend_description}"
        )


def build_classifier(settings: Settings) -> Classifiers:
    rules = RulesClassifier.from_dir(settings.path(settings.classifiers.rules_dir))
    model, description = select_backend(
        settings.classifiers.backend,
        settings.path(settings.classifiers.models_dir),
        settings.classifiers.detoxify_model,
        settings.classifiers.batch_size,
        settings.classifiers.int8,
    )
    if model is not None:
        model = ExcusedWordsAside(model, rules.innocent_text)
    semantic = build_semantic(settings)
    parts = [rules, *([semantic] if semantic else []), *([model] if model else [])]
    return Classifiers(Combined(*parts), rules, description, semantic)


def build_semantic(settings: Settings) -> SemanticLayer | None:
    """The sentence encoder and its heads, loaded now so `modbot health` tells the truth. A bad
    exemplar file is a ConfigError (file and line); a missing or tampered model file is logged
    loudly and leaves the rules deciding alone."""
    if not settings.classifiers.semantic:
        return None
    from classifiers.encoder import MiniLMEncoder
    from classifiers.semantic import SemanticClassifier

    models_dir = settings.path(settings.classifiers.models_dir)
    layer = SemanticLayer(
        SemanticClassifier(
            settings.path(settings.classifiers.exemplars_dir),
            MiniLMEncoder(models_dir),
            models_dir / "semantic",
            floor=min(t.review for t in settings.policy.semantic_tiers.values()),
        )
    )
    layer.load()
    return layer


def notice_templates(settings: Settings) -> NoticeTemplates:
    return NoticeTemplates(
        settings.path(settings.notices.templates_dir),
        settings.school.name,
        settings.school.house_rules_url,
    )


def build_pipeline(
    settings: Settings,
    database: Path | None = None,
    clock: Clock = system_clock,
    connectors: dict[str, Connector] | None = None,
    classifiers: Classifiers | None = None,
    outbox: Path | None = None,
) -> tuple[Pipeline, Classifiers]:
    database = database or settings.path(settings.storage.database)
    store = Store(database, clock=clock)
    classifiers = classifiers or build_classifier(settings)
    if connectors is None:
        connectors = {}
        for acct in settings.accounts:
            try:
                connectors[acct.key] = build_connector(settings, acct, database)
            except ModbotError as exc:
                if isinstance(exc, ConfigError) and len(settings.accounts) == 1:
                    raise
                log.error(
                    "account skipped: its connector could not be built",
                    account=acct.key,
                    error=str(exc),
                )
    executor = Executor(store, settings, notice_templates(settings))
    desk = build_desk(settings, store, database, layers=classifiers.layers)
    pipeline = Pipeline(settings, store, classifiers.combined, connectors, executor, desk=desk)
    pipeline.housekeeping = Housekeeping(desk, build_sender(settings, desk, outbox))
    return pipeline, classifiers


def build_desk(settings: Settings, store: Store, database: Path, layers: str = "") -> AckDesk:
    """The acknowledgement clock: opens items and escalations, queues reminders and digests."""
    secret = load_secret(settings.email.link_secret_env, database.parent / "link-secret")
    return AckDesk(store, settings, settings.school_calendar(), secret, layers)


def build_sender(settings: Settings, desk: AckDesk, outbox: Path | None = None) -> OutboxSender:
    """The job that empties the outbox: SMTP, or .eml files in a private folder."""
    email = settings.email
    mailer: Mailer
    if email.mode == "smtp" and outbox is None:
        mailer = SmtpMailer(email)
    else:
        mailer = FolderMailer(outbox or settings.path(email.outbox_dir))
    item_context = desk.item_context
    return OutboxSender(
        desk.store,
        email.from_address,
        mailer,
        EmailTemplates(settings.path(settings.notices.templates_dir)),
        list(settings.administrators),
        settings.school.name,
        contexts={
            MessageKind.ALERT: item_context,
            MessageKind.REMINDER: item_context,
            MessageKind.BACKUP: item_context,
            MessageKind.BREACH: item_context,
            MessageKind.DIGEST: lambda m: digest_context(desk, m),
        },
    )


@dataclass
class Housekeeping:
    """The jobs beside polling: the acknowledgement clock, the outbox, retention."""

    desk: AckDesk
    sender: OutboxSender

    def __call__(self) -> list[str]:
        done: list[str] = []
        try:
            done += self.desk.tick()
        except Exception:
            log.exception("acknowledgement tick failed; will try again")
        try:
            done += self.sender.drain().sent
        except Exception:
            log.exception("outbox round failed; will try again")
        try:
            purge_old_text(self.desk.store, self.desk.settings)
        except Exception:
            log.exception("retention purge failed; will try again")
        return done
