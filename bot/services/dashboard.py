"""What the dashboard's overview pages show, per role: Today, Accounts, Leave and the rota,
and the numbers for senior leaders.

Senior leaders (slt) get numbers only: what they are given here has no comment's words, no
author and no child's name, so no template can show one by mistake. Administrators and the DSL
get the waiting items with an excerpt of the words; a safeguarding escalation is only ever
named by its categories here (its words are on its own page, where each view is audited)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from bot.acknowledgement.duty import who_is_on_duty
from bot.config.settings import SchoolSettings
from bot.services.actors import Actor, Role
from bot.store import Store
from bot.store.records import Escalation, EscalationStatus
from bot.store.reviews import SUGGESTED

SOON = timedelta(hours=4)  # the first reminder goes out this long before a deadline
EXCERPT = 140


@dataclass(frozen=True)
class Waiting:
    """One item nobody has acknowledged yet."""

    id: int
    kind: str
    due_at: datetime
    left: timedelta  # negative: overdue
    urgency: str  # overdue | soon | later (the colour; the words say it too)
    breached: bool  # the deadline passed and the senior leader was told
    assignee: str
    backup: str
    platform: str
    account: str
    categories: tuple[str, ...]
    excerpt: str | None  # None for escalations and for senior leaders
    author: str | None


@dataclass(frozen=True)
class Unwatched:
    name: str
    why: str


@dataclass
class Today:
    now: datetime
    waiting: list[Waiting] = field(default_factory=list)  # empty for slt (numbers only)
    counts: dict[str, int] = field(default_factory=dict)
    unwatched: list[Unwatched] = field(default_factory=list)
    second_opinions: int = 0
    ban_requests: int = 0
    new_escalations: int = 0


def excerpt(text: str | None, width: int = EXCERPT) -> str:
    text = " ".join((text or "").split())
    if not text:
        return "(words not kept)"
    return text if len(text) <= width else text[: width - 1] + "…"


def today(store: Store, settings: SchoolSettings, actor: Actor) -> Today:
    actor.require(Role.ADMIN, Role.DSL, Role.SLT)
    now = store.now()
    view = Today(now=now, unwatched=unwatched(store, settings))
    waiting = []
    for r in store.reviews.waiting_items():
        left = datetime.fromisoformat(r["due_at"]) - now
        urgency = "overdue" if left <= timedelta(0) or r["status"] == "breached" else "later"
        if urgency == "later" and left <= SOON:
            urgency = "soon"
        words = actor.sees_comment_text and r["kind"] != "escalation"
        waiting.append(
            Waiting(
                id=r["id"],
                kind=r["kind"],
                due_at=datetime.fromisoformat(r["due_at"]),
                left=left,
                urgency=urgency,
                breached=r["status"] == "breached",
                assignee=r["assignee"],
                backup=r["backup"],
                platform=r["platform"],
                account=r["account"],
                categories=tuple(r["categories"]),
                excerpt=excerpt(r["text"]) if words else None,
                author=(r["author_handle"] or "") if words else None,
            )
        )
    view.counts = dict(Counter(w.urgency for w in waiting))
    view.counts["breached"] = sum(1 for w in waiting if w.breached)
    view.counts.update({f"kind:{k}": n for k, n in Counter(w.kind for w in waiting).items()})
    if actor.role is Role.SLT:
        return view
    if actor.role is Role.DSL:
        view.waiting = waiting
    else:  # an administrator's list is their own work; concerns are the DSL's
        view.waiting = [w for w in waiting if w.kind != "escalation"]
    view.second_opinions = sum(1 for f in store.reviews.awaiting_second() if f.by != actor.name)
    if actor.role is Role.DSL:
        view.ban_requests = len(store.reviews.bans(SUGGESTED))
        view.new_escalations = sum(
            1 for e in store.escalations.all() if e.status is EscalationStatus.NEW
        )
    return view


def escalation_queue(store: Store, actor: Actor) -> list[Escalation]:
    """The DSL's queue on the dashboard: references, categories, status and route, newest
    first; the words are on each record's page. Senior leaders get the numbers instead."""
    actor.require(Role.DSL)
    return store.escalations.all()


# --- accounts ----------------------------------------------------------------------------
@dataclass(frozen=True)
class AccountView:
    key: str
    name: str
    platform: str
    mode: str
    health: str
    last_poll_at: datetime | None
    last_ok_at: datetime | None
    last_error: str | None
    next_poll_at: datetime | None
    paused_at: datetime | None  # the circuit breaker tripped: automatic hiding paused
    paused_why: str | None
    problem: str | None  # why it is not being watched, in words; None when all is well


