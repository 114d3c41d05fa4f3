"""Carry out a decision through a connector, recording each step.

Hide first, then decide the rest: the Hide never depends on a notice template, and a notice is
posted only after the Hide succeeded, rendered at that moment, and never where it could point
at a child (see bot/moderation/notices.py).

Each platform action is written down as intended before the call and finished after it. On a
retry (a crash came between the two) the connector is first asked whether the action already
happened, so nothing is done twice. When the platform cannot act now (rate limit, expired
token, missing permission, outage) the action stays intended and the error goes up to the
pipeline, which records the account's health; the next poll that works finishes it.

Shadow mode records what would have been done and calls nothing. A circuit breaker pauses
automatic hiding on an account that hides more than `policy.max_hides_per_hour`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import structlog

from bot.config.settings import Account, SchoolSettings
from bot.core.errors import CommentGone, ConnectorError, Unsupported
from bot.core.logs import scrub
from bot.core.models import Action, Comment, Decision, DecisionAction, Delete, Hide, Notice
from bot.moderation.notices import NoticeTemplates, notice_refusal
from bot.store import Store
from bot.store.records import MessageKind, NewMessage
from connectors.base import Connector

log = structlog.get_logger("modbot.actions")
FINISHED = ("done", "gone", "shadow", "unsupported", "throttled", "skipped", "paused")


@dataclass
class Outcome:
    kind: str
    target: str
    status: str
    detail: str = ""


def wants_hide(decision: Decision, hide_on_escalate: bool) -> bool:
    if not getattr(decision, "hide", True):
        return False  # e.g. a concern only the model sees: the DSL looks, nothing is hidden
    return decision.action is DecisionAction.HIDE or (
        decision.action is DecisionAction.ESCALATE and hide_on_escalate
    )


class Executor:
    def __init__(self, store: Store, settings: SchoolSettings, notices: NoticeTemplates):
        self.store = store
        self.settings = settings
        self.notices = notices

    def carry_out(
        self,
        comment: Comment,
        decision_id: int,
        decision: Decision,
        connector: Connector,
        account: Account,
    ) -> list[Outcome]:
        if not wants_hide(decision, self.settings.policy.hide_on_escalate):
            return []
        hide = self._hide(comment, decision_id, connector, account)
        outcomes = [hide]
        if decision.notice_template:
            outcomes.append(self._notice(comment, decision_id, decision, hide, connector, account))
        return outcomes

    # --- the hide ----------------------------------------------------------------------------
    def _hide(
        self, comment: Comment, decision_id: int, connector: Connector, account: Account
    ) -> Outcome:
        action = Hide(comment.comment_id)
        row, created = self.store.intend(decision_id, comment.platform, comment.comment_id, action)
        if row["status"] in FINISHED:
            return Outcome(action.kind, action.target, row["status"], "already recorded")
        if account.mode == "shadow":
            self.store.action_finished(row["id"], "shadow")
            return Outcome(action.kind, action.target, "shadow", "shadow mode: not carried out")
        if self._breaker_open(comment, account):
            self.store.action_finished(
                row["id"], "paused", error="automatic hiding is paused on this account"
            )
            return Outcome(action.kind, action.target, "paused", "circuit breaker")
        return self._apply(comment, decision_id, row, not created, action, connector, account)

    def _breaker_open(self, comment: Comment, account: Account) -> bool:
        if self.store.breaker_tripped(account.key):
            return True
        ceiling = self.settings.policy.max_hides_per_hour
        hour_ago = self.store.now() - timedelta(hours=1)
        if self.store.hides_since(comment.platform, comment.account, hour_ago) < ceiling:
            return False
        reason = (
            f"more than {ceiling} comments hidden in the last hour on {account.display_name}: "
            "a rule or model may be hiding everything"
        )
        with self.store.transaction():
            if self.store.trip_breaker(account.key, reason):
                self.store.audit("breaker.tripped", account=account.key, reason=reason)
                for person in self.settings.administrators:
                    self.store.outbox.put(
                        NewMessage(
                            kind=MessageKind.BREAKER,
                            dedupe=f"breaker:{account.key}:{self.store.now().isoformat()}:"
                            f"{person.name}",
                            recipient=person.name,
                            address=person.email,
                            template="breaker",
                            subject=f"[modbot] ACTION NEEDED: hiding paused on "
                            f"{account.display_name}",
                            context={
                                "account": account.display_name,
                                "health": reason,
                                "account_key": account.key,
                            },
                        )
                    )
        log.error("CIRCUIT BREAKER: automatic hiding paused", account=account.key, reason=reason)
        return True

    # --- the notice --------------------------------------------------------------------------
    def _notice(
        self,
        comment: Comment,
        decision_id: int,
        decision: Decision,
        hide: Outcome,
        connector: Connector,
        account: Account,
    ) -> Outcome:
        template = decision.notice_template or ""
        action = Notice(comment.comment_id, post_id=comment.post_id, template=template)
        row, created = self.store.intend(decision_id, comment.platform, comment.comment_id, action)
        if row["status"] in FINISHED:
            return Outcome(action.kind, action.target, row["status"], "already recorded")
        if account.mode == "shadow":
            self.store.action_finished(row["id"], "shadow")
            return Outcome(action.kind, action.target, "shadow", "shadow mode: not carried out")
        refusal = notice_refusal(comment, decision, hide.status, connector)
        if refusal is None and self._throttled(comment):
            self.store.action_finished(
                row["id"], "throttled", error="a notice was posted on this post recently"
            )
            return Outcome(action.kind, action.target, "throttled")
        text = ""
        if refusal is None:
            text, problem = self.notices.render_safely(template)
            if problem:
                refusal = problem
                self._tell_administrators(template, problem)
        if refusal is not None:
            self.store.action_finished(row["id"], "skipped", error=refusal)
            return Outcome(action.kind, action.target, "skipped", refusal)
        posted = Notice(comment.comment_id, post_id=comment.post_id, text=text, template=template)
        return self._apply(comment, decision_id, row, not created, posted, connector, account)

    def _throttled(self, comment: Comment) -> bool:
        window = timedelta(minutes=self.settings.policy.notice_window_minutes)
        last = self.store.last_notice_at(comment.platform, comment.account, comment.post_id)
        return last is not None and self.store.now() - last < window

    def _tell_administrators(self, template: str, problem: str) -> None:
        log.error("NOTICE TEMPLATE BROKEN: notice skipped, comment still hidden", problem=problem)
        day = self.store.now().date().isoformat()
        for person in self.settings.administrators:
            self.store.outbox.put(
                NewMessage(
                    kind=MessageKind.TEMPLATE,
                    dedupe=f"notice-template:{template}:{day}:{person.name}",
                    recipient=person.name,
                    address=person.email,
                    template="",
                    subject=f"[modbot] ACTION NEEDED: notice template {template!r} is broken",
                    context={
                        "error": problem,
                        "health": "comments are still hidden, but no public notice is posted "
                        "until the template is fixed; run `modbot config check`",
                    },
                )
            )

    # --- the platform call ----------------------------------------------------------------------
    def _apply(
        self,
        comment: Comment,
        decision_id: int,
        row: dict,
        retry: bool,
        action: Action,
        connector: Connector,
        account: Account,
    ) -> Outcome:
        if retry and connector.already_applied(action):
            self.store.action_finished(row["id"], "done", ref="reconciled after restart")
            self._after_done(comment, action, row["id"])
            return Outcome(action.kind, action.target, "done", "already applied on the platform")
        try:
            ref = connector.apply(action)
        except Unsupported as exc:
            log.error(
                "action unsupported",
                connector=connector.name,
                action=action.kind,
                comment_id=comment.comment_id,
                error=str(exc),
            )
            self.store.action_finished(row["id"], "unsupported", error=str(exc))
            if isinstance(action, Delete) and connector.can(Hide):
                return self._hide(comment, decision_id, connector, account)
            return Outcome(action.kind, action.target, "unsupported", str(exc))
        except CommentGone as exc:
            self.store.action_finished(row["id"], "gone", error=str(exc))
            return Outcome(action.kind, action.target, "gone", str(exc))
        except ConnectorError as exc:
            self.store.action_pending(row["id"], scrub(str(exc)))
            raise
        self.store.action_finished(row["id"], "done", ref=ref)
        self._after_done(comment, action, row["id"])
        return Outcome(action.kind, action.target, "done", ref or "")

    def _after_done(self, comment: Comment, action: Action, action_id: int) -> None:
        if isinstance(action, Notice):
            self.store.record_notice(
                comment.platform, comment.account, comment.post_id, action.template, action_id
            )
