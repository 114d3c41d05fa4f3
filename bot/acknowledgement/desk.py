"""The acknowledgement clock. Every comment that needs a person becomes an item with a due
time (the policy's 24 hours; the DSL's shorter clock for urgent safeguarding), assigned to the
administrator on duty with the other as backup. `tick()` sends what is due: reminders to the
assignee, the backup at a set fraction of the time, and at the deadline everyone plus the
senior leader, recording the breach. Each step goes to each person once, across restarts."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import structlog

from bot.acknowledgement.calendar import SchoolCalendar
from bot.acknowledgement.duty import who_is_on_duty
from bot.config.settings import Person, Settings
from bot.core.clock import iso
from bot.core.models import Comment, Decision, DecisionAction
from bot.notify.email import Notifier
from bot.notify.links import sign
from bot.safeguarding.escalations import URGENT, suggest_route
from bot.store import Store

log = structlog.get_logger("modbot.items")


class AckDesk:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        notifier: Notifier,
        calendar: SchoolCalendar,
        secret: bytes,
    ):
        self.store = store
        self.settings = settings
        self.notifier = notifier
        self.calendar = calendar
        self.secret = secret

    # --- opening ---------------------------------------------------------------------------
    def open_for(self, comment: Comment, decision_id: int, decision: Decision) -> int | None:
        if decision.action is DecisionAction.ALLOW:
            return None
        existing = list(self.store.db["items"].rows_where("decision_id = ?", [decision_id]))
        if existing:
            return existing[0]["id"]
        s = self.settings
        if decision.action is DecisionAction.ESCALATE:
            urgent = any(c in URGENT for c in decision.categories)
            clock = (
                self.calendar.urgent_deadline(comment.created_at, s.acknowledgement.dsl_ack_minutes)
                if urgent
                else self.calendar.deadline(comment.created_at)
            )
            assignee, backup, kind = s.dsl, s.deputy_dsl, "escalation"
        else:
            urgent = False
            clock = self.calendar.deadline(comment.created_at)
            duty = who_is_on_duty(s, self.store, self.calendar.local(self.store.now()).date())
            assignee, backup = duty.assignee, duty.backup
            kind = "reply" if decision.action is DecisionAction.RESPOND else "moderation"
        item_id = (
            self.store.db["items"]
            .insert(
                {
                    "platform": comment.platform,
                    "comment_id": comment.comment_id,
                    "decision_id": decision_id,
                    "kind": kind,
                    "received_at": iso(comment.created_at),
                    "due_at": iso(clock.due),
                    "rule": clock.rule,
                    "assignee": assignee.name,
                    "backup": backup.name,
                    "status": "open",
                    "created_at": iso(self.store.now()),
                }
            )
            .last_pk
        )
        self.store.audit(
            "item.opened",
            platform=comment.platform,
            comment_id=comment.comment_id,
            item=item_id,
            assignee=assignee.name,
            due=iso(clock.due),
        )
        if kind == "escalation":
            self._escalation_opened(item_id, comment, decision_id, decision, urgent)
        return item_id

    def _escalation_opened(
        self, item_id: int, comment: Comment, decision_id: int, decision: Decision, urgent: bool
    ) -> None:
        rules = [
            h["rule"]
            for h in json.loads(
                self.store.rows(
                    "select v.hits from decisions d join verdicts v on v.id = d.verdict_id "
                    "where d.id = ?",
                    [decision_id],
                )[0]["hits"]
            )
        ]
        route, reason = suggest_route(
            [c.value for c in decision.categories], rules, comment.text, comment.has_attachment
        )
        rows = self.store.rows("select id from escalations where decision_id = ?", [decision_id])
        if not rows:
            return
        escalation_id = rows[0]["id"]
        self.store.db["escalations"].update(
            escalation_id, {"route": route, "route_reason": reason, "urgent": int(urgent)}
        )
        s = self.settings
        recipients = [s.dsl, s.deputy_dsl] if urgent else [s.dsl]
        for person in recipients:
            self._notify(
                item_id,
                "alert",
                person,
                "dsl_alert",
                {"escalation_id": escalation_id, "route": route, "urgent": urgent},
            )

    # --- the clock ----------------------------------------------------------------------------
    def steps(self, item: dict) -> list[tuple[datetime, str, list[Person]]]:
        """Every step of an item's clock: (when, step name, who)."""
        s = self.settings
        people = {p.name: p for p in [*s.administrators, s.dsl, s.deputy_dsl, s.slt]}
        assignee, backup = people[item["assignee"]], people[item["backup"]]
        created = datetime.fromisoformat(item["created_at"])
        due = datetime.fromisoformat(item["due_at"])
        out = []
        for minutes in s.acknowledgement.reminders_before_minutes:
            at = due - timedelta(minutes=minutes)
            if at > created:
                out.append((at, f"reminder-{minutes}", [assignee]))
        at = created + (due - created) * s.acknowledgement.backup_at_fraction
        out.append((at, "backup", [backup]))
        out.append((due, "breach", [assignee, backup, s.slt]))
        return sorted(out, key=lambda step: step[0])

    def tick(self) -> list[str]:
        """Send every step whose time has come, and the digests; returns what was sent."""
        from bot.acknowledgement.digests import send_digests

        now = self.store.now()
        done = send_digests(self)
        for item in self.store.db["items"].rows_where("status in ('open', 'breached')"):
            for at, step, people in self.steps(item):
                if at > now:
                    break
                if step == "breach" and item["status"] == "open":
                    self.store.db["items"].update(
                        item["id"], {"status": "breached", "breached_at": iso(now)}
                    )
                    self.store.audit(
                        "item.breached",
                        platform=item["platform"],
                        comment_id=item["comment_id"],
                        item=item["id"],
                    )
                    log.warning(
                        "acknowledgement deadline missed",
                        item=item["id"],
                        assignee=item["assignee"],
                    )
                for person in people:
                    status = self._notify(item["id"], step, person, "reminder", {})
                    if status == "sent":
                        done.append(f"item {item['id']}: {step} -> {person.name}")
        return done

    # --- accounts ----------------------------------------------------------------------------
    def account_alert(self, account, health: str, error: str) -> list[str]:
        """Tell every administrator (and the DSL) that an account is not being watched. Once
        per failure episode: the step names the account and its last good poll."""
        row = self.store.db["accounts"].get(account.key)
        step = f"account-{account.key}-{row['last_ok_at'] or 'never'}"
        subject = f"[modbot] ACTION NEEDED: {account.display_name} is not being watched"
        context = {
            "account": account.display_name,
            "health": health.replace("_", " "),
            "error": error,
            "school": self.settings.school.name,
            "since": row["last_ok_at"] or "the start",
        }
        sent = []
        for person in [*self.settings.administrators, self.settings.dsl]:
            if self.notifier.notify(0, step, person, subject, "account", context) == "sent":
                sent.append(person.name)
        return sent

    # --- acknowledging ---------------------------------------------------------------------------
    def acknowledge(self, item_id: int, by: str, via: str = "cli") -> str:
        item = self.store.db["items"].get(item_id)
        if item["acknowledged_at"]:
            return (
                f"item {item_id} was already acknowledged by {item['acknowledged_by']} at "
                f"{item['acknowledged_at']}"
            )
        now = iso(self.store.now())
        self.store.db["items"].update(
            item_id, {"status": "acknowledged", "acknowledged_by": by, "acknowledged_at": now}
        )
        self.store.audit(
            "item.acknowledged",
            actor=by,
            platform=item["platform"],
            comment_id=item["comment_id"],
            item=item_id,
            via=via,
            late=item["status"] == "breached",
        )
        if item["kind"] == "escalation":
            for esc in self.store.rows(
                "select id, status from escalations where decision_id = ?", [item["decision_id"]]
            ):
                if esc["status"] == "new":
                    from bot.safeguarding.escalations import change_status

                    change_status(self.store, esc["id"], "acknowledged", by)
        late = " (after the deadline)" if item["status"] == "breached" else ""
        return f"item {item_id} acknowledged by {by} at {now}{late}"

    def link(self, item_id: int, recipient: str) -> str:
        valid = timedelta(hours=self.settings.email.link_valid_hours)
        token = sign(self.secret, item_id, recipient, self.store.now(), valid)
        return f"{self.settings.email.base_url.rstrip('/')}/ack?t={token}"

    # --- messages ---------------------------------------------------------------------------------
    def _notify(self, item_id: int, step: str, person: Person, template: str, extra: dict) -> str:
        item = self.store.db["items"].get(item_id)
        comment = self.store.comment_row(item["platform"], item["comment_id"])
        decision = self.store.db["decisions"].get(item["decision_id"])
        s = self.settings
        account = next(
            (a.display_name for a in s.accounts if a.account_id == comment["account"]),
            comment["account"],
        )
        due = self.calendar.local(datetime.fromisoformat(item["due_at"]))
        show_text = s.email.include_comment_text and item["kind"] != "escalation"
        context = {
            "school": s.school.name,
            "account": account,
            "item_id": item_id,
            "kind": item["kind"],
            "categories": ", ".join(json.loads(decision["categories"])),
            "severity": decision["severity"],
            "due": f"{due:%A %-d %B %Y %H:%M %Z}",
            "assignee": item["assignee"],
            "slt": s.slt.name if step == "breach" else "",
            "text": comment["text"] if show_text else "",
            "link": self.link(item_id, person.name),
            "out_of_hours": not self.calendar.in_working_hours(self.store.now()),
            "dsl_name": s.dsl.name,
            "dsl_phone": s.dsl.phone,
            "deputy_name": s.deputy_dsl.name,
            "deputy_phone": s.deputy_dsl.phone,
            "escalation_id": "",
            "route": "",
            "urgent": False,
            **extra,
        }
        subject = {
            "alert": f"[modbot] {'URGENT ' if extra.get('urgent') else ''}safeguarding concern: "
            f"escalation {extra.get('escalation_id')}",
            "backup": f"[modbot] backup needed: item {item_id} not yet acknowledged",
            "breach": f"[modbot] deadline missed: item {item_id}",
        }.get(step, f"[modbot] reminder: item {item_id} due {due:%a %H:%M}")
        return self.notifier.notify(item_id, step, person, subject, template, context)
