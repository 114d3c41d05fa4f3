"""The links in modbot's emails. GET shows a page and a button; only POST acts; HEAD does
nothing. Mail scanners (Safe Links and the like) fetch every link they see: a GET that
acknowledged would tell the backup and SLT that a concern had been read when nobody had.

An escalation's link leads to its evidence page (the view is audited), and the escalation counts
as acknowledged only when the DSL confirms it there. Every refusal is audited."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.notify.links import LinkClaim, LinkRefused, verify
from bot.services import acknowledgement, safeguarding
from bot.services.actors import Forbidden, NotFound, actor_from_config


def link_routes(ctx) -> list[Route]:
    def claim_or_refusal(store, token: str, request: Request) -> LinkClaim | Response:
        try:
            return verify(ctx.secret, token, store.now())
        except LinkRefused as exc:
            store.audit(
                "link.refused",
                reason=str(exc),
                method=request.method,
                remote=request.client.host if request.client else "",
            )
            return ctx.page(
                "message.html",
                403,
                title="Link refused",
                body=(
                    f"This link cannot be used ({exc}). Open the newest email from modbot, or ask "
                    "the DSL or an administrator."
                ),
            )

    async def show(request: Request) -> Response:
        """GET (and HEAD): a page with a button. Nothing is recorded as acknowledged."""
        store = ctx.store()
        try:
            claim = claim_or_refusal(store, request.query_params.get("t", ""), request)
            if isinstance(claim, Response):
                return claim
            item = store.items.get(claim.item_id)
            if item is None:
                return ctx.page("message.html", 404, title="Not found", body="No such item.")
            return ctx.page(
                "link.html",
                token=request.query_params["t"],
                item=item,
                recipient=claim.recipient,
                escalation=item.kind == "escalation",
            )
        finally:
            store.close()

    async def act(request: Request) -> Response:
        form = await request.form()
        token, step = str(form.get("t", "")), str(form.get("step", ""))
        store = ctx.store()
        try:
            claim = claim_or_refusal(store, token, request)
            if isinstance(claim, Response):
                return claim
            try:
                actor = actor_from_config(ctx.settings, claim.recipient)
                item = acknowledgement.get_item(store, claim.item_id, actor)
                if item.kind == "escalation" and step == "open":
                    escalation = store.escalations.for_decision(item.decision_id)
                    assert escalation is not None
                    record = safeguarding.view_evidence(
                        store, escalation.id, actor, via="email link"
                    )
                    return ctx.page("evidence.html", token=token, r=record, item=item)
                if step != "acknowledge":
                    return ctx.page(
                        "message.html",
                        400,
                        title="Nothing done",
                        body=("That button is not one modbot knows. Nothing was changed."),
                    )
                message = acknowledgement.acknowledge(store, item.id, actor, via="email link")
                return ctx.page("message.html", title="Thank you", body=message + ".")
            except (Forbidden, NotFound) as exc:
                store.audit("link.refused", reason=str(exc), actor=claim.recipient)
                return ctx.page("message.html", 403, title="Not for you", body=str(exc))
        finally:
            store.close()

    return [Route("/ack", show, methods=["GET"]), Route("/ack", act, methods=["POST"])]
