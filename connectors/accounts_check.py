"""`modbot accounts check`: ask each platform who a token belongs to and what it may do, so a
missing permission is found before a comment needs hiding, not after.

Meta documents `GET /debug_token?input_token=<token>` called with an *app* access token
(`{app-id}|{app-secret}`), not with the token being inspected. The app id and secret come from
MODBOT_META_APP_ID and MODBOT_META_APP_SECRET; without them the owner is still checked
(`/me`), and the report says that the permissions could not be."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.core.errors import ConnectorError
from bot.core.redact import redact, register_secret
from connectors.base import Connector

APP_ID_ENV = "MODBOT_META_APP_ID"
APP_SECRET_ENV = "MODBOT_META_APP_SECRET"
REQUIRED = {
    "facebook": {
        "pages_show_list",
        "pages_read_engagement",
        "pages_read_user_content",
        "pages_manage_engagement",
    },
    "instagram": {"instagram_basic", "instagram_manage_comments", "pages_read_engagement"},
}
NO_APP_TOKEN = (
    f"permissions not checked: Meta's debug_token needs the app's own token; set {APP_ID_ENV} "
    f"and {APP_SECRET_ENV} to check them"
)
X_SCOPES = (
    "X does not tell a token its scopes; a missing one shows as `permission_missing` in "
    "`modbot health` at the first refused call"
)


@dataclass
class TokenReport:
    account: str
    owner: str = ""
    granted: set[str] = field(default_factory=set)
    missing: set[str] = field(default_factory=set)
    problem: str = ""
    note: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem and not self.missing


def app_token(environ: Mapping[str, str] | None = None) -> str | None:
    """`{app-id}|{app-secret}` from the environment, registered as a secret; None if unset."""
    env = os.environ if environ is None else environ
    app_id, secret = env.get(APP_ID_ENV, "").strip(), env.get(APP_SECRET_ENV, "").strip()
    if not (app_id and secret):
        return None
    register_secret(secret)
    token = f"{app_id}|{secret}"
    register_secret(token)
    return token


def check(connector: Connector, app_access_token: str | None = None) -> TokenReport:
    """Who the token belongs to and what it may do. Reads the platform connectors' own
    clients (`graph`, `client`) and their error mapping (`_call`)."""
    report = TokenReport(connector.name)
    platform: Any = connector
    try:
        if connector.platform in REQUIRED:
            _check_graph(platform, app_access_token, report)
        elif connector.platform == "x":
            me = platform._call(lambda: platform.client.get_me(user_auth=False))
            report.owner = f"@{me.data.username} (id {me.data.id})"
            report.note = X_SCOPES
        else:
            report.owner = "sandbox (no token)"
    except ConnectorError as exc:
        report.problem = str(exc)
    report.owner, report.problem, report.note = (
        redact(report.owner),
        redact(report.problem),
        redact(report.note),
    )
    return report


def _check_graph(connector, app_access_token: str | None, report: TokenReport) -> None:
    graph = connector.graph
    me = connector._call(lambda: graph.request(f"{graph.version}/me", {"fields": "id,name"}))
    report.owner = f"{me.get('name', '?')} (id {me.get('id', '?')})"
    if not app_access_token:
        report.note = NO_APP_TOKEN
        return
    debug = connector._call(
        lambda: graph.request(
            f"{graph.version}/debug_token",
            {"input_token": graph.access_token, "access_token": app_access_token},
        )
    )
    data = debug.get("data", {})
    if not data.get("is_valid", False):
        why = (data.get("error") or {}).get("message", "no reason given")
        report.problem = f"Meta says this token is not valid: {why}"
        return
    report.granted = set(data.get("scopes", []))
    report.missing = REQUIRED[connector.platform] - report.granted
