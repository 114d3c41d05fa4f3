"""The DSL's escalations: the queue (references and categories, no words), the record (the
words, every version, the route and its steps, referral and outcome; every view written to the
audit log with the viewer's name), acknowledge, refer, close and export.

An escalation counts as acknowledged only when the DSL presses "I have read this" on its page;
opening the page is a view, not an acknowledgement."""

from __future__ import annotations

import tempfile
from pathlib import Path

from starlette.responses import Response
from starlette.routing import Route

from bot.faces.web.auth import Page, guarded
from bot.services import acknowledgement, dashboard, moderation, safeguarding
from bot.services.actors import NotFound

ROUTES = [
    "CEOP",
    "Police (999 / 101)",
    "Children's social care (MASH)",
    "LADO",
    "Prevent",
    "Internet Watch Foundation",
    "Pastoral / in school",
    "Other",
]


def safeguarding_routes(ctx) -> list[Route]:
    settings = ctx.settings

    def number(page: Page) -> int:
        return int(page.request.path_params["id"])

    async def queue(page: Page) -> Response:
        escalations = dashboard.escalation_queue(page.store, page.actor)
        return page.render("escalations.html", title="Escalations", escalations=escalations)

    async def record(page: Page) -> Response:
        escalation_id = number(page)
        r = safeguarding.view_evidence(page.store, escalation_id, page.actor, via="web")
        escalation = page.store.escalations.get(escalation_id)
        assert escalation is not None
        item = page.store.items.for_decision(escalation.decision_id)
        current = moderation.review(page.store, escalation.decision_id, page.actor)
        return page.render(
            "escalation.html",
            title=f"Escalation {escalation_id}",
            r=r,
            item=item,
            review=current,
            decision_id=escalation.decision_id,
            routes=ROUTES,
        )

    async def acknowledge(page: Page) -> Response:
        """The item's acknowledgement marks a new escalation acknowledged (and never moves a
        referred or closed one back)."""
        escalation_id = number(page)
        item = _item(page, escalation_id)
        acknowledgement.acknowledge(page.store, item.id, page.actor, via="web")
        return page.done(
            f"/escalations/{escalation_id}", "Acknowledged: the reminders for it have stopped."
        )

    async def refer(page: Page) -> Response:
        escalation_id = number(page)
        route, reference = page.field("route", 100).strip(), page.field("reference", 200).strip()
        if not route or not reference:
            return page.done(
                f"/escalations/{escalation_id}",
                "Not recorded: choose where it was referred and give their reference "
                "(or 'none given').",
            )
        safeguarding.refer(page.store, escalation_id, page.actor, route, reference)
        return page.done(f"/escalations/{escalation_id}", f"Referral to {route} recorded.")

    async def close(page: Page) -> Response:
        escalation_id = number(page)
        outcome = " ".join(page.field("outcome", 2000).split())
        if len(outcome) < 3:
            return page.done(
                f"/escalations/{escalation_id}", "Not closed: write the outcome in a few words."
            )
        safeguarding.close(page.store, escalation_id, page.actor, outcome)
        return page.done(f"/escalations/{escalation_id}", "Closed, with its outcome recorded.")

    async def export(page: Page) -> Response:
        escalation_id = number(page)
        kind = page.field("format", 10)
        if kind not in ("json", "html"):
            raise NotFound(f"no export format {kind!r}")
        templates = settings.path(settings.notices.templates_dir)
        with tempfile.TemporaryDirectory(prefix="modbot-export-") as folder:
            paths = safeguarding.export_evidence(
                page.store, escalation_id, page.actor, Path(folder), templates
            )
            chosen = next(p for p in paths if p.suffix == f".{kind}")
            body = chosen.read_bytes()
        media = "application/json" if kind == "json" else "text/html; charset=utf-8"
        return Response(
            body,
            media_type=media,
            headers={"content-disposition": f'attachment; filename="{chosen.name}"'},
        )

    def _item(page: Page, escalation_id: int):
        escalation = page.store.escalations.get(escalation_id)
        item = page.store.items.for_decision(escalation.decision_id) if escalation else None
        if item is None:
            raise NotFound(f"no escalation {escalation_id}")
        return item

    return [
        Route("/escalations", guarded(ctx, queue), methods=["GET"]),
        Route("/escalations/{id:int}", guarded(ctx, record), methods=["GET"]),
        Route("/escalations/{id:int}/acknowledge", guarded(ctx, acknowledge), methods=["POST"]),
        Route("/escalations/{id:int}/refer", guarded(ctx, refer), methods=["POST"]),
        Route("/escalations/{id:int}/close", guarded(ctx, close), methods=["POST"]),
        Route("/escalations/{id:int}/export", guarded(ctx, export), methods=["POST"]),
    ]
