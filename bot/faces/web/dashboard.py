"""The overview pages: Today, Accounts (with the circuit breaker's resume button), Leave and the
rota, Reports. Each handler calls a use case with the signed-in person; the use case checks
the role."""

from __future__ import annotations

import importlib.util
import time
from datetime import date

from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from bot.faces.web.auth import Page, guarded
from bot.services import acknowledgement, dashboard, moderation
from bot.services.actors import NotFound

REPORT_FRESH_SECONDS = 600  # the charts take seconds to draw; a month's figures move slowly
REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def dashboard_routes(ctx) -> list[Route]:
    settings = ctx.settings
    rendered: dict[str, tuple[float, str]] = {}  # month -> (until, html): the report cache

    async def home(page: Page) -> Response:
        return RedirectResponse("/today", status_code=303)

    async def today(page: Page) -> Response:
        view = dashboard.today(page.store, settings, page.actor)
        return page.render("today.html", title="Today", view=view)

    async def accounts(page: Page) -> Response:
        views = dashboard.accounts(page.store, settings, page.actor)
        return page.render("accounts.html", title="Accounts", accounts=views)

    async def resume(page: Page) -> Response:
        message = moderation.resume_breaker(page.store, page.actor, page.field("account", 200))
        return page.done("/accounts", message)

    async def leave(page: Page) -> Response:
        rota = dashboard.rota(page.store, settings, page.actor)
        return page.render("leave.html", title="Leave and the rota", rota=rota)

    async def add_leave(page: Page) -> Response:
        try:
            start = date.fromisoformat(page.field("start", 20))
            end = date.fromisoformat(page.field("end", 20))
        except ValueError:
            return page.done("/leave", "Not recorded: give a first and a last day.")
        if end < start:
            return page.done("/leave", "Not recorded: the last day is before the first.")
        try:
            message = acknowledgement.record_leave(
                page.store, settings, page.actor, page.field("name", 200), start, end
            )
        except NotFound as exc:
            return page.done("/leave", f"Not recorded: {exc}.")
        return page.done("/leave", message + ".")

    async def reports(page: Page) -> Response:
        numbers = dashboard.numbers(page.store, settings, page.actor)
        months = []
        if _monthly():
            from bot.reports.month import Month

            this = Month.of(settings.school_calendar().local(page.store.now()).date())
            months = [this, this.previous(), this.previous().previous()]
        return page.render(
            "reports.html", title="Reports", n=numbers, monthly=_monthly(), months=months
        )

    async def monthly(page: Page) -> Response:
        """The monthly report (bot/services/reporting.py) as its own standalone page: its
        styles and charts are inline, so this page (and only this page) allows inline styles
        and data: images; scripts stay forbidden. Drawing the charts takes seconds, so a
        month's page is kept for ten minutes (the role is still checked on every request)."""
        if not _monthly():
            raise NotFound("the monthly report is not installed")
        from bot.reports.month import BadMonth
        from bot.reports.render import render_html
        from bot.services import reporting

        month = page.request.query_params.get("month", "")[:20]
        cached = rendered.get(month)
        if cached and cached[0] > time.monotonic():
            page.actor.require(*reporting.MAY_SEE_AGGREGATES)  # checked on every request
            return HTMLResponse(cached[1], headers={"content-security-policy": REPORT_CSP})
        try:
            if not month:
                raise BadMonth("choose a month")
            figures = reporting.monthly_figures(page.store, settings, month, page.actor)
        except BadMonth as exc:
            return page.done("/reports", f"No report: {exc}.".replace("--month ", ""))
        html = render_html(figures, settings.path(settings.notices.templates_dir))
        rendered[month] = (time.monotonic() + REPORT_FRESH_SECONDS, html)
        return HTMLResponse(html, headers={"content-security-policy": REPORT_CSP})

    return [
        Route("/", guarded(ctx, home), methods=["GET"]),
        Route("/today", guarded(ctx, today), methods=["GET"]),
        Route("/accounts", guarded(ctx, accounts), methods=["GET"]),
        Route("/accounts/resume", guarded(ctx, resume), methods=["POST"]),
        Route("/leave", guarded(ctx, leave), methods=["GET"]),
        Route("/leave", guarded(ctx, add_leave), methods=["POST"]),
        Route("/reports", guarded(ctx, reports), methods=["GET"]),
        Route("/reports/monthly", guarded(ctx, monthly), methods=["GET"]),
    ]


def _monthly() -> bool:
    """Whether the monthly report (bot/services/reporting.py) is in this install. Not imported
    here: it loads the charting library, which takes seconds the first time."""
    return importlib.util.find_spec("bot.services.reporting") is not None
