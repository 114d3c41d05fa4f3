"""The Starlette application, its security headers, its error pages and the server.

Every request gets its own Store (its own SQLite connection), so requests never share a
transaction. uvicorn is asynchronous: an idle or slow client holds one connection, never the
whole server, and idle keep-alive connections are closed after a few seconds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
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
    templates: jinja2.Environment = field(init=False)

    def __post_init__(self) -> None:
        folder = self.settings.path(self.settings.notices.templates_dir) / "web"
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(folder)),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )

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
    from bot.faces.web.links import link_routes

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
            "<!doctype html><title>Something went wrong</title><h1>Something went wrong</h1>"
            "<p>modbot could not show this page. Nothing was changed. The error is in the log.</p>",
            status_code=500,
        )

    app = Starlette(
        routes=[*link_routes(ctx), *routes, Mount("/static", StaticFiles(directory=static))],
        middleware=[Middleware(SecurityHeaders)],
        exception_handlers={500: server_error},
    )
    app.state.ctx = ctx
    return app


def serve(app: ASGIApp, host: str, port: int) -> None:
    """Run under uvicorn: asynchronous, idle keep-alive connections closed after 5 s, a cap on
    concurrent connections, no server banner."""
    uvicorn.run(
        app,
        host=host,
        port=port,
        timeout_keep_alive=5,
        limit_concurrency=100,
        server_header=False,
        log_level="warning",
        access_log=False,
    )
