"""Digests for each administrator at set times on working days: what was hidden and why (no
comment text, no safeguarding detail), what waits for them, deadlines coming up, breaches, and
accounts whose polling is failing. Each digest slot is sent to each person once."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from bot.acknowledgement.desk import AckDesk

DIGEST_ITEM = 0  # digests are recorded in `notifications` under item 0


def due_slots(desk: AckDesk, now: datetime) -> list[datetime]:
    """Today's digest times that have passed, on a working day, in school time."""
    local = desk.calendar.local(now)
    if not desk.calendar.is_working_day(local.date()):
        return []
    slots = [
        datetime.combine(local.date(), t, tzinfo=desk.calendar.tz)
        for t in desk.settings.acknowledgement.digest_times
    ]
    return [s for s in slots if s <= now]


def content(desk: AckDesk, now: datetime, since: datetime) -> dict:
    """What every administrator's digest shows; `waiting` is filled in per person."""
    store, cal = desk.store, desk.calendar

    def fmt(at: str) -> str:
        return f"{cal.local(datetime.fromisoformat(at)):%a %-d %b %H:%M}"

    def item_view(row: dict) -> dict:
        decision = store.db["decisions"].get(row["decision_id"])
        return {
            "id": row["id"],
            "kind": row["kind"],
            "due": fmt(row["due_at"]),
            "due_at": row["due_at"],
            "assignee": row["assignee"],
            "categories": ", ".join(json.loads(decision["categories"])),
        }

    open_items = [
        item_view(r)
        for r in store.rows("select * from items where status = 'open' order by due_at")
    ]
    soon = now + timedelta(hours=24)
    accounts = {a.account_id: a.display_name for a in desk.settings.accounts}
    hidden = store.rows(
        "select c.account, d.reasons, d.categories from decisions d join comments c on "
        "c.platform = d.platform and c.comment_id = d.comment_id where d.action = 'hide' "
        "and d.created_at > ? and d.created_at <= ? order by d.id",
        [since.isoformat(), now.isoformat()],
    )
    return {
        "school": desk.settings.school.name,
        "when": f"{cal.local(now):%A %-d %B %Y %H:%M}",
        "breaches": [
            item_view(r)
            for r in store.rows("select * from items where status = 'breached' order by due_at")
        ],
        "open": open_items,
        "upcoming": [v for v in open_items if datetime.fromisoformat(v["due_at"]) <= soon],
        "hidden": [
            {
                "account": accounts.get(h["account"], h["account"]),
                "reasons": "; ".join(json.loads(h["reasons"])),
            }
            for h in hidden
        ],
        "failing": store.rows("select * from accounts where health != 'ok'"),
    }


def send_digests(desk: AckDesk) -> list[str]:
    now = desk.store.now()
    sent = []
    unsent = desk.store.rows(  # a digest that failed earlier is retried, never dropped
        "select distinct step from notifications where item_id = ? and status != 'sent' "
        "and attempts < 5",
        [DIGEST_ITEM],
    )
    slots = {datetime.fromisoformat(r["step"].removeprefix("digest-")) for r in unsent}
    for slot in sorted(slots | set(due_slots(desk, now))):
        step = f"digest-{slot.isoformat(timespec='minutes')}"
        previous = desk.store.rows(
            "select max(created_at) at from notifications where item_id = ? and step < ?",
            [DIGEST_ITEM, step],
        )[0]["at"]
        since = datetime.fromisoformat(previous) if previous else slot - timedelta(days=1)
        shared = content(desk, now, since)
        for person in desk.settings.administrators:
            waiting = [v for v in shared["open"] if v["assignee"] == person.name]
            context = {**shared, "waiting": waiting}
            subject = (
                f"[modbot] digest {slot:%a %-d %b %H:%M}: {len(context['waiting'])} "
                f"waiting for you, {len(context['breaches'])} missed"
            )
            if (
                desk.notifier.notify(DIGEST_ITEM, step, person, subject, "digest", context)
                == "sent"
            ):
                sent.append(f"{step} -> {person.name}")
    return sent
