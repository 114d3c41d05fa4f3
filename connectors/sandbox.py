"""An in-process platform for the demo and the tests: a real backend, not a mock.

It holds posts and comments from a scenario file (JSON lines), serves them in pages after a
cursor, and carries out hide, unhide, delete and notices, recording each so tests can assert
on the platform's state. With a state file it survives process restarts, so a killed
`modbot run --once` can be run again against the same platform."""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from bot.core.errors import CommentGone, ScenarioError
from bot.core.files import write_private
from bot.core.models import Action, Ban, Comment, Delete, Hide, Notice, Unhide
from connectors.base import Connector, FetchResult

PAGE_SIZE = 25


@dataclass
class SandboxComment:
    seq: int
    id: str
    post: str
    text: str
    created_at: str
    author: str = ""
    author_id: str = ""
    parent: str | None = None
    attachment: bool = False
    hidden: bool = False
    deleted: bool = False


@dataclass
class SandboxPlatform:
    """The platform's own state. One per account; thread-safe."""

    account_id: str
    posts: dict[str, dict] = field(default_factory=dict)
    comments: list[SandboxComment] = field(default_factory=list)
    log: list[dict] = field(default_factory=list)  # every action carried out, in order
    banned: list[str] = field(default_factory=list)  # authors blocked from the account
    problems: list[str] = field(default_factory=list)
    state_file: Path | None = None
    _faults: list[tuple[str, str | None, BaseException, bool]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_scenario(
        cls, path: Path, account_id: str, state_file: Path | None = None
    ) -> SandboxPlatform:
        platform = cls(account_id=account_id, state_file=state_file)
        if state_file and state_file.exists():
            platform._load_state()
            return platform
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ScenarioError(f"cannot read scenario {path}: {exc.strerror}") from None
        for number, line in enumerate(lines, 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            try:
                record = json.loads(line)
                platform.add_record(record)
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                platform.problems.append(f"{path.name} line {number}: skipped ({exc})")
        platform._save_state()
        return platform

    def add_record(self, record: dict) -> None:
        kind = record["type"]
        if kind == "post":
            self.posts[record["id"]] = {
                "id": record["id"],
                "text": record.get("text", ""),
                "created_at": record["created_at"],
            }
        elif kind == "comment":
            if record["post"] not in self.posts:
                raise ValueError(f"comment {record['id']} is on unknown post {record['post']}")
            datetime.fromisoformat(record["created_at"])  # refuse a bad time now, not later
            self.add_comment(
                record["id"],
                record["post"],
                record["text"],
                record["created_at"],
                author=record.get("author", ""),
                author_id=record.get("author_id", ""),
                parent=record.get("parent"),
                attachment=bool(record.get("attachment")),
            )
        else:
            raise ValueError(f"unknown record type {kind!r}")

    def add_comment(self, id: str, post: str, text: str, created_at: str, **kw) -> SandboxComment:
        with self._lock:
            comment = SandboxComment(len(self.comments) + 1, id, post, text, created_at, **kw)
            self.comments.append(comment)
            self._save_state()
            return comment

    def comment(self, comment_id: str) -> SandboxComment:
        for c in self.comments:
            if c.id == comment_id:
                return c
        raise KeyError(comment_id)

    def notices(self, post_id: str | None = None) -> list[SandboxComment]:
        return [
            c
            for c in self.comments
            if c.author_id == self.account_id and (post_id is None or c.post == post_id)
        ]

    def fail_on(
        self,
        kind: str,
        comment_id: str | None = None,
        exc: BaseException | None = None,
        after: bool = False,
    ) -> None:
        """Tests: raise `exc` on the next `kind` action, before or after it takes effect."""
        self._faults.append((kind, comment_id, exc or RuntimeError("injected fault"), after))

    def _fault(self, action: Action, after: bool) -> None:
        for i, (kind, cid, exc, when) in enumerate(self._faults):
            if kind == action.kind and when == after and cid in (None, action.comment_id):
                del self._faults[i]
                raise exc

    def apply(self, action: Action) -> str:
        with self._lock:
            self._fault(action, after=False)
            ref = self._do(action)
            self.log.append({"action": action.kind, "target": action.target, "ref": ref})
            self._save_state()
            self._fault(action, after=True)
            return ref

    def _do(self, action: Action) -> str:
        if isinstance(action, Notice):
            seq = len(self.comments) + 1
            self.comments.append(
                SandboxComment(
                    seq,
                    f"notice-{seq}",
                    action.post_id,
                    action.text,
                    datetime.now().astimezone().isoformat(),
                    author="school",
                    author_id=self.account_id,
                )
            )
            return f"notice-{seq}"
        if isinstance(action, Ban):
            self.banned.append(action.author_id)
            return action.author_id
        try:
            target = self.comment(action.comment_id)
        except KeyError:
            raise CommentGone(
                f"comment {action.comment_id} does not exist",
                platform="sandbox",
                account=self.account_id,
            ) from None
        if target.deleted:
            raise CommentGone(
                f"comment {action.comment_id} was deleted",
                platform="sandbox",
                account=self.account_id,
            )
        if isinstance(action, Hide):
            target.hidden = True
        elif isinstance(action, Unhide):
            target.hidden = False
        elif isinstance(action, Delete):
            target.deleted = True
        return target.id

    def _save_state(self) -> None:
        if not self.state_file:
            return
        state = {
            "posts": self.posts,
            "comments": [asdict(c) for c in self.comments],
            "log": self.log,
            "banned": self.banned,
        }
        tmp = self.state_file.with_suffix(".tmp")
        write_private(tmp, json.dumps(state))  # it holds the words of disclosures: 0600
        tmp.replace(self.state_file)

    def _load_state(self) -> None:
        assert self.state_file is not None
        state = json.loads(self.state_file.read_text())
        self.posts = state["posts"]
        self.comments = [SandboxComment(**c) for c in state["comments"]]
        self.log = state["log"]
        self.banned = state.get("banned", [])


class SandboxConnector(Connector):
    platform = "sandbox"
    supports = frozenset({Hide, Unhide, Delete, Notice, Ban})

    def __init__(self, platform: SandboxPlatform, page_size: int = PAGE_SIZE, clock=None):
        super().__init__(platform.account_id)
        self.sandbox = platform
        self.page_size = page_size
        self.clock = clock

    def fetch(self, cursor: str | None) -> FetchResult:
        after = int(cursor or 0)
        waiting = [c for c in self.sandbox.comments if c.seq > after]
        if self.clock is not None:  # a simulated week: only what has been posted by now
            now = self.clock()
            arrived = 0
            while arrived < len(waiting) and (
                waiting[arrived].author_id == self.account_id  # our own notices
                or datetime.fromisoformat(waiting[arrived].created_at) <= now
            ):
                arrived += 1
            waiting = waiting[:arrived]
        page = waiting[: self.page_size]
        comments = [
            self._to_comment(c) for c in page if c.author_id != self.account_id and not c.deleted
        ]
        new_cursor = str(page[-1].seq) if page else cursor
        return FetchResult(comments, new_cursor, more=len(waiting) > len(page))

    def _to_comment(self, c: SandboxComment) -> Comment:
        return Comment(
            platform=self.platform,
            account=self.account_id,
            post_id=c.post,
            comment_id=c.id,
            text=c.text,
            created_at=datetime.fromisoformat(c.created_at),
            author_id=c.author_id or c.author,
            author_handle=c.author,
            parent_id=c.parent,
            permalink=f"sandbox://{self.account_id}/{c.post}/{c.id}",
            has_attachment=c.attachment,
        )

    def _apply(self, action: Action) -> str:
        return self.sandbox.apply(action)

    def already_applied(self, action: Action) -> bool | None:
        if isinstance(action, Notice):
            return any(n.text == action.text for n in self.sandbox.notices(action.post_id))
        try:
            target = self.sandbox.comment(action.comment_id)
        except KeyError:
            return None
        return {Hide: target.hidden, Unhide: not target.hidden, Delete: target.deleted}.get(
            type(action)
        )
