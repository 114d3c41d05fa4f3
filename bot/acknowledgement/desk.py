"""The acknowledgement clock. Every comment that needs a person becomes an item with a due
time (the policy's 24 hours; the DSL's shorter clock for urgent safeguarding), assigned to the
administrator on duty with the other as backup.

Nothing here sends email. Each step (a reminder to the assignee, the backup at a set fraction
of the time, at the deadline everyone plus the senior leader) is written to the outbox in the
same transaction as the state change it belongs to, once per (item, step, person); the outbox
job delivers it. So a crash, an SMTP outage or a broken template delays a message, never loses
or doubles it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from bot.acknowledgement.calendar import SchoolCalendar
from bot.acknowledgement.duty import who_is_on_duty
from bot.config.settings import Account, Person, Settings
from bot.core.clock import iso
from bot.core.logs import scrub
from bot.core.models import Comment, Decision, DecisionAction
from bot.notify.links import sign
from bot.store import Store
from bot.store.records import Item, ItemStatus, Message, MessageKind, NewMessage

log = structlog.get_logger("modbot.acknowledgement")

STEP_KINDS = {"backup": MessageKind.BACKUP, "breach": MessageKind.BREACH}
SUBJECTS = {
    "backup": "[modbot] backup needed: item {id} not yet acknowledged",
    "breach": "[modbot] deadline missed: item {id}",
}


@dataclass(frozen=True)
class Step:
    at: datetime
    name: str
    people: tuple[Person, ...]


class AckDesk:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        calendar: SchoolCalendar,
        secret: bytes,
        layers: str = "",
    ):
        self.store = store
        self.settings = settings
        self.calendar = calendar
        self.secret = secret
        self.layers = layers  # which judgement layers are on: the digests say so

    # --- opening: called inside the transaction that records the decision ----------------------
    def open_for(self, comment: Comment, decision_id: int, decision: Decision) -> int | None:
        if decision.action is DecisionAction.ALLOW:
            return None
        if decision.action is DecisionAction.ESCALATE:
            from bot.safeguarding.escalations import open_escalation

            return open_escalation(self, comment, decision_id, decision)
        clock = self.calendar.deadline(comment.created_at)
        duty = who_is_on_duty(
            self.settings, self.store, self.calendar.local(self.store.now()).date()
        )
        kind = "reply" if decision.action is DecisionAction.RESPOND else "moderation"
        item_id, created = self.store.items.open(
            platform=comment.platform,
            comment_id=comment.comment_id,
            decision_id=decision_id,
            kind=kind,
            received_at=comment.created_at,
            due_at=clock.due,
            rule=clock.rule,
            assignee=duty.assignee.name,
            backup=duty.backup.name,
        )
        if created:
            self.store.audit(
                "item.opened",
                platform=comment.platform,
                comment_id=comment.comment_id,
                item=item_id,
                assignee=duty.assignee.name,
                due=iso(clock.due),
            )
        return item_id

    # --- the clock ----------------------------------------------------------------------------
    def steps(self, item: Item) -> list[Step]:
        """Every step of an item's clock: when, which, who."""
        s = self.settings
        people = s.people()
        assignee = people.get(item.assignee, s.slt)
        backup = people.get(item.backup, s.slt)
        out = []
        for minutes in s.acknowledgement.reminders_before_minutes:
            at = item.due_at - timedelta(minutes=minutes)
            if at > item.created_at:
                out.append(Step(at, f"reminder-{minutes}", (assignee,)))
        at = (
            item.created_at + (item.due_at - item.created_at) * s.acknowledgement.backup_at_fraction
        )
        out.append(Step(at, "backup", (backup,)))
        breach_people = tuple({p.name: p for p in (assignee, backup, s.slt)}.values())
        out.append(Step(item.due_at, "breach", breach_people))
        return sorted(out, key=lambda step: step.at)

    def tick(self) -> list[str]:
        """Write every step whose time has come (and the digests) to the outbox; returns what
        was newly queued."""
        from bot.acknowledgement.digests import queue_digests

        now = self.store.now()
        queued: list[str] = []
        for item in self.store.items.waiting():
            for step in self.steps(item):
                if step.at > now:
                    break
                with self.store.transaction():
                    if step.name == "breach" and self.store.items.mark_breached(item.id):
                        self.store.audit(
                            "item.breached",
                            platform=item.platform,
                            comment_id=item.comment_id,
                            item=item.id,
                        )
                        log.warning(
                            "acknowledgement deadline missed", item=item.id, assignee=item.assignee
                        )
                    for person in step.people:
                        if self.queue_item_message(item, step.name, person):
                            queued.append(f"item {item.id}: {step.name} -> {person.name}")
        queued += queue_digests(self, now)
        return queued

    def queue_item_message(
        self, item: Item, step: str, person: Person, extra: dict | None = None
    ) -> bool:
        kind = STEP_KINDS.get(step, MessageKind.ALERT if step == "alert" else MessageKind.REMINDER)
        subject = SUBJECTS.get(step, "[modbot] reminder: item {id} due soon").format(id=item.id)
        if step == "alert":
            urgent = bool((extra or {}).get("urgent"))
            subject = (
                f"[modbot] {'URGENT ' if urgent else ''}safeguarding concern: "
                f"escalation {(extra or {}).get('escalation_id')}"
            )
        return (
            self.store.outbox.put(
                NewMessage(
                    kind=kind,
                    dedupe=f"item:{item.id}:{step}:{person.name}",
                    recipient=person.name,
                    address=person.email,
                    template="dsl_alert" if step == "alert" else "reminder",
                    subject=subject,
                    context={"step": step, **(extra or {})},
                    item_id=item.id,
                    escalation_id=(extra or {}).get("escalation_id"),
                )
            )
            is not None
        )

    # --- accounts ----------------------------------------------------------------------------
    def account_alert(self, account: Account, health: str, error: str, since: str | None) -> int:
        """Tell every administrator and the DSL that an account is not being watched. Once per
        failure episode: the key names the account and its last good poll."""
        error = scrub(error)
        queued = 0
        for person in [*self.settings.administrators, self.settings.dsl]:
            queued += (
                self.store.outbox.put(
                    NewMessage(
                        kind=MessageKind.ACCOUNT,
                        dedupe=f"account:{account.key}:{since or 'never'}:{person.name}",
                        recipient=person.name,
                        address=person.email,
                        template="account",
                        subject=f"[modbot] ACTION NEEDED: {account.display_name} is not being "
                        "watched",
                        context={
                            "account": account.display_name,
                            "health": health.replace("_", " "),
                            "error": error,
                            "since": since or "the start",
                        },
                    )
                )
                is not None
            )
        return queued

    # --- links and message contents -------------------------------------------------------------
    def link(self, item_id: int, recipient: str) -> str:
        valid = timedelta(hours=self.settings.email.link_valid_hours)
        token = sign(self.secret, item_id, recipient, self.store.now(), valid)
        return f"{self.settings.email.base_url.rstrip('/')}/ack?t={token}"

    def item_context(self, message: Message) -> dict:
        """What a reminder or alert shows, gathered when it is sent (so it is current)."""
        assert message.item_id is not None
        item = self.store.items.get(message.item_id)
        if item is None:
            return {}
        facts = self.store.item_facts(item.decision_id)
        s = self.settings
        account = next(
            (a.display_name for a in s.accounts if a.account_id == facts["account"]),
            facts["account"],
        )
        due = self.calendar.local(item.due_at)
        show_text = s.email.include_comment_text and item.kind != "escalation"
        return {
            "account": account,
            "item_id": item.id,
            "kind": item.kind,
            "categories": ", ".join(facts["categories"]),
            "severity": facts["severity"],
            "due": f"{due:%A %-d %B %Y %H:%M %Z}",
            "assignee": item.assignee,
            "slt": s.slt.name if message.context.get("step") == "breach" else "",
            "text": (facts["text"] or "") if show_text else "",
            "link": self.link(item.id, message.recipient),
            "out_of_hours": not self.calendar.in_working_hours(self.store.now()),
            "dsl_name": s.dsl.name,
            "dsl_phone": s.dsl.phone,
            "deputy_name": s.deputy_dsl.name,
            "deputy_phone": s.deputy_dsl.phone,
            "acknowledged": item.status is ItemStatus.ACKNOWLEDGED,
            "escalation_id": message.context.get("escalation_id", ""),
            "route": message.context.get("route", ""),
            "urgent": bool(message.context.get("urgent")),
            "step": message.context.get("step", ""),
        }
