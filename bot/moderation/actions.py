"""Carry out a decision through a connector, recording each step.

Each platform action is written down as intended before the call and finished after it. On a
retry (a crash came between the two) the connector is first asked whether the action already
happened, so nothing is done twice. Shadow mode records what would have been done and calls
nothing. Notices are rendered from templates that never see the comment, at most one per post
per window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import jinja2
import structlog

from bot.config.settings import Settings
from bot.core.errors import AuthExpired, CommentGone, RateLimited, TransientError, Unsupported
from bot.core.models import Action, Comment, Decision, DecisionAction, Delete, Hide, Notice
from bot.store import Store
from connectors.base import Connector

log = structlog.get_logger("modbot.actions")
FINISHED = ("done", "gone", "shadow", "unsupported", "throttled")


class NoticeTemplates:
    """Jinja2 notice templates from config/templates/notices; given no comment data at all."""

    def __init__(self, templates_dir: Path, school_name: str, house_rules_url: str):
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(templates_dir / "notices")),
            undefined=jinja2.StrictUndefined,
            autoescape=False,
            keep_trailing_newline=False,
        )
        self.context = {"school_name": school_name, "house_rules_url": house_rules_url}

    def render(self, name: str) -> str:
        return self.env.get_template(f"{name}.txt").render(**self.context).strip()

    def names(self) -> list[str]:
        return sorted(
            n.removesuffix(".txt") for n in self.env.list_templates() if n.endswith(".txt")
        )


@dataclass
class Outcome:
    kind: str
    target: str
    status: str
    detail: str = ""


def plan(
    comment: Comment, decision: Decision, hide_on_escalate: bool, notices: NoticeTemplates
) -> list[Action]:
    """The platform actions a decision needs, in order: hide first, then the notice."""
    actions: list[Action] = []
    if decision.action is DecisionAction.HIDE or (
        decision.action is DecisionAction.ESCALATE and hide_on_escalate
    ):
        actions.append(Hide(comment.comment_id))
        if decision.notice_template:
            actions.append(
                Notice(
                    comment.comment_id,
                    post_id=comment.post_id,
                    text=notices.render(decision.notice_template),
                    template=decision.notice_template,
                )
            )
    return actions


class Executor:
    def __init__(self, store: Store, settings: Settings, notices: NoticeTemplates):
        self.store = store
        self.settings = settings
        self.notices = notices

    def carry_out(
        self,
        comment: Comment,
        decision_id: int,
        decision: Decision,
        connector: Connector,
        mode: str,
    ) -> list[Outcome]:
        if decision.action is DecisionAction.ESCALATE:
            self.store.open_escalation(comment.platform, comment.comment_id, decision_id, decision)
        outcomes = []
        for action in plan(comment, decision, self.settings.policy.hide_on_escalate, self.notices):
            outcomes.append(self._one(comment, decision_id, action, connector, mode))
        return outcomes

    def _one(
        self, comment: Comment, decision_id: int, action: Action, connector: Connector, mode: str
    ) -> Outcome:
        row, created = self.store.intend(decision_id, comment.platform, comment.comment_id, action)
        if row["status"] in FINISHED:
            return Outcome(action.kind, action.target, row["status"], "already recorded")
        retry = not created  # a previous run wrote this down and did not finish it
        if mode == "shadow":
            self.store.action_finished(row["id"], "shadow")
            return Outcome(action.kind, action.target, "shadow", "shadow mode: not carried out")
        if isinstance(action, Notice) and self._throttled(comment):
            self.store.action_finished(
                row["id"], "throttled", error="a notice was posted on this post recently"
            )
            return Outcome(action.kind, action.target, "throttled")
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
                return self._one(comment, decision_id, Hide(action.comment_id), connector, mode)
            return Outcome(action.kind, action.target, "unsupported", str(exc))
        except CommentGone as exc:
            self.store.action_finished(row["id"], "gone", error=str(exc))
            return Outcome(action.kind, action.target, "gone", str(exc))
        except (RateLimited, AuthExpired, TransientError) as exc:
            self.store.action_finished(row["id"], "failed", error=str(exc))
            raise
        self.store.action_finished(row["id"], "done", ref=ref)
        self._after_done(comment, action, row["id"])
        return Outcome(action.kind, action.target, "done", ref)

    def _throttled(self, comment: Comment) -> bool:
        window = timedelta(minutes=self.settings.policy.notice_window_minutes)
        last = self.store.last_notice_at(comment.platform, comment.account, comment.post_id)
        return last is not None and self.store.now() - last < window

    def _after_done(self, comment: Comment, action: Action, action_id: int) -> None:
        if isinstance(action, Notice):
            self.store.record_notice(
                comment.platform, comment.account, comment.post_id, action.template, action_id
            )
