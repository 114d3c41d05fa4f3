"""The job that empties the outbox: render each due message, send it, mark it sent.

Nothing here decides *whether* to tell someone; that was decided, and written down, in the
transaction that changed the state (see bot/store/outbox.py). This job only delivers:
- a broken or missing template never blocks a message: a plain fallback goes out, the error is
  logged loudly, and the administrators are told once a day per template;
- a send that fails (SMTP down, disk full) is retried with backoff (1, 2, 4 ... 30 minutes),
  for ever: an outbox row is never given up on;
- when the mail server cannot be reached the round stops, so one outage does not cost
  every message a timeout.
The one double possible: a message accepted by the server just before a crash, and not yet
marked sent, is sent again (with the same Message-ID)."""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import structlog

from bot.config.settings import Person
from bot.core.logs import scrub
from bot.notify.email import EmailTemplates, Mailer, build_message
from bot.store.records import Message, MessageKind, NewMessage

log = structlog.get_logger("modbot.outbox")
ContextBuilder = Callable[[Message], dict]
MAX_BACKOFF = timedelta(minutes=30)
STUCK_AFTER = 3  # attempts after which health and digests name a message


def backoff(attempts: int) -> timedelta:
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


@dataclass
class DrainReport:
    sent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    fallbacks: list[str] = field(default_factory=list)


class OutboxSender:
    def __init__(
        self,
        store,
        from_address: str,
        mailer: Mailer,
        templates: EmailTemplates,
        administrators: list[Person],
        school: str,
        contexts: dict[MessageKind, ContextBuilder] | None = None,
    ):
        self.store = store
        self.from_address = from_address
        self.mailer = mailer
        self.templates = templates
        self.administrators = administrators
        self.school = school
        self.contexts: dict[MessageKind, ContextBuilder] = dict(contexts or {})

    def drain(self, limit: int = 200) -> DrainReport:
        """Send what is due, including messages the round itself writes (a template problem
        told to the administrators). Each message is tried at most once a round."""
        report = DrainReport()
        tried: set[int] = set()
        while len(tried) < limit:
            due = [m for m in self.store.outbox.due(self.store.now(), limit) if m.id not in tried]
            if not due:
                break
            for message in due:
                tried.add(message.id)
                if not self._deliver(message, report):
                    return report  # the mail server is unreachable: the rest waits
        return report

    def _context(self, message: Message) -> dict:
        base = {
            "school": self.school,
            "recipient": message.recipient,
            "subject": message.subject,
            **message.context,
        }
        builder = self.contexts.get(message.kind)
        if builder is None:
            return base
        try:
            return {**base, **builder(message)}
        except Exception as exc:  # the facts could not be gathered: send what we have
            log.exception("message context failed; sending the plain facts", message=message.id)
            return {**base, "error": base.get("error") or f"details unavailable ({exc!r})"}

    def _deliver(self, message: Message, report: DrainReport) -> bool:
        """Send one message. False when the mail server itself is unreachable."""
        context = self._context(message)
        rendered = self.templates.render(message.template, context)
        if rendered.problem and message.kind is not MessageKind.TEMPLATE:
            log.error("EMAIL TEMPLATE BROKEN: plain fallback sent", problem=rendered.problem)
            report.fallbacks.append(f"{message.id}: {rendered.problem}")
            self._tell_administrators(message.template, rendered.problem)
        email = build_message(
            self.from_address,
            message.address,
            str(context.get("subject") or message.subject),
            rendered,
            f"modbot-{message.id}-{message.kind.value}",
            context.get("attachments"),
        )
        try:
            self.mailer.send(email)
        except (OSError, smtplib.SMTPException) as exc:
            error = scrub(f"{type(exc).__name__}: {exc}")
            attempts = self.store.outbox.failed(
                message.id, error, self.store.now() + backoff(message.attempts + 1)
            )
            log.error(
                "email not sent; it stays in the outbox and is retried",
                message=message.id,
                kind=message.kind.value,
                to=message.recipient,
                attempts=attempts,
                error=error,
            )
            report.failed.append(f"{message.id} {message.kind.value} -> {message.recipient}")
            unreachable = isinstance(exc, OSError | smtplib.SMTPServerDisconnected)
            return not unreachable
        with self.store.transaction():
            self.store.outbox.sent(message.id)
            self.store.audit(
                "message.sent",
                kind=message.kind.value,
                message=message.id,
                recipient=message.recipient,
                item=message.item_id,
                escalation=message.escalation_id,
            )
        report.sent.append(f"{message.kind.value} -> {message.recipient}")
        return True

    def _tell_administrators(self, template: str, problem: str) -> None:
        day = self.store.now().date().isoformat()
        for person in self.administrators:
            self.store.outbox.put(
                NewMessage(
                    kind=MessageKind.TEMPLATE,
                    dedupe=f"template:{template}:{day}:{person.name}",
                    recipient=person.name,
                    address=person.email,
                    template="",  # never a template: this message must always go out
                    subject=f"[modbot] ACTION NEEDED: email template {template!r} is broken",
                    context={
                        "error": problem,
                        "health": "modbot sent plain fallback messages instead; fix the "
                        "template and run `modbot config check`",
                    },
                )
            )
