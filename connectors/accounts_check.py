"""`modbot accounts check`: ask each platform who a token belongs to and what it may do, so a
missing permission is found before a comment needs hiding, not after."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.errors import ConnectorError
from connectors.base import Connector

REQUIRED = {
    "facebook": {
        "pages_show_list",
        "pages_read_engagement",
        "pages_read_user_content",
        "pages_manage_engagement",
    },
    "instagram": {"instagram_basic", "instagram_manage_comments", "pages_read_engagement"},
}


@dataclass
class TokenReport:
    account: str
    owner: str = ""
    granted: set[str] = field(default_factory=set)
    missing: set[str] = field(default_factory=set)
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem and not self.missing


def check(connector: Connector) -> TokenReport:
    report = TokenReport(connector.name)
    try:
        if connector.platform in REQUIRED:
            graph = connector.graph
            me = connector._call(
                lambda: graph.request(f"{graph.version}/me", {"fields": "id,name"})
            )
            report.owner = f"{me.get('name', '?')} (id {me.get('id', '?')})"
            debug = connector._call(
                lambda: graph.request(
                    f"{graph.version}/debug_token", {"input_token": graph.access_token}
                )
            )
            report.granted = set(debug.get("data", {}).get("scopes", []))
            report.missing = REQUIRED[connector.platform] - report.granted
        elif connector.platform == "x":
            me = connector._call(lambda: connector.client.get_me(user_auth=False))
            report.owner = f"@{me.data.username} (id {me.data.id})"
        else:
            report.owner = "sandbox (no token)"
    except ConnectorError as exc:
        report.problem = str(exc)
    return report
