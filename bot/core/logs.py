"""structlog set-up: readable on a terminal, JSON lines otherwise, secrets always scrubbed.

Every log value goes through `bot.core.redact` (registered secrets and anything shaped like a
token are removed), and keys that name a secret (token, password, authorization...) are never
printed."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

from bot.core.redact import REDACTED, redact, register_secret

__all__ = ["REDACTED", "configure", "redact_processor", "register_secret", "scrub"]
_SECRET_KEY = re.compile(r"token|secret|password|passwd|authorization|api_key|bearer", re.I)
scrub = redact  # the name earlier callers used


def _redact(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: REDACTED if _SECRET_KEY.search(str(k)) else _redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_redact(v) for v in value)
    if isinstance(value, BaseException):
        return redact(f"{type(value).__name__}: {value}")
    return value


def redact_processor(
    _logger: Any, _name: str, event: MutableMapping[str, Any]
) -> Mapping[str, Any]:
    return _redact(event)


def configure(json_output: bool | None = None, level: str = "INFO", stream=None) -> None:
    _redact_library_logs(stream)
    stream = stream or sys.stderr
    if json_output is None:
        json_output = not stream.isatty()
    renderer = (
        structlog.processors.JSONRenderer()
        if json_output
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact_processor,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )


class _RedactingFilter(logging.Filter):
    """Libraries log through the standard library (tweepy's debug log prints the request
    headers, bearer token included): their messages go through the same boundary."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage()), None
        return True


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (tests swap it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def _redact_library_logs(stream) -> None:
    """One handler on the root logger, warnings and worse, every message redacted."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_modbot", False)]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler._modbot = True  # type: ignore[attr-defined]
    handler.setLevel(logging.WARNING)
    handler.addFilter(_RedactingFilter())
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
