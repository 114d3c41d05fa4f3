"""The links in modbot's emails. Each one leads to the sign-in page and then to its item; the
link itself acts on nothing. Mail scanners (Safe Links and the like) fetch every link they
see: a link that acknowledged, or that showed a concern's words, would tell the backup and SLT
that a concern had been read when nobody had, or show the words to whoever holds the email.

So `/ack?t=...` checks the signature (a forged, altered or expired link is refused, and the
refusal audited) and then sends the browser on to `/items/ID`, where the person signs in if
they have not, and where an escalation's item opens the DSL's record (the view is audited).
An escalation counts as acknowledged only when the DSL confirms it there.

The hop is a page with a meta refresh, not an HTTP redirect: the session cookie is
SameSite=Strict, and a browser does not send it on a navigation that started on another site
(the webmail). A navigation started by this page is same-site, so a signed-in person goes
straight to the item. It is not a script, so the Content-Security-Policy allows it."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.notify.links import LinkRefused, verify


def link_routes(ctx) -> list[Route]:
    async def follow(request: Request) -> Response:
        """GET (and HEAD): check the link, then on to the item. Nothing is recorded as seen."""
        store = ctx.store()
        try:
            try:
                claim = verify(ctx.secret, request.query_params.get("t", ""), store.now())
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
                        f"This link cannot be used ({exc}). Open the newest email from modbot, "
                        "or sign in and find the item on the Today page."
                    ),
                    link=("/today", "Sign in to modbot"),
                )
        finally:
            store.close()
        target = f"/items/{claim.item_id}"
        return ctx.page("link.html", title=f"Item {claim.item_id}", target=target)

    async def old_form(request: Request) -> Response:
        """A button on a page from before sign-in was needed: nothing is done."""
        return ctx.page(
            "message.html",
            403,
            title="Please sign in",
            body="Nothing was changed. Open the link in the email again and sign in: the item "
            "opens after that.",
            link=("/today", "Sign in to modbot"),
        )

    return [Route("/ack", follow, methods=["GET"]), Route("/ack", old_form, methods=["POST"])]
