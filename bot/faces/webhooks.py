"""Meta webhooks (optional): Facebook Page `feed` and Instagram `comments` deliveries, for
hiding within seconds instead of at the next poll. Polling stays the backstop.

- GET: the verify-token handshake (`hub.mode=subscribe`, `hub.verify_token`, `hub.challenge`).
- POST: `X-Hub-Signature-256` must be the HMAC-SHA256 of the raw body with the app secret
  (compared in constant time); anything else is refused with 403 and audited. A good delivery
  feeds the same idempotent ingest as polling: the comment is recorded (a repeat is recorded
  once) and that account's pending comments are processed at once, after the reply is sent.

It needs a public HTTPS endpoint (a reverse proxy in front of this app): see the README.
Work is handed to `dispatch` so that, inside the service, it runs on the scheduler's thread
like every poll; by default it runs in the request's background task. The request itself
only checks the signature and that the body is JSON, so Meta gets its answer at once."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from bot.config.settings import Account
from bot.core.errors import ConfigError, ConnectorError
from bot.core.models import Comment
from bot.core.redact import redact, register_secret
from bot.moderation.pipeline import Pipeline

log = structlog.get_logger("modbot.webhooks")
PATH = "/webhooks/meta"
SIGNATURE_HEADER = "X-Hub-Signature-256"
APP_SECRET_ENV = "MODBOT_META_APP_SECRET"
VERIFY_TOKEN_ENV = "MODBOT_WEBHOOK_VERIFY_TOKEN"
PORT_ENV = "MODBOT_WEBHOOK_PORT"
HOST_ENV = "MODBOT_WEBHOOK_HOST"
FEED_VERBS = {"add", "edited"}
Dispatch = Callable[[Callable[[], None]], None]


@dataclass(frozen=True)
class WebhookSettings:
    app_secret: str
    verify_token: str
    port: int = 8443
    host: str = "127.0.0.1"  # behind the HTTPS reverse proxy

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WebhookSettings | None:
        """Webhooks are on when MODBOT_WEBHOOK_PORT is set (with the app secret and the
        verify token); off otherwise."""
        env = os.environ if environ is None else environ
        if not env.get(PORT_ENV):
            return None
        secret, verify = env.get(APP_SECRET_ENV, ""), env.get(VERIFY_TOKEN_ENV, "")
        if not (secret and verify):
            raise ConfigError(
                f"{PORT_ENV} is set, so webhooks need {APP_SECRET_ENV} and {VERIFY_TOKEN_ENV}"
            )
        register_secret(secret)
        register_secret(verify)
        return cls(secret, verify, int(env[PORT_ENV]), env.get(HOST_ENV, "127.0.0.1"))


def signature(app_secret: str, body: bytes) -> str:
    """The `X-Hub-Signature-256` value Meta sends for `body`."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def valid_signature(app_secret: str, body: bytes, header: str) -> bool:
    return hmac.compare_digest(signature(app_secret, body).encode(), header.encode())


def _run_now(work: Callable[[], None]) -> None:
    work()


def create_app(
    pipeline: Pipeline, app_secret: str, verify_token: str, dispatch: Dispatch = _run_now
) -> Starlette:
    async def verify(request: Request) -> PlainTextResponse:
        query = request.query_params
        token = query.get("hub.verify_token", "")
        if query.get("hub.mode") == "subscribe" and hmac.compare_digest(
            token.encode(), verify_token.encode()
        ):
            return PlainTextResponse(query.get("hub.challenge", ""))
        return PlainTextResponse("verification refused", status_code=403)

    async def receive(request: Request) -> PlainTextResponse:
        body = await request.body()
        header = request.headers.get(SIGNATURE_HEADER, "")
        if not valid_signature(app_secret, body, header):
            detail = {
                "reason": "no signature" if not header else "signature does not match",
                "client": request.client.host if request.client else "",
                "bytes": len(body),
                "body_sha256": hashlib.sha256(body).hexdigest(),
            }
            refusal = BackgroundTask(dispatch, lambda: _audit_refusal(pipeline, detail))
            return PlainTextResponse("bad signature", status_code=403, background=refusal)
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            log.warning("webhook delivery is not a JSON object")
            return PlainTextResponse("not understood", status_code=400)
        work = BackgroundTask(dispatch, lambda: handle(pipeline, payload))
        return PlainTextResponse("ok", background=work)

    return Starlette(
        routes=[Route(PATH, verify, methods=["GET"]), Route(PATH, receive, methods=["POST"])]
    )