def accounts(store: Store, settings: SchoolSettings, actor: Actor) -> list[AccountView]:
    actor.require(Role.ADMIN, Role.DSL, Role.SLT)
    breakers = {
        b["account"]: b for b in store.breakers() if b["tripped_at"] and not b["resumed_at"]
    }
    now = store.now()
    out = []
    for account in settings.accounts:
        state = store.accounts.get(account.key)
        breaker = breakers.get(account.key)
        problems = []
        if state is None or state.last_poll_at is None:
            problems.append("never checked yet: ask whoever runs modbot to start it")
        elif state.health != "ok":
            problems.append(
                {
                    "auth_expired": "the platform's sign-in (token) has expired: renew it",
                    "permission_missing": "a permission is missing on the platform",
                }.get(state.health, "the platform is not answering; modbot keeps trying")
            )
        elif now - state.last_poll_at > max(
            timedelta(seconds=3 * account.poll_interval_seconds), timedelta(minutes=15)
        ):
            problems.append("not checked for a while: ask whoever runs modbot to check it")
        if breaker:
            problems.append("automatic hiding is paused (circuit breaker)")
        problem = "; ".join(problems) or None
        out.append(
            AccountView(
                key=account.key,
                name=account.display_name,
                platform=account.platform,
                mode=account.mode,
                health=state.health if state else "unknown",
                last_poll_at=state.last_poll_at if state else None,
                last_ok_at=state.last_ok_at if state else None,
                last_error=state.last_error if state else None,
                next_poll_at=state.next_poll_at if state else None,
                paused_at=datetime.fromisoformat(breaker["tripped_at"]) if breaker else None,
                paused_why=breaker["reason"] if breaker else None,
                problem=problem,
            )
        )
    return out


def unwatched(store: Store, settings: SchoolSettings) -> list[Unwatched]:
    return [
        Unwatched(a.name, a.problem)
        for a in accounts(store, settings, Actor("modbot", Role.SLT))
        if a.problem
    ]


# --- leave and the rota --------------------------------------------------------------------
@dataclass(frozen=True)
class DutyDay:
    day: date
    assignee: str
    backup: str
    note: str
    working: bool


@dataclass(frozen=True)
class DutySpan:
    """Consecutive days with the same people on duty."""

    first: date
    last: date
    assignee: str
    backup: str
    note: str


@dataclass(frozen=True)
class Rota:
    days: list[DutyDay]
    leave: list[dict]  # name, start, end, where (configuration or recorded)
    people: list[str]  # who leave may be recorded for

    @property
    def today(self) -> DutyDay:
        return self.days[0]

    @property
    def spans(self) -> list[DutySpan]:
        out: list[DutySpan] = []
        for d in self.days:
            last = out[-1] if out else None
            if last and (last.assignee, last.backup, last.note) == (d.assignee, d.backup, d.note):
                out[-1] = DutySpan(last.first, d.day, d.assignee, d.backup, d.note)
            else:
                out.append(DutySpan(d.day, d.day, d.assignee, d.backup, d.note))
        return out


def rota(store: Store, settings: SchoolSettings, actor: Actor, days: int = 14) -> Rota:
    actor.require(Role.ADMIN, Role.DSL, Role.SLT)
    calendar = settings.school_calendar()
    start = calendar.local(store.now()).date()
    out = []
    for n in range(days):
        day = start + timedelta(days=n)
        duty = who_is_on_duty(settings, store, day)
        out.append(
            DutyDay(
                day, duty.assignee.name, duty.backup.name, duty.note, calendar.is_working_day(day)
            )
        )
    leave = [
        {"name": x.name, "start": x.start, "end": x.end, "where": "configuration file"}
        for x in settings.acknowledgement.leave
    ] + [
        {
            "name": x["name"],
            "start": date.fromisoformat(x["start"]),
            "end": date.fromisoformat(x["end"]),
            "where": "recorded here",
        }
        for x in store.items.leave()
    ]
    leave = [x for x in leave if x["end"] >= start]
    leave.sort(key=lambda x: x["start"])
    people = sorted(settings.people()) if actor.role is not Role.SLT else [actor.name]
    return Rota(out, leave, people)


# --- numbers for senior leaders --------------------------------------------------------------
@dataclass(frozen=True)
class Numbers:
    decisions: dict[str, int]
    categories: dict[str, int]
    items: dict[str, int]
    escalations_by_status: dict[str, int]
    escalations_by_category: dict[str, int]
    escalations_by_route: dict[str, int]
    urgent_escalations: int
    reviews: dict[str, int]
    bans: dict[str, int]
    accounts_unwatched: int


def numbers(store: Store, settings: SchoolSettings, actor: Actor) -> Numbers:
    """Counts only, for everyone with a dashboard: nothing a comment said, nobody's name."""
    actor.require(Role.ADMIN, Role.DSL, Role.SLT)
    escalations = store.escalations.all()
    items: Counter[str] = Counter()
    for item in store.items.with_status(None):
        items[f"{item.kind} {item.status.value}"] += 1
    return Numbers(
        decisions=store.reviews.decision_counts(),
        categories=store.reviews.category_counts(),
        items=dict(sorted(items.items())),
        escalations_by_status=dict(Counter(e.status.value for e in escalations)),
        escalations_by_category=dict(
            Counter(c for e in escalations for c in e.categories).most_common()
        ),
        escalations_by_route=dict(
            Counter((e.route or "none").split(":")[0] for e in escalations).most_common()
        ),
        urgent_escalations=sum(1 for e in escalations if e.urgent),
        reviews=store.reviews.feedback_counts(),
        bans=dict(Counter(b.status for b in store.reviews.bans(None))),
        accounts_unwatched=len(unwatched(store, settings)),
    )
