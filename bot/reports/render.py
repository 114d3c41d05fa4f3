"""The month's figures as files: one HTML page (charts inline, no JavaScript), the same HTML
printed to PDF by WeasyPrint (page numbers, the school's name, the period and the "Official -
Sensitive" marking in the margins of every page), and a CSV of the month's decisions.

Nothing here reads a comment's words or an author: the figures and rows it is given have none.
Every file is written 0600."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import jinja2

from bot.core.files import write_private
from bot.reports.figures import MonthFigures, layer_of

MARKING = "Official – Sensitive"
CSV_COLUMNS = (
    "reference",
    "decided_at",
    "platform",
    "account",
    "action",
    "hidden_on_platform",
    "categories",
    "severity",
    "mode",
    "layer",
    "rules",
    "item",
    "item_kind",
    "item_status",
    "acknowledged_in_time",
    "escalation",
    "restored_in_month",
)


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    pdf: Path
    csv: Path


def label(value: str) -> str:
    """`self_harm` -> `self-harm`, `abuse_disclosure` -> `abuse disclosure`."""
    return {"self_harm": "self-harm"}.get(value, value.replace("_", " "))


def when(moment: datetime | None) -> str:
    return f"{moment:%a %-d %b %H:%M}" if moment else "not yet"


def minutes(value: float | None) -> str:
    if value is None:
        return "n/a"
    if value < 90:
        return f"{value:.0f} min"
    hours, mins = divmod(round(value), 60)
    if hours < 48:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    return f"{hours / 24:.1f} days"


def hours(value: float) -> str:
    if value <= 0:
        return "none"
    return minutes(value * 60)


def css_string(value: str) -> str:
    """A value safe inside a CSS double-quoted string (the margin boxes' content)."""
    return (
        '"'
        + "".join(c if c.isalnum() or c in " .,–-()&'" else f"\\{ord(c):x} " for c in value)
        + '"'
    )


def period(f: MonthFigures) -> str:
    first, last = f.month.first_day, f.month.last_day
    return f"{first:%-d}–{last:%-d %B %Y}" + (" (month in progress)" if f.in_progress else "")


def attention(f: MonthFigures) -> list[str]:
    """The few things a governor should ask about, in plain words; empty when all is well."""
    out = []
    d = f.deadlines
    if d.breaches:
        refs = ", ".join(str(b.item_id) for b in d.breaches[:8])
        more = f" and {len(d.breaches) - 8} more" if len(d.breaches) > 8 else ""
        out.append(
            f"{len(d.breaches)} comment(s) were not acknowledged within 24 hours "
            f"(items {refs}{more})."
        )
    s = f.safeguarding
    if s.not_acknowledged:
        out.append(
            f"{s.not_acknowledged} safeguarding escalation(s) not yet acknowledged by the DSL."
        )
    late = s.within_deadline.total - s.within_deadline.count
    if late:
        out.append(f"{late} safeguarding escalation(s) acknowledged after the DSL's deadline.")
    for a in f.watching:
        lost = a.hours("token or permission") + a.hours("platform errors")
        if lost >= 1:
            out.append(f"{a.name} was not watched for {hours(lost)} ({_estimated(a)}).")
        if a.hours("hiding paused") > 0:
            out.append(
                f"Automatic hiding was paused on {a.name} for {hours(a.hours('hiding paused'))} "
                "(the circuit breaker)."
            )
        if a.mode == "shadow":
            out.append(f"{a.name} is in shadow mode: modbot records but hides nothing.")
    pct = f.accuracy.rate.percent
    if pct is not None and pct >= 10:
        out.append(
            f"{f.accuracy.rate.fraction} hidden comments were put back as mistakes: "
            "check the rules named below."
        )
    fair = f.fairness
    if fair.measurable and fair.naming.total >= 5:
        gap = (fair.naming.percent or 0) - (fair.others.percent or 0)
        if gap >= 10:
            out.append(
                f"Comments naming an identity group were taken down more often "
                f"({fair.naming}) than others ({fair.others})."
            )
    return out


def _estimated(a) -> str:
    return "an upper estimate" if a.estimated else "from the audit log"


def environment(templates_dir: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir / "report")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(label=label, when=when, minutes=minutes, hours=hours, css_string=css_string)
    return env


def render_html(f: MonthFigures, templates_dir: Path) -> str:
    from bot.reports import charts  # matplotlib: loaded when a report is drawn, not before

    env = environment(templates_dir)
    css = (templates_dir / "report" / "report.css").read_text(encoding="utf-8")
    return env.get_template("report.html").render(
        f=f,
        css=css,
        marking=MARKING,
        period=period(f),
        attention=attention(f),
        charts=charts.all_charts(f.weeks),
        week_label=charts.week_label,
    )


def render_pdf(html: str, base: Path) -> bytes:
    from weasyprint import HTML  # imported here: it loads Pango, which takes a moment

    # WeasyPrint's CSS parser warns about every SVG property in matplotlib's style attributes
    # (stroke, fill...), which its SVG renderer then draws correctly: keep only real errors.
    quiet = logging.getLogger("weasyprint")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        return HTML(string=html, base_url=str(base)).write_pdf()
    finally:
        quiet.setLevel(level)


def _safe_cell(value: object) -> str:
    """No spreadsheet formulas: a cell starting with = + - @ is kept as text."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def decisions_csv(rows: Iterable[dict], restored: set[int], names: dict[str, str], tz) -> str:
    """The month's decisions, one a line: references, times, categories and rules only."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        in_time = ""
        if r["item_id"] is not None:
            acked, due = r["item_acknowledged_at"], r["item_due_at"]
            in_time = "yes" if acked and acked <= due else ("no" if acked else "not acknowledged")
        writer.writerow(
            _safe_cell(v)
            for v in (
                f"D-{r['id']}",
                datetime.fromisoformat(r["created_at"]).astimezone(tz).isoformat(),
                r["platform"],
                names.get(f"{r['platform']}:{r['account']}", r["account"]),
                r["action"],
                r["hide_status"] or "no",
                "; ".join(r["categories"]),
                r["severity"],
                r["mode"],
                layer_of(r["rules"], r["reasons"]) if r["action"] != "allow" else "",
                "; ".join(r["rules"]),
                f"I-{r['item_id']}" if r["item_id"] is not None else "",
                r["item_kind"] or "",
                r["item_status"] or "",
                in_time,
                f"E-{r['escalation_id']}" if r["escalation_id"] is not None else "",
                "yes" if r["id"] in restored else "",
            )
        )
    return out.getvalue()


def write_files(folder: Path, stem: str, html: str, pdf: bytes, csv_text: str) -> ReportFiles:
    files = ReportFiles(folder / f"{stem}.html", folder / f"{stem}.pdf", folder / f"{stem}.csv")
    write_private(files.html, html)
    write_private(files.pdf, pdf)
    write_private(files.csv, csv_text)
    return files
