"""Use cases of reviewing what modbot hid: look at an item or a hidden comment, put back a
harmless one, ask for a second opinion, suggest and approve a ban, resume automatic hiding.

Putting a comment back unhides it on the platform through the account's connector and records
a labelled false positive (its words, label `allow`, the rules and layers that fired) that
`modbot feedback export` writes for `modbot evaluate` and the exemplar library. A reviewer who
is unsure asks for a second opinion instead: nothing changes on the platform until a different
person agrees (restore) or disagrees (it stays hidden, labelled `hide`).

A ban is only ever a person's decision: an administrator suggests it, the DSL approves it, and
the connector carries it out if it can; if it cannot, the approval is recorded and the page
says to block the author by hand."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.config.settings import Account, SchoolSettings
from bot.core.errors import CommentGone, ConnectorError, ModbotError, Unsupported
from bot.core.logs import scrub
from bot.core.models import Action, Ban, Unhide
from bot.core.redact import redact
from bot.services import acknowledgement
from bot.services.actors import Actor, NotFound, Role
from bot.store import Store
from bot.store.records import Item
from bot.store.reviews import (
    APPROVED,
    AWAITING_SECOND,
    DECLINED,
    KEEP,
    RESTORE,
    SUGGESTED,
    BanRequest,
    Feedback,
)
from connectors.base import Connector

ConnectorFor = Callable[[Account], Connector]
MAX_REASON = 500


class ReviewRefused(ModbotError):
    """The review cannot be done as asked (no reason given, not hidden, same reviewer twice);
    the message says why and is safe to show."""


@dataclass(frozen=True)
class Review:
    """A decision as a reviewer sees it: the comment, why, what was done, what people said."""

    decision: dict
    feedback: Feedback | None
    bans: list[BanRequest] = field(default_factory=list)
    item: Item | None = None

    @property
    def hidden(self) -> bool:
        return self.decision["hide_status"] == "done" and not self.restored

    @property
    def restored(self) -> bool:
        return bool(self.feedback and self.feedback.restored_at)


@dataclass(frozen=True)
class Outcome:
    """What a review did, in words for the page, and whether the platform did its part."""

    message: str
    done_on_platform: bool = False


# --- reading -----------------------------------------------------------------------------
def review(store: Store, decision_id: int, actor: Actor) -> Review:
    """A decision with its comment's words: administrators and the DSL; a safeguarding
    escalation's words are the DSL's only."""
    actor.require(Role.ADMIN, Role.DSL)
    decision = store.reviews.decision(decision_id)
    if decision is None:
        raise NotFound(f"no decision {decision_id}")
    if decision["action"] == "escalate":
        actor.require(Role.DSL)
    return Review(
        decision,
        store.reviews.feedback_for(decision_id),
        store.reviews.bans_for(decision_id),
        store.items.for_decision(decision_id),
    )


def item_review(store: Store, item_id: int, actor: Actor) -> Review:
    """An acknowledgement item and its decision (escalations: the DSL only)."""
    item = acknowledgement.get_item(store, item_id, actor)
    return review(store, item.decision_id, actor)


def hidden_comments(store: Store, actor: Actor) -> list[dict]:
    """Comments modbot hid, newest first. The DSL also sees hidden safeguarding comments."""
    actor.require(Role.ADMIN, Role.DSL)
    return store.reviews.hidden(include_escalated=actor.role is Role.DSL)


def second_opinions(store: Store, actor: Actor) -> list[Feedback]:
    """Restores waiting for a second person (their words are on the hidden comment's page)."""
    actor.require(Role.ADMIN, Role.DSL)
    return store.reviews.awaiting_second()


def ban_requests(store: Store, actor: Actor) -> list[BanRequest]:
    """Every ban request, newest first: the DSL decides them."""
    actor.require(Role.DSL)
    return store.reviews.bans(None)


# --- putting a comment back ------------------------------------------------------------------
def restore(
    store: Store,
    settings: SchoolSettings,
    database: Path,
    decision_id: int,
    actor: Actor,
    reason: str,
    sure: bool = True,
    connector_for: ConnectorFor | None = None,
) -> Outcome:
    """Put back a comment modbot hid. `sure=False` asks a second person first. Called by a
    second person on a comment waiting for them, it is their agreement. Doing it again after
    the platform failed retries the unhide."""
    current = review(store, decision_id, actor)
    d = current.decision
    if d["hide_status"] != "done":
        raise ReviewRefused("modbot did not hide this comment, so there is nothing to put back")
    feedback = current.feedback
    if feedback is None:
        reason = _reason(reason)
        with store.transaction():
            feedback = store.reviews.add_feedback(
                decision_id=decision_id,
                platform=d["platform"],
                comment_id=d["comment_id"],
                account=d["account"],
                text=d["text"],
                label="allow" if sure else None,
                category=None,
                rules=store.rule_ids(decision_id) + _layers(d),
                status=RESTORE if sure else AWAITING_SECOND,
                reason=reason,
                by=actor.name,
            )
            store.audit(
                "comment.restore_confirmed" if sure else "comment.second_opinion_asked",
                actor=actor.name,
                platform=d["platform"],
                comment_id=d["comment_id"],
                decision=decision_id,
                reason=reason,
            )
        if not sure:
            return Outcome(
                "Asked for a second opinion. The comment stays hidden until another "
                "administrator or the DSL agrees."
            )
    elif feedback.status == AWAITING_SECOND:
        if feedback.by == actor.name:
            raise ReviewRefused(
                "You asked for this second opinion: another administrator or the DSL must give it."
            )
        reason = _reason(reason)
        with store.transaction():
            store.reviews.second_opinion(feedback.id, RESTORE, "allow", actor.name, reason, None)
            store.audit(
                "comment.restore_confirmed",
                actor=actor.name,
                platform=d["platform"],
                comment_id=d["comment_id"],
                decision=decision_id,
                reason=reason,
                second_opinion=True,
            )
    elif feedback.status == KEEP:
        raise ReviewRefused(
            f"{feedback.second_by} gave the second opinion: keep it hidden. Nothing changed."
        )
    elif feedback.restored_at is not None:
        return Outcome(f"Already put back by {feedback.by}.", done_on_platform=True)
    return _unhide(store, settings, database, current, actor, connector_for)


def keep_hidden(store: Store, decision_id: int, actor: Actor, reason: str) -> Outcome:
    """The second opinion that disagrees: the comment stays hidden, labelled `hide`."""
    current = review(store, decision_id, actor)
    feedback = current.feedback
    if feedback is None or feedback.status != AWAITING_SECOND:
        raise ReviewRefused("Nobody asked for a second opinion on this comment.")
    if feedback.by == actor.name:
        raise ReviewRefused(
            "You asked for this second opinion: another administrator or the DSL must give it."
        )
    reason = _reason(reason)
    category = (current.decision["categories"] or [None])[0]
    with store.transaction():
        store.reviews.second_opinion(feedback.id, KEEP, "hide", actor.name, reason, category)
        store.audit(
            "comment.kept_hidden",
            actor=actor.name,
            platform=current.decision["platform"],
            comment_id=current.decision["comment_id"],
            decision=decision_id,
            reason=reason,
        )
        _acknowledge(store, current, actor)
    return Outcome("Kept hidden. Thank you for the second opinion.")


def _unhide(
    store: Store,
    settings: SchoolSettings,
    database: Path,
    current: Review,
    actor: Actor,
    connector_for: ConnectorFor | None,
) -> Outcome:
    d = current.decision
    feedback = store.reviews.feedback_for(d["decision_id"])
    assert feedback is not None
    action = Unhide(d["comment_id"])
    result = _carry_out(store, settings, database, d, action, connector_for)
    with store.transaction():
        if result.done_on_platform:
            store.reviews.restored(feedback.id)
            store.audit(
                "comment.restored",
                actor=actor.name,
                platform=d["platform"],
                comment_id=d["comment_id"],
                decision=d["decision_id"],
            )
            _acknowledge(store, current, actor)
        else:
            store.reviews.restored(feedback.id, error=result.message)
    return result


def _acknowledge(store: Store, current: Review, actor: Actor) -> None:
    """A person has looked at it: its item (if any) is acknowledged too."""
    if current.item is not None and current.item.acknowledged_at is None:
        acknowledgement.acknowledge(store, current.item.id, actor, via="web review")


# --- bans --------------------------------------------------------------------------------
def suggest_ban(store: Store, decision_id: int, actor: Actor, reason: str) -> BanRequest:
    """An administrator (or the DSL) suggests blocking the comment's author; the DSL decides."""
    current = review(store, decision_id, actor)
    d = current.decision
    author = d["author_id"] or d["author_handle"]
    if not author:
        raise ReviewRefused("The platform gave no author for this comment: nobody to block.")
    reason = _reason(reason)
    with store.transaction():
        request, created = store.reviews.suggest_ban(
            decision_id=d["decision_id"],
            platform=d["platform"],
            comment_id=d["comment_id"],
            account=d["account"],
            author_id=author,
            reason=reason,
            by=actor.name,
        )
        if created:
            store.audit(
                "ban.suggested",
                actor=actor.name,
                platform=d["platform"],
                comment_id=d["comment_id"],
                request=request.id,
                reason=reason,
            )
    return request


def decide_ban(
    store: Store,
    settings: SchoolSettings,
    database: Path,
    request_id: int,
    actor: Actor,
    approve: bool,
    note: str = "",
    connector_for: ConnectorFor | None = None,
) -> Outcome:
    """The DSL approves (the connector blocks the author, if it can) or declines. Approving
    again after the platform failed tries the block again."""
    actor.require(Role.DSL)
    request = store.reviews.ban(request_id)
    if request is None:
        raise NotFound(f"no ban request {request_id}")
    note = note.strip()[:MAX_REASON]
    if not approve:
        with store.transaction():
            if not store.reviews.decide_ban(request_id, DECLINED, actor.name, note or "declined"):
                raise ReviewRefused(f"This request was already {request.status}.")
            store.audit(
                "ban.declined",
                actor=actor.name,
                platform=request.platform,
                comment_id=request.comment_id,
                request=request_id,
            )
        return Outcome("Declined. Nobody was blocked.")
    if request.status == DECLINED:
        raise ReviewRefused(f"{request.decided_by} declined this request.")
    if request.status == SUGGESTED:
        with store.transaction():
            store.reviews.decide_ban(request_id, APPROVED, actor.name, "approved")
            store.audit(
                "ban.approved",
                actor=actor.name,
                platform=request.platform,
                comment_id=request.comment_id,
                request=request_id,
                note=note,
            )
    row = store.reviews.decision(request.decision_id) or {}
    facts = {
        **row,
        "decision_id": request.decision_id,
        "comment_id": request.comment_id,
        "platform": request.platform,
        "account": request.account,
    }
    action = Ban(request.comment_id, author_id=request.author_id)
    result = _carry_out(store, settings, database, facts, action, connector_for)
    message = (
        "Approved, and the author is blocked on the platform."
        if result.done_on_platform
        else f"Approved and recorded. {result.message}"
    )
    store.reviews.ban_result(request_id, message)
    return Outcome(message, result.done_on_platform)


# --- the circuit breaker ---------------------------------------------------------------------
def resume_breaker(store: Store, actor: Actor, account_key: str) -> str:
    """Turn automatic hiding back on for an account where the circuit breaker paused it."""
    actor.require(Role.ADMIN, Role.DSL)
    with store.transaction():
        if not store.resume_breaker(account_key, actor.name):
            raise ReviewRefused("Automatic hiding is not paused on that account.")
        store.audit("breaker.resumed", actor=actor.name, account=account_key)
    return "Automatic hiding is back on for that account."


# --- the platform call -------------------------------------------------------------------
def _carry_out(
    store: Store,
    settings: SchoolSettings,
    database: Path,
    d: dict,
    action: Action,
    connector_for: ConnectorFor | None,
) -> Outcome:
    """Write the action down, ask the connector to do it, record how it went. Safe to call
    again: an action already done is not done twice."""
    platform, comment_id, decision_id = d["platform"], d["comment_id"], int(d["decision_id"])
    account = next(
        (a for a in settings.accounts if a.platform == platform and a.account_id == d["account"]),
        None,
    )
    if account is None:
        return Outcome(
            f"The account {platform}:{d['account']} is no longer in the configuration, so "
            "modbot cannot reach it: do it by hand on the platform."
        )
    if account.mode == "shadow":
        return Outcome(
            f"{account.display_name} is in shadow mode: modbot changes nothing on it. Do it in "
            "the platform's own app, or switch the account to enforce."
        )
    row, created = store.intend(decision_id, platform, comment_id, action)
    if row["status"] == "done":
        return Outcome("It was already done on the platform.", done_on_platform=True)
    try:
        connector = (connector_for or _default_connector(settings, database))(account)
        if not connector.can(type(action)):
            raise Unsupported(connector.name, type(action).__name__)
        if not created and connector.already_applied(action):
            store.action_finished(row["id"], "done", ref="already done on the platform")
            return Outcome("It was already done on the platform.", done_on_platform=True)
        ref = connector.apply(action)
    except Unsupported:
        store.action_finished(row["id"], "unsupported", error=f"{platform} cannot {action.kind}")
        return Outcome(
            f"modbot cannot {_verb(action)} on {account.display_name} ({platform}): "
            "do it by hand on the platform."
        )
    except CommentGone as exc:
        store.action_finished(row["id"], "gone", error=str(exc))
        return Outcome("The comment is no longer on the platform (deleted there).")
    except (ConnectorError, ModbotError) as exc:
        error = redact(scrub(str(exc)))
        store.action_pending(row["id"], error)
        return Outcome(
            f"{account.display_name} did not accept it just now ({error}). It is recorded; "
            "try again in a few minutes."
        )
    store.action_finished(row["id"], "done", ref=ref)
    return Outcome("Done on the platform.", done_on_platform=True)


def _default_connector(settings: SchoolSettings, database: Path) -> ConnectorFor:
    from connectors.registry import build_connector

    return lambda account: build_connector(settings, account, database)


def _verb(action: Action) -> str:
    return {"unhide": "unhide comments", "ban": "block people"}.get(action.kind, action.kind)


def _reason(reason: str) -> str:
    reason = " ".join(reason.split())
    if len(reason) < 3:
        raise ReviewRefused("Say in a few words why (it is kept with the decision).")
    return reason[:MAX_REASON]


def _layers(d: dict) -> list[str]:
    """The model layers behind a decision, besides its rules (e.g. a toxicity score)."""
    return sorted(f"model:{k}" for k in (d.get("scores") or {}) if k)


# --- export ------------------------------------------------------------------------------
def feedback_lines(store: Store) -> list[str]:
    """JSON lines for `modbot evaluate` and the exemplar library: every decided review whose
    words are still kept. `category` is the true category (none for a harmless comment);
    `rules` says which rules and model layers fired, for finding the one to fix."""
    out = []
    for f in store.reviews.labelled():
        out.append(
            json.dumps(
                {
                    "id": f"feedback-{f.id}",
                    "text": f.text,
                    "label": f.label,
                    "category": f.category,
                    "source": "restored" if f.status == RESTORE else "second_opinion",
                    "rules": list(f.rules),
                },
                ensure_ascii=False,
            )
        )
    return out
