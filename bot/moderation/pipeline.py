"""The one module that calls them all: poll -> record -> classify (batches) -> decide -> act.

Order matters for "nothing lost, nothing twice": comments are written to the store before
the cursor moves; a decision is written before any action; each action is written as intended
before the platform call. One bad comment or one failing account is logged and skipped, never
fatal to the rest."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import structlog

from bot.config.settings import Account, Settings
from bot.core.clock import iso
from bot.core.errors import AuthExpired, ConnectorError, PermissionMissing, RateLimited
from bot.core.logs import scrub
from bot.core.models import Category, Comment, Decision, DecisionAction, Severity, Verdict
from bot.core.redact import redact
from bot.moderation.actions import Executor, Outcome
from bot.moderation.policy import decide
from bot.store import Store
from classifiers.base import Classifier
from connectors.base import Connector

log = structlog.get_logger("modbot.pipeline")
MAX_PAGES_PER_POLL = 200  # a bound, so one runaway account cannot starve the others


@dataclass
class AccountReport:
    key: str
    fetched: int = 0
    processed: int = 0
    decisions: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    health: str = "ok"


def comment_from_row(row: dict) -> Comment:
    return Comment(
        platform=row["platform"],
        account=row["account"],
        post_id=row["post_id"],
        comment_id=row["comment_id"],
        text=row["text"] or "",
        created_at=datetime.fromisoformat(row["created_at"]),
        author_id=row["author_id"] or "",
        author_handle=row["author_handle"] or "",
        parent_id=row["parent_id"],
        permalink=row["permalink"] or "",
        has_attachment=bool(row["has_attachment"]),
    )


def decision_from_row(row: dict) -> Decision:
    return Decision(
        DecisionAction(row["action"]),
        tuple(Category(c) for c in json.loads(row["categories"])),
        tuple(json.loads(row["reasons"])),
        row["notice_template"],
        Severity(row["severity"]),
        hide=bool(row.get("hide", 1)),
    )


class Pipeline:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        classifier: Classifier,
        connectors: dict[str, Connector],
        executor: Executor,
        stop: threading.Event | None = None,
        desk=None,
    ):
        self.settings = settings
        self.store = store
        self.classifier = classifier
        self.connectors = connectors
        self.executor = executor
        self.stop = stop or threading.Event()
        self.desk = desk  # AckDesk: opens items and escalations with each decision
        self.housekeeping: Callable[[], list[str]] | None = None  # set by bot.app
        for acct in settings.accounts:
            if acct.key in connectors:
                store.accounts.ensure(acct.key, acct.platform, acct.account_id, acct.display_name)

    def run_once(self) -> list[AccountReport]:
        reports = []
        for acct in self.settings.accounts:
            if self.stop.is_set():
                break
            if acct.key in self.connectors:
                reports.append(self.poll_account(acct))
        return reports

    def poll_account(self, acct: Account, arrived: list[Comment] | None = None) -> AccountReport:
        """Read new comments, then act on everything pending. The account's health comes from
        every platform call (store.accounts): it is `ok` again only after a poll in which
        nothing failed, and people are told once per episode when a person must act.

        `arrived`: comments a webhook delivered. They are recorded (idempotently, as a read
        would) and processed at once, without reading the platform; polling is the backstop."""
        report = AccountReport(acct.key)
        accounts = self.store.accounts
        with self.connectors[acct.key].lock:  # a poll and a webhook delivery take turns
            mark = accounts.mark(acct.key)
            try:
                if arrived is None:
                    self._fetch_all(acct, report)
                else:
                    report.fetched = sum(self.store.record_comment(c) for c in arrived)
                fetched = arrived is None
            except Exception as exc:
                fetched = False
                failure = accounts.failed(acct.key, exc)
                report.health = failure.health
                report.errors.append(failure.error)
                if failure.new_episode:
                    self.store.audit(
                        f"account.{failure.health}", platform=acct.platform, account=acct.key
                    )
                if failure.needs_person:
                    log.error(
                        "this account is NOT being watched until an administrator fixes it",
                        account=acct.key,
                        error=failure.error,
                    )
                    if failure.alert and self.desk is not None:  # an unwatched account is a risk
                        state = accounts.get(acct.key)
                        since = iso(state.last_ok_at) if state and state.last_ok_at else None
                        self.desk.account_alert(acct, failure.health, failure.error, since)
                else:
                    log.warning(
                        "poll failed; cursor kept, will retry",
                        account=acct.key,
                        error=failure.error,
                        consecutive_failures=failure.failures,
                        next_poll_at=failure.next_poll_at,
                        crashed=not isinstance(exc, ConnectorError),
                    )
            self._process_pending(acct, report)
            before = accounts.get(acct.key)
            if fetched and accounts.succeeded(acct.key, mark):
                report.health = "ok"
                if before is not None and before.health != "ok":  # watched again: the report
                    self.store.audit(  # counts time unwatched from these two events
                        "account.ok", platform=acct.platform, account=acct.key, was=before.health
                    )
        return report

    def _fetch_all(self, acct: Account, report: AccountReport) -> None:
        connector = self.connectors[acct.key]
        accounts = self.store.accounts
        cursor = accounts.cursor(acct.key)
        for _page in range(MAX_PAGES_PER_POLL):
            result = connector.fetch(cursor)
            for problem in map(redact, result.problems):
                log.warning("item skipped by connector", account=acct.key, problem=problem)
                report.errors.append(problem)
            for comment in result.comments:
                if self.store.record_comment(comment):
                    report.fetched += 1
            cursor = result.cursor
            accounts.save_cursor(acct.key, cursor)  # only after the page is safely stored
            if not result.more or self.stop.is_set():
                break
        accounts.fetched(acct.key, cursor)

    def _process_pending(self, acct: Account, report: AccountReport) -> None:
        connector = self.connectors[acct.key]
        pending = self.store.pending(acct.account_id, acct.platform)
        size = self.settings.classifiers.batch_size
        for start in range(0, len(pending), size):
            if self.stop.is_set():
                log.info("stopping after the batch in hand", account=acct.key)
                return
            batch = pending[start : start + size]
            verdicts = self._classify([r for r in batch if r["status"] == "new"])
            for row in batch:
                try:
                    self._process_one(acct, connector, row, verdicts, report)
                except ConnectorError as exc:
                    # the platform cannot act now: the action stays intended, the comment
                    # stays decided, and the next poll that works finishes it
                    self._account_problem(acct, exc, report)
                    return
                except Exception as exc:
                    report.errors.append(f"{row['comment_id']}: {scrub(repr(exc))}")
                    # re-read: a decision may have been recorded before the failure
                    current = self.store.comment_row(row["platform"], row["comment_id"]) or row
                    self.store.set_status(
                        row["platform"],
                        row["comment_id"],
                        current["status"],
                        error=scrub(repr(exc)),
                        attempt=True,
                    )
                    log.exception("comment failed; will retry", comment_id=row["comment_id"])

    def _account_problem(self, acct: Account, exc: ConnectorError, report: AccountReport) -> None:
        """An action the platform refused for the account's sake, not the comment's: record
        the account's health and, where a person must fix it, tell them once per episode."""
        error = scrub(str(exc))
        report.errors.append(error)
        if isinstance(exc, AuthExpired | PermissionMissing):
            report.health = "auth_expired" if isinstance(exc, AuthExpired) else "permission_missing"
        elif isinstance(exc, RateLimited):
            report.health = "rate_limited"
        else:
            report.health = "failing"
        since = self.store.account_last_ok(acct.key)
        with self.store.transaction():
            self.store.accounts.failed(acct.key, exc)
            self.store.audit(f"account.{report.health}", platform=acct.platform, account=acct.key)
            if self.desk is not None and isinstance(exc, AuthExpired | PermissionMissing):
                self.desk.account_alert(acct, report.health, error, since)
        log.warning(
            "the platform refused an action; it stays pending until the account works again",
            account=acct.key,
            health=report.health,
            error=error,
            retry_after=getattr(exc, "retry_after", None),
        )

    def _classify(self, rows: list[dict]) -> dict[str, Verdict]:
        """Classify a batch; if the batch fails, one by one, so a bad comment is isolated."""
        if not rows:
            return {}
        texts = [r["text"] or "" for r in rows]
        try:
            verdicts = self.classifier.classify(texts)
            return {r["comment_id"]: v for r, v in zip(rows, verdicts, strict=True)}
        except Exception:
            log.exception("batch classification failed; classifying one by one")
        out = {}
        for row, text in zip(rows, texts, strict=True):
            try:
                out[row["comment_id"]] = self.classifier.classify([text])[0]
            except Exception as exc:
                self.store.set_status(
                    row["platform"],
                    row["comment_id"],
                    "new",
                    error=f"classifier: {exc!r}",
                    attempt=True,
                )
        return out

    def _process_one(
        self,
        acct: Account,
        connector: Connector,
        row: dict,
        verdicts: dict[str, Verdict],
        report: AccountReport,
    ) -> None:
        comment = comment_from_row(row)
        if row["status"] == "new":
            verdict = verdicts.get(comment.comment_id)
            if verdict is None:
                return  # classification failed: recorded, retried next poll
            decision = decide(comment, verdict, self.settings.policy)
            # the decision, its item, its escalation and the messages they cause: all or none
            with self.store.transaction():
                verdict_id = self.store.record_verdict(
                    comment.platform, comment.comment_id, verdict
                )
                decision_id = self.store.record_decision(
                    comment.platform, comment.comment_id, verdict_id, decision, acct.mode
                )
                if self.desk is not None:
                    self.desk.open_for(comment, decision_id, decision)
        else:  # decided before a crash: finish its actions, never decide again
            decision_id = row["decision_id"]
            decision = decision_from_row(self.store.decision_row(decision_id))
        outcomes = self.executor.carry_out(comment, decision_id, decision, connector, acct)
        final = self._final_status(outcomes)
        self.store.set_status(
            comment.platform,
            comment.comment_id,
            final,
            error=None if final != "decided" else "actions outstanding",
            attempt=final == "decided",
        )
        if (
            final == "done"
            and decision.action is DecisionAction.ALLOW
            and not self.settings.policy.store_allowed_text
        ):
            self.store.forget_text(comment.platform, comment.comment_id)
        report.processed += 1
        report.decisions[decision.action.value] += 1
        log.info(
            "comment decided",
            comment_id=comment.comment_id,
            decision=decision.action.value,
            categories=[c.value for c in decision.categories],
            mode=acct.mode,
            actions=[f"{o.kind}:{o.status}" for o in outcomes],
        )

    @staticmethod
    def _final_status(outcomes: list[Outcome]) -> str:
        if any(o.status == "gone" for o in outcomes):
            return "gone"
        if any(o.status == "failed" for o in outcomes):
            return "decided"
        return "done"
