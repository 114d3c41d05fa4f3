"""The month's figures, as typed records: what the report prints and the dashboard shows.

Computed from `bot.store.reporting` only, so the report, its CSV and the dashboard's senior-
leader page can never disagree. Every rate is a `Rate` (a count and a total), never a bare
percentage: an empty month shows "n/a", never a division by zero."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.config.settings import SchoolSettings
from bot.core.clock import iso
from bot.reports.identity import identity_groups
from bot.reports.month import Month, Window
from bot.store.reporting import Reporting

TAKEN_DOWN = ("hide", "escalate")
ACTIONS = ("allow", "respond", "hide", "escalate")
PERSON_ACTS = {"auth_expired", "permission_missing"}  # a person must fix the token/permission
RETRYING = {"failing", "rate_limited"}
RECOVERED = {"account.ok", "account.recovered"}


@dataclass(frozen=True)
class Rate:
    count: int
    total: int

    @property
    def percent(self) -> float | None:
        return 100.0 * self.count / self.total if self.total else None

    def __str__(self) -> str:
        pct = self.percent
        return "n/a" if pct is None else f"{pct:.0f}%"

    @property
    def fraction(self) -> str:
        return f"{self.count} of {self.total}"


@dataclass(frozen=True)
class Headline:
    moderated: int  # comments decided in the month (an edited comment once)
    hidden: int  # comments hidden on the platforms in the month
    escalated: int  # safeguarding escalations opened
    replies_needed: int  # comments a person should reply to (questions, complaints)
    shadow_hides: int = 0  # accounts in shadow mode: comments modbot would have hidden
    by_action: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Comparison:
    label: str
    now: int
    before: int

    @property
    def change(self) -> str:
        if self.now == self.before:
            return "no change"
        if self.before == 0:
            return f"up {self.now} (none the month before)"
        diff = self.now - self.before
        pct = abs(diff) * 100 / self.before
        return f"{'up' if diff > 0 else 'down'} {abs(diff)} ({pct:.0f}%)"


@dataclass(frozen=True)
class Breach:
    item_id: int
    kind: str
    due_at: datetime
    assignee: str
    acknowledged_at: datetime | None
    acknowledged_by: str | None


@dataclass(frozen=True)
class Cover:
    name: str
    start: date
    end: date
    covered_by: tuple[tuple[str, int], ...]  # who had the items that arrived meanwhile


@dataclass(frozen=True)
class Deadlines:
    """The 24-hour rule: items (replies needed, hidden comments to check) due in the month."""

    due: int
    in_time: int
    late: int
    missed: int  # never acknowledged
    waiting: int  # not due yet (a month still in progress)
    by_backup: int
    breaches: tuple[Breach, ...]
    cover: tuple[Cover, ...]

    @property
    def rate(self) -> Rate:
        return Rate(self.in_time, self.due - self.waiting)


@dataclass(frozen=True)
class EscalationRef:
    id: int
    opened_at: datetime
    categories: tuple[str, ...]
    route: str
    status: str
    urgent: bool
    minutes_to_ack: float | None
    within_deadline: bool | None


@dataclass(frozen=True)
class Safeguarding:
    escalations: tuple[EscalationRef, ...]
    by_category: tuple[tuple[str, int], ...]
    by_route: tuple[tuple[str, int], ...]
    by_status: tuple[tuple[str, int], ...]

    @property
    def total(self) -> int:
        return len(self.escalations)

    @property
    def urgent(self) -> int:
        return sum(e.urgent for e in self.escalations)

    @property
    def _ack(self) -> list[float]:
        return [e.minutes_to_ack for e in self.escalations if e.minutes_to_ack is not None]

    @property
    def median_minutes_to_ack(self) -> float | None:
        return statistics.median(self._ack) if self._ack else None

    @property
    def longest_minutes_to_ack(self) -> float | None:
        return max(self._ack) if self._ack else None

    @property
    def not_acknowledged(self) -> int:
        return sum(e.minutes_to_ack is None for e in self.escalations)

    @property
    def within_deadline(self) -> Rate:
        judged = [e for e in self.escalations if e.within_deadline is not None]
        return Rate(sum(bool(e.within_deadline) for e in judged), len(judged))


@dataclass(frozen=True)
class Accuracy:
    hidden: int
    restored: int
    by_rule: tuple[tuple[str, int], ...]
    by_layer: tuple[tuple[str, int], ...]
    feedback_recorded: bool  # the dashboard's labelled false positives exist in this database

    @property
    def rate(self) -> Rate:
        return Rate(self.restored, self.hidden)


@dataclass(frozen=True)
class GroupRate:
    group: str
    rate: Rate  # taken down, of the comments naming the group


@dataclass(frozen=True)
class Fairness:
    naming: Rate  # taken down, of the comments (words kept) that name an identity group
    others: Rate  # taken down, of the comments (words kept) that name none
    unknown: int  # comments whose words are no longer kept, so cannot be checked
    takedowns_naming: Rate  # of every comment taken down, how many named a group
    takedowns_naming_hate: int  # of those, how many the rules found to be identity hate
    by_group: tuple[GroupRate, ...]

    @property
    def measurable(self) -> bool:
        """Only when every comment's words were checked: the words dropped are those of
        comments left up, so comparing the rest would overstate both take-down rates."""
        return self.unknown == 0 and self.naming.total > 0 and self.others.total > 0


@dataclass(frozen=True)
class Episode:
    kind: str  # "token or permission" | "platform errors" | "hiding paused"
    start: datetime
    end: datetime
    estimated: bool  # the end is the first sign it worked again, not a recorded recovery

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600


@dataclass(frozen=True)
class AccountWatch:
    key: str
    name: str
    platform: str
    mode: str  # as configured now
    decisions_by_mode: tuple[tuple[str, int], ...]  # what the month's decisions were made in
    episodes: tuple[Episode, ...]

    def hours(self, kind: str) -> float:
        return sum(e.hours for e in self.episodes if e.kind == kind)

    @property
    def estimated(self) -> bool:
        return any(e.estimated for e in self.episodes)


@dataclass(frozen=True)
class Week:
    start: date
    end: date  # the last day, inclusive
    by_platform: dict[str, int]
    by_action: dict[str, int]
    median_minutes_to_hide: float | None
    acknowledged: Rate


@dataclass(frozen=True)
class AccountActivity:
    key: str
    name: str
    platform: str
    purpose: str
    mode: str
    comments: int
    posts: int
    hidden: int
    escalated: int
    replies_needed: int
    top_categories: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class MonthFigures:
    month: Month
    school: str
    generated_at: datetime
    until: datetime  # the end of the month, or now for a month still in progress
    in_progress: bool
    headline: Headline
    previous: Headline
    deadlines: Deadlines
    safeguarding: Safeguarding
    accuracy: Accuracy
    fairness: Fairness
    watching: tuple[AccountWatch, ...]
    weeks: tuple[Week, ...]
    accounts: tuple[AccountActivity, ...]

    @property
    def no_activity(self) -> bool:
        return (
            self.headline.moderated == 0
            and self.headline.hidden == 0
            and self.safeguarding.total == 0
            and self.deadlines.due == 0
            and not any(a.episodes for a in self.watching)
        )

    @property
    def changes(self) -> tuple[Comparison, ...]:
        now, before = self.headline, self.previous
        return (
            Comparison("Comments moderated", now.moderated, before.moderated),
            Comparison("Hidden", now.hidden, before.hidden),
            Comparison("Escalated to the DSL", now.escalated, before.escalated),
            Comparison("Needed a reply", now.replies_needed, before.replies_needed),
        )


# --- assembly -------------------------------------------------------------------------------


def _t(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _counted(values: Iterable[str]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(Counter(values).items(), key=lambda kv: (-kv[1], kv[0])))


def _taken_down(row: dict) -> bool:
    return row["action"] == "hide" or (row["action"] == "escalate" and bool(row["hide"]))


def headline(q: Reporting, window: Window) -> Headline:
    rows = q.decisions(window.lo, window.hi)
    latest = q.latest_decision_ids(window.lo, window.hi)
    last = [r for r in rows if r["id"] in latest]
    hides = q.actions("hide", window.lo, window.hi)
    done = {(h["platform"], h["comment_id"]) for h in hides if h["status"] == "done"}
    shadow = {(h["platform"], h["comment_id"]) for h in hides if h["status"] == "shadow"}
    by_action = Counter(r["action"] for r in last)
    return Headline(
        moderated=len(last),
        hidden=len(done),
        escalated=len(q.escalations(window.lo, window.hi)),
        replies_needed=by_action["respond"],
        shadow_hides=len(shadow - done),
        by_action={a: by_action[a] for a in ACTIONS},
    )


def deadlines(
    q: Reporting, settings: SchoolSettings, window: Window, until: datetime, tz: ZoneInfo
) -> Deadlines:
    items = [i for i in q.items_due(window.lo, window.hi) if i["kind"] != "escalation"]
    in_time = late = missed = waiting = by_backup = 0
    breaches = []
    for i in items:
        due, acked = _t(i["due_at"]), _t(i["acknowledged_at"])
        assert due is not None
        if acked is not None and acked <= due:
            in_time += 1
        elif acked is None and due > until:
            waiting += 1
            continue
        else:
            late += acked is not None
            missed += acked is None
            breaches.append(
                Breach(
                    i["id"],
                    i["kind"],
                    due.astimezone(tz),
                    i["assignee"],
                    acked.astimezone(tz) if acked else None,
                    i["acknowledged_by"],
                )
            )
        if acked is not None and i["acknowledged_by"] and i["acknowledged_by"] == i["backup"]:
            by_backup += 1
    return Deadlines(
        len(items),
        in_time,
        late,
        missed,
        waiting,
        by_backup,
        tuple(breaches),
        _cover(q, settings, window, tz),
    )


def _cover(
    q: Reporting, settings: SchoolSettings, window: Window, tz: ZoneInfo
) -> tuple[Cover, ...]:
    """Who had the items that arrived while someone was on leave (configured or recorded)."""
    first = window.start.astimezone(tz).date()
    last = (window.end - timedelta(seconds=1)).astimezone(tz).date()
    periods = {
        (leave.name, leave.start, leave.end)
        for leave in settings.acknowledgement.leave
        if leave.start <= last and leave.end >= first
    }
    periods |= {
        (r["name"], date.fromisoformat(r["start"]), date.fromisoformat(r["end"]))
        for r in q.leave(window.lo, window.hi)
    }
    if not periods:
        return ()
    items = q.items_due(iso(window.start - timedelta(days=7)), iso(window.end + timedelta(days=7)))
    out = []
    for name, start, end in sorted(periods, key=lambda p: (p[1], p[0])):
        during = [
            i["assignee"]
            for i in items
            if max(start, first)
            <= datetime.fromisoformat(i["received_at"]).astimezone(tz).date()
            <= min(end, last)
            and i["assignee"] != name
            and i["kind"] != "escalation"  # the DSL's own clock, not the rota's
        ]
        out.append(Cover(name, start, end, _counted(during)))
    return tuple(out)


def safeguarding(q: Reporting, window: Window, tz: ZoneInfo) -> Safeguarding:
    refs = []
    for e in q.escalations(window.lo, window.hi):
        opened, acked, due = _t(e["created_at"]), _t(e["acknowledged_at"]), _t(e["due_at"])
        assert opened is not None
        refs.append(
            EscalationRef(
                e["id"],
                opened.astimezone(tz),
                tuple(e["categories"]),
                e["route"] or "not set",
                e["status"],
                e["urgent"],
                (acked - opened).total_seconds() / 60 if acked else None,
                (acked <= due) if acked and due else None,
            )
        )
    return Safeguarding(
        tuple(refs),
        _counted(c for r in refs for c in r.categories),
        _counted(r.route for r in refs),
        _counted(r.status for r in refs),
    )


def layer_of(rules: list[str], reasons: list[str]) -> str:
    """Which layer decided: the rules, the semantic model, or the toxicity model."""
    if any(r.startswith("semantic model") for r in reasons):
        return "semantic model"
    if rules:
        return "rules"
    if any(" score " in r for r in reasons):
        return "toxicity model"
    return "other"


def accuracy(q: Reporting, window: Window, hidden: int) -> Accuracy:
    rows, feedback = q.restores(window.lo, window.hi)
    return Accuracy(
        hidden,
        len(rows),
        _counted(rule for r in rows for rule in (r["rules"] or ["(no rule: a model score)"])),
        _counted(layer_of(r["rules"], r["reasons"]) for r in rows),
        feedback,
    )


def fairness(q: Reporting, window: Window) -> Fairness:
    latest = q.latest_decision_ids(window.lo, window.hi)
    rows = [r for r in q.decisions(window.lo, window.hi) if r["id"] in latest]
    groups = q.identity_groups([r["id"] for r in rows], identity_groups)
    known = [(r, groups[r["id"]]) for r in rows if groups.get(r["id"]) is not None]
    naming = [r for r, g in known if g]
    others = [r for r, g in known if not g]
    downs = [r for r in rows if _taken_down(r)]
    downs_naming = [r for r in downs if groups.get(r["id"])]
    by_group = []
    for group in sorted({g for _, gs in known for g in gs or ()}):
        named = [r for r, gs in known if gs and group in gs]
        by_group.append(GroupRate(group, Rate(sum(map(_taken_down, named)), len(named))))
    return Fairness(
        Rate(sum(map(_taken_down, naming)), len(naming)),
        Rate(sum(map(_taken_down, others)), len(others)),
        len(rows) - len(known),
        Rate(len(downs_naming), len(downs)),
        sum("identity_hate" in r["categories"] for r in downs_naming),
        tuple(by_group),
    )


def _episode_kind(event: str) -> str | None:
    state = event.removeprefix("account.")
    if state in PERSON_ACTS:
        return "token or permission"
    if state in RETRYING:
        return "platform errors"
    return None


def watching(
    q: Reporting, settings: SchoolSettings, window: Window, until: datetime
) -> tuple[AccountWatch, ...]:
    """Time each account was not being watched (token or permission problems, repeated
    platform errors) or had automatic hiding paused (the circuit breaker), from the audit
    log. The log records when a problem starts; when no recovery was recorded, the end is the
    first sign that the account worked again (a comment read, its last good poll), marked as
    estimated."""
    events = q.watch_events(iso(until))
    states = q.account_states()
    decisions = q.decisions(window.lo, window.hi)
    out = []
    for acct in settings.accounts:
        mine = [e for e in events if e["account"] == acct.key]
        episodes = _breaker_episodes(mine, until) + _health_episodes(
            q, acct.platform, acct.account_id, mine, states.get(acct.key), until
        )
        clipped = tuple(
            Episode(e.kind, max(e.start, window.start), min(e.end, until), e.estimated)
            for e in sorted(episodes, key=lambda e: e.start)
            if e.end > window.start and e.start < until
        )
        modes = _counted(
            r["mode"]
            for r in decisions
            if r["platform"] == acct.platform and r["account"] == acct.account_id
        )
        out.append(
            AccountWatch(acct.key, acct.display_name, acct.platform, acct.mode, modes, clipped)
        )
    return tuple(out)


def _breaker_episodes(events: list[dict], until: datetime) -> list[Episode]:
    out, start = [], None
    for e in events:
        if e["event"] == "breaker.tripped" and start is None:
            start = _t(e["at"])
        elif e["event"] == "breaker.resumed" and start is not None:
            out.append(Episode("hiding paused", start, _t(e["at"]) or until, False))
            start = None
    if start is not None:
        out.append(Episode("hiding paused", start, until, False))
    return out


def _health_episodes(
    q: Reporting,
    platform: str,
    account_id: str,
    events: list[dict],
    state: dict | None,
    until: datetime,
) -> list[Episode]:
    out: list[Episode] = []
    hi = iso(until)
    current: Episode | None = None
    for e in events:
        at = _t(e["at"])
        assert at is not None
        if e["event"] in RECOVERED:
            if current is not None:
                out.append(Episode(current.kind, current.start, at, False))
                current = None
            continue
        kind = _episode_kind(e["event"])
        if kind is None:
            continue
        if current is not None and current.end > at:  # still in it (or changed kind)
            if kind == current.kind:
                continue
            out.append(Episode(current.kind, current.start, at, current.estimated))
        elif current is not None:
            out.append(current)
        current = _open_episode(q, platform, account_id, kind, at, state, until, hi)
    if current is not None:
        out.append(current)
    return out


def _open_episode(q, platform, account_id, kind, at, state, until, hi) -> Episode:
    """An episode from `at` to the first sign the account worked again, else `until`."""
    signs = [_t(q.first_read_after(platform, account_id, iso(at), hi))]
    if state and state.get("last_ok_at"):
        signs.append(_t(state["last_ok_at"]))
    after = [s for s in signs if s is not None and s > at]
    if after:
        return Episode(kind, at, min(min(after), until), True)
    return Episode(kind, at, until, False)


def weeks(q: Reporting, window: Window, until: datetime, tz: ZoneInfo) -> tuple[Week, ...]:
    rows = q.decisions(window.lo, window.hi)
    latest = q.latest_decision_ids(window.lo, window.hi)
    hides = [h for h in q.actions("hide", window.lo, window.hi) if h["status"] == "done"]
    items = [i for i in q.items_due(window.lo, window.hi) if i["kind"] != "escalation"]
    out = []
    for week in window.weeks(tz):
        in_week = [
            r
            for r in rows
            if r["id"] in latest and week.contains(_t(r["created_at"]))  # type: ignore[arg-type]
        ]
        minutes = [
            (_t(h["completed_at"]) - _t(h["comment_created_at"])).total_seconds() / 60  # type: ignore[operator]
            for h in hides
            if week.contains(_t(h["completed_at"]))  # type: ignore[arg-type]
        ]
        due = [
            i
            for i in items
            if week.contains(_t(i["due_at"]))  # type: ignore[arg-type]
            and (i["acknowledged_at"] or _t(i["due_at"]) <= until)  # type: ignore[operator]
        ]
        ok = sum(bool(i["acknowledged_at"]) and i["acknowledged_at"] <= i["due_at"] for i in due)
        out.append(
            Week(
                week.start.date(),
                (week.end - timedelta(seconds=1)).astimezone(tz).date(),
                dict(Counter(r["platform"] for r in in_week)),
                {a: sum(r["action"] == a for r in in_week) for a in ACTIONS},
                statistics.median(minutes) if minutes else None,
                Rate(ok, len(due)),
            )
        )
    return tuple(out)


def account_activity(
    q: Reporting, settings: SchoolSettings, window: Window
) -> tuple[AccountActivity, ...]:
    latest = q.latest_decision_ids(window.lo, window.hi)
    rows = [r for r in q.decisions(window.lo, window.hi) if r["id"] in latest]
    hidden = defaultdict(set)
    for h in q.actions("hide", window.lo, window.hi):
        if h["status"] == "done":
            hidden[(h["platform"], h["account"])].add(h["comment_id"])
    out = []
    for acct in settings.accounts:
        mine = [
            r for r in rows if r["platform"] == acct.platform and r["account"] == acct.account_id
        ]
        out.append(
            AccountActivity(
                acct.key,
                acct.display_name,
                acct.platform,
                acct.purpose,
                acct.mode,
                len(mine),
                len({r["post_id"] for r in mine}),
                len(hidden[(acct.platform, acct.account_id)]),
                sum(r["escalation_id"] is not None for r in mine),
                sum(r["action"] == "respond" for r in mine),
                _counted(c for r in mine for c in r["categories"])[:4],
            )
        )
    return tuple(out)


def month_figures(
    store, settings: SchoolSettings, month: Month, now: datetime | None = None
) -> MonthFigures:
    """Everything the report and the dashboard show for `month`, as of `now` (default: the
    store's clock). Raises BadMonth for a month that has not started."""
    tz = settings.school.tz
    now = (now or store.now()).astimezone(tz)
    month.check_started(now, tz)
    window = month.window(tz)
    until = min(window.end, now)
    q = Reporting(store)
    head = headline(q, window)
    return MonthFigures(
        month=month,
        school=settings.school.name,
        generated_at=now,
        until=until,
        in_progress=until < window.end,
        headline=head,
        previous=headline(q, month.previous().window(tz)),
        deadlines=deadlines(q, settings, window, until, tz),
        safeguarding=safeguarding(q, window, tz),
        accuracy=accuracy(q, window, head.hidden),
        fairness=fairness(q, window),
        watching=watching(q, settings, window, until),
        weeks=weeks(q, window, until, tz),
        accounts=account_activity(q, settings, window),
    )
