"""The Starlette application, its security headers, its error pages and the server.

Every request gets its own Store (its own SQLite connection), so requests never share a
transaction. uvicorn is asynchronous: an idle or slow client holds one connection, never the
whole server, and idle keep-alive connections are closed after a few seconds.

Cookies are `Secure` when the configured `email.base_url` (where people open modbot) is
https; on a plain http://127.0.0.1 address they cannot be, or the browser would drop them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import jinja2
import structlog
import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.config.settings import Settings
from bot.core.clock import Clock, system_clock
from bot.core.logs import scrub
from bot.store import Store

log = structlog.get_logger("modbot.web")

SECURITY_HEADERS = {
    "content-security-policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "x-frame-options": "DENY",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


@dataclass
class WebContext:
    """What every route needs: the settings, the database, the clock, the link secret and
    the page templates."""

    settings: Settings
    database: Path
    secret: bytes
    clock: Clock = system_clock
    cookie_secure: bool | None = None  # None: from email.base_url (https -> Secure)
    templates: jinja2.Environment = field(init=False)

    def __post_init__(self) -> None:
        folder = self.settings.path(self.settings.notices.templates_dir) / "web"
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(folder)),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        from bot.faces.web.formatting import FILTERS

        zone = self.settings.school.tz
        self.templates.filters.update({k: f(zone) for k, f in FILTERS.items()})
        names = {(a.platform, a.account_id): a.display_name for a in self.settings.accounts}
        self.templates.filters["account"] = lambda platform, account: names.get(
            (platform, account), f"{account} ({platform})"
        )
        self.templates.globals["many_accounts"] = len(names) > 1
        if self.cookie_secure is None:
            self.cookie_secure = self.settings.email.base_url.lower().startswith("https://")

    @property
    def cookie_name(self) -> str:
        """`__Host-` binds the cookie to this host and path / (browsers insist on Secure)."""
        return "__Host-modbot" if self.cookie_secure else "modbot_session"

    def now(self) -> datetime:
        return self.clock()

    def store(self) -> Store:
        return Store(self.database, clock=self.clock)

    def page(self, template: str, status: int = 200, **context: object) -> HTMLResponse:
        html = self.templates.get_template(template).render(
            school=self.settings.school.name, **context
        )
        return HTMLResponse(html, status_code=status)


class SecurityHeaders:
    """Adds the security headers to every response, error pages included."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])]
                present = {k.lower() for k, _ in headers}
                for name, value in SECURITY_HEADERS.items():
                    if name.encode() not in present:
                        headers.append((name.encode(), value.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def create_app(ctx: WebContext, routes: Sequence[BaseRoute] = ()) -> Starlette:
    from bot.faces.web.auth import auth_routes
    from bot.faces.web.dashboard import dashboard_routes
    from bot.faces.web.links import link_routes
    from bot.faces.web.review import review_routes
    from bot.faces.web.safeguarding import safeguarding_routes

    static = ctx.settings.path(ctx.settings.notices.templates_dir) / "web" / "static"

    async def server_error(request: Request, exc: Exception) -> Response:
        error = scrub(f"{type(exc).__name__}: {exc}")
        log.error("web request failed", path=request.url.path, error=error)
        try:
            store = ctx.store()
            store.audit("web.error", path=request.url.path, error=error)
            store.close()
        except Exception:
            log.exception("could not audit a failed web request")
        return HTMLResponse(
            "<!doctype html><html lang=en-GB><meta charset=utf-8><meta name=viewport "
            'content="width=device-width, initial-scale=1"><link rel=stylesheet '
            'href="/static/modbot.css"><title>Something went wrong</title><main>'
            "<h1>Something went wrong</h1><p>modbot could not show this page. The error is in "
            'the log. <a href="/today">Back to Today</a></p></main>',
            status_code=500,
        )

    app = Starlette(
        routes=[
            *link_routes(ctx),
            *auth_routes(ctx),
            *dashboard_routes(ctx),
            *review_routes(ctx),
            *safeguarding_routes(ctx),
            *routes,
            Mount("/static", StaticFiles(directory=static)),
        ],
        middleware=[Middleware(SecurityHeaders)],
        exception_handlers={500: server_error},
    )
    app.state.ctx = ctx
    return app


def serve(app: ASGIApp, host: str, port: int) -> None:
    """Run under uvicorn: asynchronous, idle keep-alive connections closed after 5 s, a cap on
    concurrent connections, no server banner. Sign-in is limited per address too, so the
    address must be the person's, not the proxy's: see `proxy_headers` below."""
    uvicorn.run(
        app,
        host=host,
        port=port,
        timeout_keep_alive=5,
        limit_concurrency=100,
        server_header=False,
        # X-Forwarded-For is believed only from the proxy's address: 127.0.0.1 unless the
        # FORWARDED_ALLOW_IPS environment variable names another (a proxy container, say).
        proxy_headers=True,
        log_level="warning",
        access_log=False,
    )
