"""The connector protocol.

A connector reads new comments after a cursor and carries out typed actions. It declares the
action types it supports; asked for anything else it raises `Unsupported` at once, naming
itself and the action, so the pipeline can fall back (e.g. X cannot delete: hide and flag)."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

from bot.core.errors import ConnectorError, Unsupported
from bot.core.models import Action, Comment

MINUTE = 60.0


@dataclass(frozen=True)
class ErrorRule:
    """How one documented platform error ends, in a platform's error table (graph_errors,
    x_errors): the modbot error it becomes, what it means in words, and for rate limits the
    default wait when the platform does not say."""

    error: type[ConnectorError]
    meaning: str
    wait: float | None = None  # default seconds before trying again (rate limits)


@dataclass
class FetchResult:
    """New comments, oldest first, and the cursor to store once they are safely recorded."""

    comments: list[Comment]
    cursor: str | None
    more: bool = False  # another page is waiting: fetch again with the new cursor
    problems: list[str] = field(default_factory=list)  # items skipped, each said with why


class Connector(ABC):
    platform: ClassVar[str]
    supports: ClassVar[frozenset[type[Action]]]
    unsupported_why: ClassVar[dict[type[Action], str]] = {}  # said when refusing an action

    def __init__(self, account_id: str):
        self.account_id = account_id
        # One account is processed by one thread at a time (scheduled poll or webhook).
        self.lock = threading.RLock()

    @property
    def name(self) -> str:
        return f"{self.platform}:{self.account_id}"

    def can(self, action_type: type[Action]) -> bool:
        return action_type in self.supports

    @abstractmethod
    def fetch(self, cursor: str | None) -> FetchResult:
        """Comments newer than `cursor` (None: start of the configured window)."""

    def apply(self, action: Action) -> str:
        """Carry out `action`; returns the platform's reference (e.g. the notice's id)."""
        if type(action) not in self.supports:
            raise Unsupported(
                self.name,
                type(action).__name__,
                self.unsupported_why.get(type(action), ""),
                platform=self.platform,
                account=self.account_id,
            )
        return self._apply(action)

    @abstractmethod
    def _apply(self, action: Action) -> str: ...

    def already_applied(self, action: Action) -> bool | None:
        """After a crash: is this action already done on the platform? None when unknown."""
        return None

    def notice_allowed(self, comment: Comment) -> bool:
        """Whether a public notice about this comment would appear under the school's own post
        (where the school speaks), not in the author's own thread."""
        return True
