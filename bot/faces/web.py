"""`modbot serve`: a small local web server for one-click acknowledgement links (it will grow
into the dashboard). Standard-library WSGI: nothing to install, nothing exposed by default
beyond 127.0.0.1."""

from __future__ import annotations

import html
from urllib.parse import parse_qs
from wsgiref.simple_server import make_server

from bot.acknowledgement.desk import AckDesk
from bot.notify.links import LinkRefused, verify


def _page(status: str, title: str, body: str, start_response) -> list[bytes]:
    page = (
        f"<!doctype html><html lang=en><meta charset=utf-8><title>{html.escape(title)}"
        f"</title><body style='font-family:sans-serif;max-width:40em;margin:3em auto'>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(body)}</p></body></html>"
    )
    start_response(
        status,
        [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Cache-Control", "no-store"),
            ("Referrer-Policy", "no-referrer"),
        ],
    )
    return [page.encode()]


def make_app(desk: AckDesk):
    def app(environ, start_response):
        if environ.get("PATH_INFO") != "/ack":
            return _page("404 Not Found", "Not found", "Nothing here.", start_response)
        token = parse_qs(environ.get("QUERY_STRING", "")).get("t", [""])[0]
        try:
            claim = verify(desk.secret, token, desk.store.now())
        except (LinkRefused, ValueError, KeyError) as exc:
            desk.store.audit("link.refused", reason=str(exc), remote=environ.get("REMOTE_ADDR", ""))
            return _page(
                "403 Forbidden",
                "Link refused",
                f"This link cannot be used ({exc}). Use `modbot ack` or ask for a new reminder.",
                start_response,
            )
        message = desk.acknowledge(claim.item_id, claim.recipient, via="email link")
        return _page("200 OK", "Thank you", message + ".", start_response)

    return app


def serve(desk: AckDesk, host: str, port: int) -> None:
    with make_server(host, port, make_app(desk)) as server:
        server.serve_forever()