def _audit_refusal(pipeline: Pipeline, detail: dict) -> None:
    pipeline.store.audit("webhook.refused", actor="webhook", **detail)
    log.warning("webhook delivery refused", **detail)


def deliveries(pipeline: Pipeline, payload: dict) -> dict[str, list[Comment]]:
    """The comments in a delivery, by account key, for the accounts this modbot watches. The
    accounts' own comments (their notices) are left out, as in polling."""
    watched: dict[tuple[str, str], Account] = {
        (a.platform, a.account_id): a
        for a in pipeline.settings.accounts
        if a.key in pipeline.connectors
    }
    platform = {"page": "facebook", "instagram": "instagram"}.get(payload.get("object", ""))
    found: dict[str, list[Comment]] = {}
    if platform is None:
        return found
    for entry in payload.get("entry", []):
        acct = watched.get((platform, str(entry.get("id"))))
        if acct is None:
            continue
        for change in entry.get("changes", []):
            value = change.get("value") or {}
            if platform == "facebook" and change.get("field") == "feed":
                comment = _page_comment(acct, value, pipeline.store.now())
            elif platform == "instagram" and change.get("field") == "comments":
                comment = _instagram_comment(pipeline, acct, entry, value)
            else:
                comment = None
            if comment is not None:
                found.setdefault(acct.key, []).append(comment)
    return found


def _page_comment(acct: Account, value: dict, now: datetime) -> Comment | None:
    """A Page `feed` change: only comments added or edited, never the Page's own."""
    if value.get("item") != "comment" or value.get("verb") not in FEED_VERBS:
        return None
    author = value.get("from") or {}
    if str(author.get("id")) == acct.account_id:
        return None
    post_id = str(value["post_id"])
    parent = value.get("parent_id")
    return Comment(
        platform="facebook",
        account=acct.account_id,
        post_id=post_id,
        comment_id=str(value["comment_id"]),
        text=value.get("message") or "",
        created_at=_unix(value.get("created_time"), now),
        author_id=str(author.get("id", "")),
        author_handle=str(author.get("name", "")),
        parent_id=str(parent) if parent and parent != post_id else None,
        has_attachment=bool(value.get("photo") or value.get("video")),
    )


def _instagram_comment(pipeline: Pipeline, acct: Account, entry: dict, value: dict):
    """An Instagram `comments` change; the account's own comments are skipped by username."""
    connector = pipeline.connectors[acct.key]
    is_own = getattr(connector, "is_own", None)
    if is_own is not None and is_own(value):
        return None
    author = value.get("from") or {}
    return Comment(
        platform="instagram",
        account=acct.account_id,
        post_id=str((value.get("media") or {})["id"]),
        comment_id=str(value["id"]),
        text=value.get("text") or "",
        created_at=_unix(entry.get("time"), pipeline.store.now()),
        author_id=str(author.get("id", "")),
        author_handle=str(author.get("username", "")),
        parent_id=str(value["parent_id"]) if value.get("parent_id") else None,
    )


def _unix(value: object, fallback: datetime) -> datetime:
    try:
        return datetime.fromtimestamp(int(value), UTC) if isinstance(value, int | str) else fallback
    except (ValueError, OverflowError, OSError):
        return fallback


def handle(pipeline: Pipeline, payload: dict) -> None:
    """Read a delivery and process what it brings; on the scheduler's thread in the service
    (reading it may ask the platform, e.g. Instagram's own username)."""
    try:
        arrivals = deliveries(pipeline, payload)
    except (ConnectorError, KeyError, TypeError, ValueError, AttributeError) as exc:
        log.warning(
            "webhook delivery not used; polling will find its comments",
            error=redact(f"{type(exc).__name__}: {exc}"),
        )
        return
    ingest(pipeline, arrivals)


def ingest(pipeline: Pipeline, arrivals: dict[str, list[Comment]]) -> None:
    """Record and process each account's delivered comments, as one poll without a read."""
    accounts = {a.key: a for a in pipeline.settings.accounts}
    for key, comments in arrivals.items():
        report = pipeline.poll_account(accounts[key], arrived=comments)
        log.info(
            "webhook delivery processed",
            account=key,
            new=report.fetched,
            processed=report.processed,
            health=report.health,
        )


def serve(app: Starlette, settings: WebhookSettings):
    """A uvicorn server for `app`, to run on its own thread (`server.run`); stop it with
    `server.should_exit = True`."""
    import uvicorn

    config = uvicorn.Config(
        app, host=settings.host, port=settings.port, log_level="warning", access_log=False
    )
    return uvicorn.Server(config)
