"""The web face: a server-rendered Starlette app under uvicorn, on 127.0.0.1 by default.

Thin like the CLI: each route parses the request, calls a use case in bot/services, and renders
a Jinja2 page (autoescaped, no inline scripts, a strict Content-Security-Policy)."""

from bot.faces.web.app import WebContext, create_app, serve

__all__ = ["WebContext", "create_app", "serve"]
