"""Items and hidden comments: look, acknowledge, put back (or ask a second opinion), suggest a
ban; and the DSL's ban decisions. Platform calls run in a worker thread so a slow platform
holds one request, not the server."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.faces.web.auth import Page, guarded
from bot.services import acknowledgement, moderation
from bot.services.actors import NotFound, Role


def review_routes(ctx) -> list[Route]:
    settings, database = ctx.settings, ctx.database

    def number(page: Page, name: str) -> int:
        return int(page.request.path_params[name])

    async def item(page: Page) -> Response:
        item = acknowledgement.get_item(page.store, number(page, "id"), page.actor)
        if item.kind == "escalation":
            escalation = page.store.escalations.for_decision(item.decision_id)
            if escalation is not None:
                return RedirectResponse(f"/escalations/{escalation.id}", status_code=303)
        current = moderation.item_review(page.store, item.id, page.actor)
        return page.render("review.html", title=f"Item {item.id}", r=current, item=item)

    async def acknowledge(page: Page) -> Response:
        item_id = number(page, "id")
        message = acknowledgement.acknowledge(page.store, item_id, page.actor, via="web")
        item = acknowledgement.get_item(page.store, item_id, page.actor)
        if "already" in message:
            said = f"Already acknowledged by {item.acknowledged_by}: nothing more to do."
        else:
            late = " (after the deadline; the senior leader was told)" if "after" in message else ""
            said = f"Acknowledged{late}. Thank you."
        return page.done(f"/items/{item_id}", said)

    async def hidden(page: Page) -> Response:
        rows = moderation.hidden_comments(page.store, page.actor)
        waiting = moderation.second_opinions(page.store, page.actor)
        return page.render(
            "hidden.html",
            title="Hidden comments",
            rows=rows,
            waiting={f.decision_id for f in waiting if f.by != page.actor.name},
        )

    async def hidden_one(page: Page) -> Response:
        decision_id = number(page, "id")
        current = moderation.review(page.store, decision_id, page.actor)
        if current.decision["action"] == "escalate":
            escalation = page.store.escalations.for_decision(decision_id)
            if escalation is not None:  # its words are shown (and the view audited) there
                return RedirectResponse(f"/escalations/{escalation.id}", status_code=303)
        return page.render("review.html", title="Hidden comment", r=current, item=current.item)

    async def restore(page: Page) -> Response:
        decision_id = number(page, "id")
        sure = page.field("sure", 10) != "no"
        outcome = await run_in_threadpool(
            moderation.restore,
            page.store,
            settings,
            database,
            decision_id,
            page.actor,
            page.field("reason", 1000),
            sure,
        )
        return page.done(f"/hidden/{decision_id}", outcome.message)

    async def keep(page: Page) -> Response:
        decision_id = number(page, "id")
        outcome = moderation.keep_hidden(
            page.store, decision_id, page.actor, page.field("reason", 1000)
        )
        return page.done(f"/hidden/{decision_id}", outcome.message)

    async def suggest_ban(page: Page) -> Response:
        decision_id = number(page, "id")
        request = moderation.suggest_ban(
            page.store, decision_id, page.actor, page.field("reason", 1000)
        )
        who = "the DSL" if page.actor.role is not Role.DSL else "you (on the Bans page)"
        return page.done(
            f"/hidden/{decision_id}",
            f"Ban suggested (request {request.id}): {who} will decide.",
        )

    async def bans(page: Page) -> Response:
        everything = moderation.ban_requests(page.store, page.actor)
        waiting = [b for b in everything if b.status == "suggested"]
        decided = [b for b in everything if b.status != "suggested"]
        return page.render("bans.html", title="Ban requests", waiting=waiting, decided=decided)

    async def decide(page: Page) -> Response:
        verdict = page.request.path_params["verdict"]
        if verdict not in ("approve", "decline"):
            raise NotFound(f"no such decision {verdict!r}")
        approve = verdict == "approve"
        outcome = await run_in_threadpool(
            moderation.decide_ban,
            page.store,
            settings,
            database,
            number(page, "id"),
            page.actor,
            approve,
            page.field("note", 1000),
        )
        return page.done("/bans", outcome.message)

    return [
        Route("/items/{id:int}", guarded(ctx, item), methods=["GET"]),
        Route("/items/{id:int}/acknowledge", guarded(ctx, acknowledge), methods=["POST"]),
        Route("/hidden", guarded(ctx, hidden), methods=["GET"]),
        Route("/hidden/{id:int}", guarded(ctx, hidden_one), methods=["GET"]),
        Route("/hidden/{id:int}/restore", guarded(ctx, restore), methods=["POST"]),
        Route("/hidden/{id:int}/keep", guarded(ctx, keep), methods=["POST"]),
        Route("/hidden/{id:int}/ban", guarded(ctx, suggest_ban), methods=["POST"]),
        Route("/bans", guarded(ctx, bans), methods=["GET"]),
        Route("/bans/{id:int}/{verdict:str}", guarded(ctx, decide), methods=["POST"]),
    ]
