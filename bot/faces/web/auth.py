"""Signing in and out, and the guard every dashboard page goes through.

The guard, for every request: a live server-side session (else the sign-in page, coming back
afterwards); a person with a one-time password chooses their own first; on POST, the form's
CSRF token must equal the session's (compared in constant time) and a browser's
`Sec-Fetch-Site` must not say cross-site. Roles are not checked here but in the use cases the
handlers call (`Actor.require`), so a page cannot be reached by guessing its address: a
`Forbidden` becomes a 403 page, audited.

The sign-in form, before any session exists, carries a double-submit token (a random cookie
and the same value in the form). HEAD requests are answered after the guard, without running
the page, so nothing (an audited view, say) happens on a HEAD."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

import structlog
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.services import users
from bot.services.actors import Actor, Forbidden, NotFound, Role
from bot.services.moderation import ReviewRefused
from bot.services.users import SESSION_MAX, SignedIn, SignInRefused, UserError
from bot.store import Store

log = structlog.get_logger("modbot.web")
PRE_SESSION_COOKIE = "modbot_csrf"
MAX_FORM_BYTES = 64 * 1024
NAV = {
    Role.ADMIN: [
        ("/today", "Today"),
        ("/hidden", "Hidden"),
        ("/accounts", "Accounts"),
        ("/leave", "Leave & rota"),
        ("/reports", "Reports"),
    ],
    Role.DSL: [
        ("/today", "Today"),
        ("/escalations", "Escalations"),
        ("/hidden", "Hidden"),
        ("/bans", "Bans"),
        ("/accounts", "Accounts"),
        ("/leave", "Leave & rota"),
        ("/reports", "Reports"),
    ],
    Role.SLT: [
        ("/today", "Today"),
        ("/reports", "Reports"),
        ("/accounts", "Accounts"),
        ("/leave", "Leave & rota"),
    ],
}


@dataclass
class Page:
    """One signed-in request: the store, who, the posted form, and how to answer."""

    ctx: object
    request: Request
    store: Store
    me: SignedIn
    form: dict[str, str] = field(default_factory=dict)

    @property
    def actor(self) -> Actor:
        return self.me.actor

    def render(self, template: str, status: int = 200, **context: object) -> Response:
        flash = self.store.users.pop_flash(self.me.session.id)
        return self.ctx.page(  # type: ignore[attr-defined]
            template,
            status,
            me=self.me.user,
            role=self.me.user.role,
            csrf=self.me.csrf,
            nav=NAV[Role(self.me.user.role)],
            here=self.request.url.path,
            flash=flash,
            **context,
        )

    def done(self, url: str, message: str) -> Response:
        """After a form: say what happened on the next page (POST, redirect, GET)."""
        self.store.users.set_flash(self.me.session.id, message)
        return RedirectResponse(url, status_code=303)

    def field(self, name: str, limit: int = 2000) -> str:
        return str(self.form.get(name, ""))[:limit]


Handler = Callable[[Page], Awaitable[Response]]


def remote(request: Request) -> str:
    return request.client.host if request.client else ""


def safe_next(target: str | None) -> str:
    """Only a path on this site: never `//evil.example` or `https://...` (an open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/today"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/today"
    return target


def guarded(ctx, handler: Handler, allow_password_change: bool = False) -> Callable:
    async def endpoint(request: Request) -> Response:
        store = ctx.store()
        try:
            me = users.signed_in(store, request.cookies.get(ctx.cookie_name, ""))
            if me is None:
                return _signed_out(ctx, request)
            if me.user.must_change_password and not allow_password_change:
                return RedirectResponse(
                    f"/account/password?next={quote(_here(request))}", status_code=303
                )
            form: dict[str, str] = {}
            if request.method == "POST":
                refusal = await _read_form(ctx, request, store, me, form)
                if refusal is not None:
                    return refusal
            if request.method == "HEAD":
                return Response(status_code=200, media_type="text/html")
            page = Page(ctx, request, store, me, form)
            back = ("/today", "Back to Today")
            if request.method == "POST":
                back = (request.url.path.rsplit("/", 1)[0] or "/today", "Back")
            try:
                return await handler(page)
            except Forbidden as exc:
                store.audit("web.forbidden", actor=me.user.name, path=request.url.path)
                return page.render(
                    "message.html", 403, title="Not for your role", body=str(exc), link=back
                )
            except NotFound as exc:
                return page.render("message.html", 404, title="Not found", body=str(exc), link=back)
            except (UserError, SignInRefused, ReviewRefused) as exc:
                return page.render("message.html", 409, title="Not done", body=str(exc), link=back)
        finally:
            store.close()

    return endpoint


def _here(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def _signed_out(ctx, request: Request) -> Response:
    if request.method in ("GET", "HEAD"):
        return RedirectResponse(f"/sign-in?next={quote(_here(request))}", status_code=303)
    return ctx.page(
        "message.html",
        403,
        title="Please sign in again",
        body="Your sign-in has ended, so nothing was changed. Sign in and try again.",
        link=("/sign-in", "Sign in"),
    )


async def _read_form(
    ctx, request: Request, store: Store, me: SignedIn, into: dict
) -> Response | None:
    """Parse a posted form and check where it came from; a Response when it is refused."""
    if int(request.headers.get("content-length") or 0) > MAX_FORM_BYTES:
        return ctx.page("message.html", 413, title="Too much", body="That form was too large.")
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        store.audit("web.csrf_refused", actor=me.user.name, path=request.url.path, why="site")
        return _csrf_refused(ctx)
    form = await request.form(max_files=0, max_fields=50)
    into.update({k: str(v) for k, v in form.items()})
    if not hmac.compare_digest(into.get("csrf", "").encode(), me.csrf.encode()):
        store.audit("web.csrf_refused", actor=me.user.name, path=request.url.path, why="token")
        return _csrf_refused(ctx)
    return None


def _csrf_refused(ctx) -> Response:
    return ctx.page(
        "message.html",
        403,
        title="Form refused",
        body="This form could not be checked (it may be from an old page, or from another "
        "site). Nothing was changed. Go back, reload the page and try again.",
    )


def set_session_cookie(ctx, response: Response, token: str) -> None:
    response.set_cookie(
        ctx.cookie_name,
        token,
        max_age=int(SESSION_MAX.total_seconds()),
        path="/",
        secure=bool(ctx.cookie_secure),
        httponly=True,
        samesite="strict",
    )


# --- the routes ------------------------------------------------------------------------------
def auth_routes(ctx) -> list[Route]:
    def sign_in_page(request: Request, status: int = 200, error: str = "", login: str = ""):
        token = request.cookies.get(PRE_SESSION_COOKIE) or secrets.token_urlsafe(32)
        response = ctx.page(
            "sign_in.html",
            status,
            title="Sign in",
            csrf=token,
            next=safe_next(request.query_params.get("next")),
            error=error,
            login=login,
        )
        response.set_cookie(
            PRE_SESSION_COOKIE,
            token,
            max_age=3600,
            path="/",
            secure=bool(ctx.cookie_secure),
            httponly=True,
            samesite="strict",
        )
        return response

    async def show(request: Request) -> Response:
        store = ctx.store()
        try:
            if users.signed_in(store, request.cookies.get(ctx.cookie_name, "")):
                return RedirectResponse(
                    safe_next(request.query_params.get("next")), status_code=303
                )
        finally:
            store.close()
        return sign_in_page(request)

    async def submit(request: Request) -> Response:
        if int(request.headers.get("content-length") or 0) > MAX_FORM_BYTES:
            return ctx.page("message.html", 413, title="Too much", body="That form was too large.")
        form = await request.form(max_files=0, max_fields=20)
        login, password = str(form.get("login", ""))[:320], str(form.get("password", ""))
        target = safe_next(str(form.get("next", "")))
        cookie = request.cookies.get(PRE_SESSION_COOKIE, "")
        if not cookie or not hmac.compare_digest(
            cookie.encode(), str(form.get("csrf", "")).encode()
        ):
            return sign_in_page(
                request,
                403,
                "That form had expired or cookies are blocked. Please try again (modbot needs "
                "cookies to keep you signed in).",
                login,
            )
        store = ctx.store()
        try:
            try:
                user = users.sign_in(store, login, password, remote(request))
            except SignInRefused as exc:
                return sign_in_page(request, 401, str(exc), login)
            token, _ = users.open_session(store, user, remote(request))
        finally:
            store.close()
        if user.must_change_password:
            target = f"/account/password?next={quote(target)}"
        response = RedirectResponse(target, status_code=303)
        set_session_cookie(ctx, response, token)
        response.delete_cookie(PRE_SESSION_COOKIE, path="/")
        return response

    async def sign_out(page: Page) -> Response:
        users.sign_out(page.store, page.me)
        response = RedirectResponse("/sign-in", status_code=303)
        response.delete_cookie(ctx.cookie_name, path="/")
        return response

    async def account(page: Page) -> Response:
        return page.render(
            "account.html",
            title="My account",
            sessions=page.store.users.live_sessions(page.me.user.id),
        )

    async def password_form(page: Page) -> Response:
        return page.render(
            "password.html",
            title="Choose your password",
            next=safe_next(page.request.query_params.get("next")),
            error="",
            first=page.me.user.must_change_password,
        )

    async def password_change(page: Page) -> Response:
        target = safe_next(page.field("next"))
        try:
            users.change_password(
                page.store, page.me, page.field("old", 300), page.field("new", 300)
            )
        except (SignInRefused, UserError) as exc:
            return page.render(
                "password.html",
                400,
                title="Choose your password",
                next=target,
                error=str(exc),
                first=page.me.user.must_change_password,
            )
        # every session ended with the change: this one starts afresh
        user = page.store.users.get(page.me.user.id)
        assert user is not None
        token, fresh = users.open_session(page.store, user, remote(page.request))
        page.store.users.set_flash(fresh.session.id, "Your password is changed.")
        response = RedirectResponse(target, status_code=303)
        set_session_cookie(ctx, response, token)
        return response

    async def everywhere(page: Page) -> Response:
        users.sign_out_everywhere(page.store, page.me.user.name, by=page.me.user.name)
        response = RedirectResponse("/sign-in", status_code=303)
        response.delete_cookie(ctx.cookie_name, path="/")
        return response

    return [
        Route("/sign-in", show, methods=["GET"]),
        Route("/sign-in", submit, methods=["POST"]),
        Route("/sign-out", guarded(ctx, sign_out, True), methods=["POST"]),
        Route("/account", guarded(ctx, account), methods=["GET"]),
        Route("/account/password", guarded(ctx, password_form, True), methods=["GET"]),
        Route("/account/password", guarded(ctx, password_change, True), methods=["POST"]),
        Route("/account/sign-out-everywhere", guarded(ctx, everywhere, True), methods=["POST"]),
    ]
