"""Email alerts: rendered from Jinja2 templates (text and HTML), sent over SMTP (SSL or
STARTTLS, credentials from the environment) or written to a local outbox folder (the demo).

Every message is recorded once per (item, step, recipient) before it is sent: a restart never
sends a step twice, and a failed send stays `failed` and is retried on the next tick, never
lost."""

from __future__ import annotations

import os
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

import jinja2
import structlog

from bot.config.settings import Email, Person
from bot.core.clock import iso
from bot.store import Store

log = structlog.get_logger("modbot.notify")
MAX_SEND_ATTEMPTS = 5


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None: ...


class SmtpMailer:
    def __init__(self, config: Email, timeout: float = 30):
        self.config = config
        self.timeout = timeout

    def send(self, message: EmailMessage) -> None:
        c = self.config
        user = os.environ.get(c.username_env or "", "")
        password = os.environ.get(c.password_env or "", "")
        if c.security == "ssl":
            server = smtplib.SMTP_SSL(
                c.host, c.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            server = smtplib.SMTP(c.host, c.port, timeout=self.timeout)
        with server:
            if c.security == "starttls":
                server.starttls(context=ssl.create_default_context())
            if user:
                server.login(user, password)
            server.send_message(message)


class OutboxMailer:
    """Writes each message as an .eml file: for the demo and for schools without SMTP yet."""

    def __init__(self, folder: Path):
        self.folder = folder

    def send(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        number = len(list(self.folder.glob("*.eml"))) + 1
        (self.folder / f"{number:05d}.eml").write_bytes(bytes(message))


class Notifier:
    def __init__(self, store: Store, config: Email, mailer: Mailer, templates_dir: Path):
        self.store = store
        self.config = config
        self.mailer = mailer
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(templates_dir / "email")),
            undefined=jinja2.StrictUndefined,
            autoescape=True,
        )

    def render(self, template: str, context: dict) -> tuple[str, str]:
        text_env = self.env.overlay(autoescape=False)
        text = text_env.get_template(f"{template}.txt").render(**context)
        html = self.env.get_template(f"{template}.html").render(**context)
        return text, html

    def notify(
        self, item_id: int, step: str, recipient: Person, subject: str, template: str, context: dict
    ) -> str:
        """Send once. Returns the row's status: sent, failed, or already-sent."""
        table = self.store.db["notifications"]
        table.insert(
            {
                "item_id": item_id,
                "step": step,
                "recipient": recipient.name,
                "address": recipient.email,
                "subject": subject,
                "status": "pending",
                "created_at": iso(self.store.now()),
            },
            ignore=True,
        )
        row = next(
            table.rows_where(
                "item_id = ? and step = ? and recipient = ?", [item_id, step, recipient.name]
            )
        )
        if row["status"] == "sent":
            return "already-sent"
        if row["attempts"] >= MAX_SEND_ATTEMPTS:
            return "failed"
        return self._send(row, recipient, subject, template, context)

    def retry_failed(self, renderer) -> int:
        """Resend failed or interrupted messages; `renderer(row)` rebuilds their content."""
        rows = list(
            self.store.db["notifications"].rows_where(
                "status in ('failed', 'pending') and attempts < ?", [MAX_SEND_ATTEMPTS]
            )
        )
        for row in rows:
            recipient, template, context = renderer(row)
            self._send(row, recipient, row["subject"], template, context)
        return len(rows)

    def _send(
        self, row: dict, recipient: Person, subject: str, template: str, context: dict
    ) -> str:
        text, html = self.render(
            template, {**context, "recipient": recipient.name, "step": row["step"]}
        )
        message = EmailMessage()
        message["From"] = self.config.from_address
        message["To"] = recipient.email
        message["Subject"] = subject
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        table = self.store.db["notifications"]
        try:
            self.mailer.send(message)
        except (OSError, smtplib.SMTPException) as exc:
            table.update(
                row["id"],
                {"status": "failed", "attempts": row["attempts"] + 1, "error": str(exc)[:300]},
            )
            log.error(
                "email not sent; will retry", to=recipient.email, step=row["step"], error=str(exc)
            )
            return "failed"
        table.update(
            row["id"],
            {
                "status": "sent",
                "attempts": row["attempts"] + 1,
                "sent_at": iso(self.store.now()),
                "error": None,
            },
        )
        self.store.audit(
            "notification.sent", item=row["item_id"], step=row["step"], recipient=recipient.name
        )
        return "sent"
