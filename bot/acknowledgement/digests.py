"""Digests for each administrator at set times on working days: what was hidden and why (no
comment text, no safeguarding detail), what waits for them, deadlines coming up, breaches,
accounts not being watched, messages that keep failing, and which judgement layers are on.

`queue_digests` writes one outbox row per (slot, person); `digest_context` fills it in when it
is sent. A slot's window runs from the previous slot to this one, both in UTC."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.clock import iso
from bot.notify.outbox import STUCK_AFTER
from bot.store.records import Message, MessageKind, NewMessage


def slots_on(desk, day) -> list[datetime]:
    if not desk.calendar.is_working_day(day):
        return []
    return [
        datetime.combine(day, t, tzinfo=desk.calendar.tz)
        for t in sorted(desk.settings.acknowledgement.digest_times)
    ]


def due_slots(desk, now: datetime) -> list[datetime]:
    """Today's digest times that have passed, on a working day, in school time."""
    return [s for s in slots_on(desk, desk.calendar.local(now).date()) if s <= now]


def previous_slot(desk, slot: datetime) -> datetime:
    """The slot before this one: earlier today, else the last one of an earlier working day
    (at most two weeks back), else a day before."""
    earlier = [s for s in slots_on(desk, slot.date()) if s < slot]
    if earlier:
        return earlier[-1]
    day = slot.date()
    for _ in range(14):
        day -= timedelta(days=1)
        slots = slots_on(desk, day)
        if slots:
            return slots[-1]
    return slot - timedelta(days=1)


def queue_digests(desk, now: datetime) -> list[str]:
    queued = []
    for slot in due_slots(desk, now):
        for person in desk.settings.administrators:
            new = desk.store.outbox.put(
                NewMessage(
                    kind=MessageKind.DIGEST,
                    dedupe=f"digest:{iso(slot)}:{person.name}",
                    recipient=person.name,
                    address=person.email,
                    template="digest",
                    subject=f"[modbot] digest {slot:%a %-d %b %H:%M}",
                    context={"slot": iso(slot)},
                )
            )
            if new is not None:
                queued.append(f"digest {iso(slot)} -> {person.name}")
    return queued


def digest_context(desk, message: Message) -> dict:
    store, cal = desk.store, desk.calendar
    slot = cal.local(datetime.fromisoformat(message.context["slot"]))
    since = previous_slot(desk, slot)
    now = store.now()

    def fmt(at: datetime) -> str:
        return f"{cal.local(at):%a %-d %b %H:%M}"

    def item_view(item) -> dict:
        facts = store.item_facts(item.decision_id)
        return {
            "id": item.id,
            "kind": item.kind,
            "due": fmt(item.due_at),
            "due_at": item.due_at,
            "assignee": item.assignee,
            "categories": ", ".join(facts["categories"]),
        }

    waiting = store.items.waiting()
    open_items = [item_view(i) for i in waiting if i.status.value == "open"]
    accounts = {a.account_id: a.display_name for a in desk.settings.accounts}
    hidden = [
        {"account": accounts.get(h["account"], h["account"]), "reasons": "; ".join(h["reasons"])}
        for h in store.hidden_between(since, slot)
    ]
    mine = [v for v in open_items if v["assignee"] == message.recipient]
    breaches = [item_view(i) for i in waiting if i.status.value == "breached"]
    return {
        "when": f"{slot:%A %-d %B %Y %H:%M}",
        "since": fmt(since),
        "breaches": breaches,
        "open": open_items,
        "waiting": mine,
        "upcoming": [v for v in open_items if v["due_at"] <= now + timedelta(hours=24)],
        "hidden": hidden,
        "failing": store.failing_accounts(),
        "stuck_messages": len(store.outbox.stuck(STUCK_AFTER)),
        "layers": desk.layers,
        "subject": f"[modbot] digest {slot:%a %-d %b %H:%M}: {len(mine)} waiting for you, "
        f"{len(breaches)} missed",
    }
