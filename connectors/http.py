"""A requests.Session that sends a client library's fixed host to the account's base URL and
always has a timeout. facebook-sdk and tweepy both hard-code their host and send no timeout."""

from __future__ import annotations

import requests


class BaseUrlSession(requests.Session):
    def __init__(self, fixed_host: str, base_url: str | None = None, timeout: float = 20):
        super().__init__()
        self.fixed_host = fixed_host
        slash = "/" if fixed_host.endswith("/") else ""  # keep the joint the library expects
        self.base_url = (base_url or fixed_host).rstrip("/") + slash
        self.timeout = timeout

    def request(self, method, url, *args, **kwargs):
        if url.startswith(self.fixed_host):
            url = self.base_url + url[len(self.fixed_host) :]
        kwargs["timeout"] = kwargs.get("timeout") or self.timeout
        return super().request(method, url, *args, **kwargs)
