"""Email: templates rendered to text and HTML, and two ways out: SMTP (SSL or STARTTLS,
credentials from the environment) or a private folder of .eml files (the demo, and schools
without SMTP yet).

A template that fails to render never stops a message: `render` falls back to a plain message
built in code from the same facts, and says so, so the sender can tell the administrators."""

from __future__ import annotations

import mimetypes
import os
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from html import escape
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


_ITEM_SAMPLE = {
    "school": "Example Primary School",
    "recipient": "Sam Sample",
    "subject": "[modbot] sample",
    "account": "Example Primary (Facebook)",
    "item_id": 1,
    "kind": "reply",
    "categories": "question",
    "severity": "low",
    "due": "Monday 16 November 2026 10:00 GMT",
    "assignee": "Sam Sample",
    "slt": "Sasha Senior",
    "text": "",
    "link": "https://modbot.example/ack?t=sample",
    "out_of_hours": True,
    "dsl_name": "Dee Lead",
    "dsl_phone": "01234 567890",
    "deputy_name": "Dan Deputy",
    "deputy_phone": "01234 567891",
    "acknowledged": False,
    "escalation_id": 1,
    "route": "Children's social care",
    "urgent": True,
    "step": "backup",
}
SAMPLES: dict[str, dict] = {
    "dsl_alert": _ITEM_SAMPLE,
    "reminder": _ITEM_SAMPLE,
    "account": {
        **_ITEM_SAMPLE,
        "health": "auth expired",
        "error": "the token has expired",
        "since": "2026-11-16T08:00:00+00:00",
    },
    "breaker": {**_ITEM_SAMPLE, "health": "more than 40 hidden", "account_key": "facebook:1"},
    "digest": {
        **_ITEM_SAMPLE,
        "when": "Monday 16 November 2026 08:00",
        "since": "Fri 13 Nov 15:30",
        "breaches": [],
        "open": [],
        "waiting": [],
        "upcoming": [],
        "hidden": [{"account": "Example", "reasons": "Offensive language"}],
        "failing": [],
        "stuck_messages": 0,
        "layers": "rules",
    },
    "report": {
        **_ITEM_SAMPLE,
        "month": "November 2026",
        "period": "1–30 November 2026",
        "no_activity": False,
        "moderated": 91,
        "hidden": 25,
        "escalated": 13,
        "replies_needed": 24,
        "ack_rate": "92%",
        "ack_fraction": "33 of 36",
        "attention": ["3 comment(s) were not acknowledged within 24 hours (items 10, 20, 30)."],
        "pdf_name": "report-2026-11.pdf",
    },
}


def template_problems(templates: EmailTemplates) -> list[str]:
    """Every email template rendered with sample data (or, with no sample, parsed): for
    `config check`, which must name the file and line of anything broken."""
    problems = []
    for name in templates.names():
        for suffix, env in (("txt", templates.text_env), ("html", templates.env)):
            path = f"email/{name}.{suffix}"
            try:
                template = env.get_template(f"{name}.{suffix}")
                if name in SAMPLES:
                    template.render(**SAMPLES[name])
            except jinja2.TemplateSyntaxError as exc:
                problems.append(f"{path}:{exc.lineno}: {exc.message}")
            except jinja2.TemplateNotFound:
                problems.append(f"{path}: missing (each email needs a .txt and an .html)")
            except jinja2.TemplateError as exc:
                problems.append(f"{path}: {type(exc).__name__}: {exc}")
    for name in ("dsl_alert", "reminder", "account", "digest"):
        if name not in templates.names():
            problems.append(f"email/{name}.txt: missing (modbot sends this email)")
    return problems


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
    from_address: str,
    to: str,
    subject: str,
    rendered: Rendered,
    message_key: str,
    attachments: list[str] | None = None,
) -> EmailMessage:
    """`attachments`: paths of files to attach (the monthly report's PDF). A file that cannot
    be read is named in the text instead: the message still goes, and is never stuck."""
    files, problems = _read_attachments(attachments or [])
    message = EmailMessage()
    message["From"] = from_address
    message["To"] = to
    message["Subject"] = subject
    message["X-Modbot-Message"] = message_key
    domain = from_address.rsplit("@", 1)[-1] or "modbot.invalid"
    message["Message-ID"] = f"<{message_key}@{domain}>"  # a resend after a crash is the same
    message.set_content(rendered.text + "".join(f"\n\n{p}" for p in problems))
    if rendered.html is not None:
        notes = "".join(f"<p>{escape(p)}</p>" for p in problems)
        message.add_alternative(rendered.html + notes, subtype="html")
    for name, data, ctype in files:
        maintype, subtype = ctype.split("/", 1)
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message


def _read_attachments(paths: list[str]) -> tuple[list[tuple[str, bytes, str]], list[str]]:
    files, problems = [], []
    for raw in paths:
        path = Path(raw)
        try:
            data = path.read_bytes()
        except OSError as exc:
            problems.append(
                f"(The attachment {path.name} could not be read when this email was sent: "
                f"{exc.strerror or exc}. Ask an administrator to send it again.)"
            )
            continue
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        files.append((path.name, data, ctype))
    return files, problems
