"""The report's charts: matplotlib, drawn as SVG, put inline in the HTML (no JavaScript, no
image files) and so drawn as vectors in the PDF. Built on `Figure` directly, never pyplot:
no global state, safe in the service's thread. Colours are the Okabe-Ito palette, which stays
distinguishable for colour-blind readers; every chart has a text label too."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any, cast

from matplotlib.figure import Figure

from bot.reports.figures import ACTIONS, Week

PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442"]
ACTION_COLOURS = {
    "allow": "#9AA5B1",
    "respond": "#0072B2",
    "hide": "#E69F00",
    "escalate": "#D55E00",
}
ACTION_LABELS = {
    "allow": "left up",
    "respond": "needed a reply",
    "hide": "hidden",
    "escalate": "escalated",
}
RC = {
    "svg.fonttype": "none",  # text stays text: smaller, sharp, searchable in the PDF
    "svg.hashsalt": "modbot-report",  # the same data draws the same file
    "font.family": "DejaVu Sans",
    "font.size": 8.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 9.5,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
}


def week_label(week: Week) -> str:
    if week.start == week.end:
        return f"{week.start:%-d %b}"
    if week.start.month == week.end.month:
        return f"{week.start:%-d}–{week.end:%-d %b}"
    return f"{week.start:%-d %b}–{week.end:%-d %b}"


def _figure() -> Figure:
    import matplotlib

    cast(Any, matplotlib.rcParams).update(RC)
    return Figure(figsize=(6.8, 1.95), layout="constrained")


def _svg(fig: Figure, label: str, ident: str) -> str:
    """The figure as an inline <svg> element: no XML prolog, ids made unique per chart (so
    four charts in one page cannot share a clip path), a text alternative for screen readers."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.DOTALL)
    svg = re.sub(r'id="([^"]+)"', rf'id="{ident}-\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{ident}-\1)", svg)
    svg = re.sub(r'xlink:href="#([^"]+)"', rf'xlink:href="#{ident}-\1"', svg)
    svg = re.sub(r'(<svg[^>]*?) width="[^"]+" height="[^"]+"', r"\1", svg, count=1)
    return svg.replace("<svg ", f'<svg role="img" aria-label="{label}" class="chart" ', 1)


def _stacked(
    ax, labels: Sequence[str], series: dict[str, list[int]], colours: dict[str, str]
) -> None:
    bottom = [0] * len(labels)
    for name, values in series.items():
        if not any(values):
            continue
        ax.bar(labels, values, bottom=bottom, color=colours[name], label=name, width=0.6)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    for x, total in enumerate(bottom):
        if total:
            ax.annotate(
                str(total),
                (x, total),
                ha="center",
                va="bottom",
                fontsize=7.5,
                xytext=(0, 1),
                textcoords="offset points",
            )
    ax.set_ylim(0, max([*bottom, 1]) * 1.18)
    if any(bottom):
        ax.legend(frameon=False, fontsize=7.5, loc="upper left", bbox_to_anchor=(1.0, 1.0))


def _empty(ax, text: str = "no activity") -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#555")


def volumes_by_platform(weeks: Sequence[Week]) -> str:
    fig = _figure()
    ax = fig.add_subplot()
    labels = [week_label(w) for w in weeks]
    platforms = sorted({p for w in weeks for p in w.by_platform})
    colours = {p: PALETTE[i % len(PALETTE)] for i, p in enumerate(platforms)}
    series = {p: [w.by_platform.get(p, 0) for w in weeks] for p in platforms}
    ax.set_title("Comments moderated each week, by platform")
    _stacked(ax, labels, series, colours)
    if not platforms:
        ax.set_xticks(range(len(labels)), labels)
        _empty(ax)
    ax.set_ylabel("comments")
    return _svg(fig, "Comments moderated each week, by platform", "platforms")


def decisions_by_week(weeks: Sequence[Week]) -> str:
    fig = _figure()
    ax = fig.add_subplot()
    labels = [week_label(w) for w in weeks]
    series = {ACTION_LABELS[a]: [w.by_action.get(a, 0) for w in weeks] for a in ACTIONS}
    colours = {ACTION_LABELS[a]: ACTION_COLOURS[a] for a in ACTIONS}
    ax.set_title("What modbot decided each week")
    _stacked(ax, labels, series, colours)
    if not any(sum(v) for v in series.values()):
        _empty(ax)
    ax.set_ylabel("comments")
    return _svg(fig, "What modbot decided each week", "decisions")


def time_to_hide(weeks: Sequence[Week]) -> str:
    fig = _figure()
    ax = fig.add_subplot()
    labels = [week_label(w) for w in weeks]
    values = [w.median_minutes_to_hide for w in weeks]
    ax.set_title("Time from posting to hiding (median minutes)")
    ax.bar(labels, [v or 0 for v in values], color=PALETTE[1], width=0.6)
    top = max([v for v in values if v is not None] or [1])
    for x, v in enumerate(values):
        text = "none hidden" if v is None else f"{v:.0f} min"
        ax.annotate(
            text,
            (x, v or 0),
            ha="center",
            va="bottom",
            fontsize=7.5,
            xytext=(0, 1),
            textcoords="offset points",
            color="#333" if v else "#777",
        )
    ax.set_ylim(0, top * 1.25)
    ax.set_ylabel("minutes")
    return _svg(fig, "Median minutes from posting to hiding, each week", "tohide")


def acknowledgement(weeks: Sequence[Week]) -> str:
    fig = _figure()
    ax = fig.add_subplot()
    labels = [week_label(w) for w in weeks]
    pcts = [w.acknowledged.percent for w in weeks]
    ax.set_title("Acknowledged within the deadline (items due that week)")
    colours = [PALETTE[2] if (p or 0) >= 95 else PALETTE[3] for p in pcts]
    ax.bar(labels, [p or 0 for p in pcts], color=colours, width=0.6)
    for x, w in enumerate(weeks):
        text = (
            "none due"
            if not w.acknowledged.total
            else (f"{w.acknowledged} ({w.acknowledged.count}/{w.acknowledged.total})")
        )
        ax.annotate(
            text,
            (x, pcts[x] or 0),
            ha="center",
            va="bottom",
            fontsize=7.5,
            xytext=(0, 1),
            textcoords="offset points",
        )
    ax.axhline(100, color="#999", linewidth=0.6, linestyle=":")
    ax.set_ylim(0, 118)
    ax.set_ylabel("% in time")
    return _svg(fig, "Percentage of items acknowledged within the deadline, each week", "ack")


def all_charts(weeks: Sequence[Week]) -> dict[str, str]:
    return {
        "platforms": volumes_by_platform(weeks),
        "decisions": decisions_by_week(weeks),
        "to_hide": time_to_hide(weeks),
        "acknowledgement": acknowledgement(weeks),
    }
