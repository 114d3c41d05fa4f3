"""Email: templates rendered to text and HTML, and two ways out: SMTP (SSL or STARTTLS,
credentials from the environment) or a private folder of .eml files (the demo, and schools
without SMTP yet).

A template that fails to render never stops a message: `render` falls back to a plain message
built in code from the same facts, and says so, so the sender can tell the administrators."""

from __future__ import annotations

import os
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

import jinja2

from bot.config.settings import Email
from bot.core.files import private_dir, write_private


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
        server: smtplib.SMTP
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


class FolderMailer:
    """Writes each message as `<outbox id>.eml`, 0600 in a 0700 folder. Named by the outbox
    row, so sending the same row twice writes the same file."""

    def __init__(self, folder: Path):
        self.folder = folder

    def send(self, message: EmailMessage) -> None:
        private_dir(self.folder)
        name = str(message["X-Modbot-Message"] or "message").replace("/", "_")
        write_private(self.folder / f"{name}.eml", bytes(message))


OutboxMailer = FolderMailer  # the name the README and older configs use


@dataclass(frozen=True)
class Rendered:
    text: str
    html: str | None
    problem: str | None = None  # set when the template failed and the fallback was used


class EmailTemplates:
    def __init__(self, templates_dir: Path):
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(templates_dir / "email")),
            undefined=jinja2.StrictUndefined,
            autoescape=True,
        )
        self.text_env = self.env.overlay(autoescape=False)

    def names(self) -> list[str]:
        return sorted({n.rsplit(".", 1)[0] for n in self.env.list_templates()})

    def render_strict(self, template: str, context: dict) -> tuple[str, str]:
        """Render or raise: for `config check`, which must find every broken template."""
        text = self.text_env.get_template(f"{template}.txt").render(**context)
        html = self.env.get_template(f"{template}.html").render(**context)
        return text, html

    def render(self, template: str, context: dict) -> Rendered:
        try:
            text, html = self.render_strict(template, context)
            return Rendered(text, html)
        except (jinja2.TemplateError, OSError, TypeError, ValueError) as exc:
            problem = f"email template {template!r} could not be used: {type(exc).__name__}: {exc}"
            return Rendered(fallback_text(context), None, problem)


def fallback_text(context: dict) -> str:
    """A plain message from the facts alone, used when a template is broken or missing."""
    lines = [f"Dear {context.get('recipient', '')},", ""]
    if context.get("escalation_id"):
        lines.append(
            f"modbot has raised a safeguarding concern: escalation {context['escalation_id']}"
            + (" (URGENT)" if context.get("urgent") else "")
            + "."
        )
    for label, key in (
        ("About", "subject"),
        ("Account", "account"),
        ("Reference", "item_id"),
        ("Category", "categories"),
        ("Suggested route", "route"),
        ("Due", "due"),
        ("Problem", "health"),
        ("What the platform said", "error"),
        ("Open it here", "link"),
    ):
        if context.get(key):
            lines.append(f"{label}: {context[key]}")
    lines += [
        "",
        "(This is modbot's plain fallback message: the usual email template could not be used,",
        "and the administrators have been told.)",
        "",
        f"modbot, for {context.get('school', 'your school')}",
    ]
    return "\n".join(lines)


def build_message(
    from_address: str, to: str, subject: str, rendered: Rendered, message_key: str
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = from_address
    message["To"] = to
    message["Subject"] = subject
    message["X-Modbot-Message"] = message_key
    domain = from_address.rsplit("@", 1)[-1] or "modbot.invalid"
    message["Message-ID"] = f"<{message_key}@{domain}>"  # a resend after a crash is the same
    message.set_content(rendered.text)
    if rendered.html is not None:
        message.add_alternative(rendered.html, subtype="html")
    return message
