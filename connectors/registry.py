"""Build the connector for each configured account."""

from __future__ import annotations

from pathlib import Path

from bot.config.settings import Account, SchoolSettings, read_token
from bot.core.errors import ConfigError
from bot.core.logs import register_secret
from connectors.base import Connector
from connectors.sandbox import SandboxConnector, SandboxPlatform


def sandbox_state_file(settings: SchoolSettings, account: Account, database: Path) -> Path:
    return database.with_name(f"{database.stem}.sandbox-{account.account_id}.json")


def build_connector(settings: SchoolSettings, account: Account, database: Path) -> Connector:
    if account.platform == "sandbox":
        assert account.scenario is not None  # the settings refuse a sandbox without one
        platform = SandboxPlatform.from_scenario(
            settings.path(account.scenario),
            account.account_id,
            state_file=sandbox_state_file(settings, account, database),
        )
        return SandboxConnector(platform)
    token = read_token(account)
    if token is None:
        raise ConfigError(f"accounts[{account.key}]: no token found in {account.token_env}")
    register_secret(token.get_secret_value())
    if account.platform in ("facebook", "instagram"):
        from connectors.facebook import FacebookConnector
        from connectors.graph_http import GraphSession
        from connectors.instagram import InstagramConnector

        kind = FacebookConnector if account.platform == "facebook" else InstagramConnector
        graph_session = GraphSession(account.api_base_url or "https://graph.facebook.com/")
        return kind(
            account.account_id,
            token.get_secret_value(),
            graph_session,
            version=account.graph_api_version,
            window_days=account.post_window_days,
        )
    from connectors.x import XConnector, XSession

    x_session = XSession(account.api_base_url or "https://api.twitter.com")
    return XConnector(
        account.account_id,
        token.get_secret_value(),
        x_session,
        window_days=account.post_window_days,
    )
