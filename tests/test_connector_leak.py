"""A token the platform echoes back in its error bodies appears nowhere: not in the database
files, the emails, stdout, stderr or the logs of `modbot run --once`, `modbot health` and
`modbot accounts check`. Real processes against a local Graph API stand-in over HTTP."""

from __future__ import annotations

import email
import json
import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

from tests.conftest import write_config

FIXTURES = Path(__file__).parent / "fixtures" / "facebook"
PAGE = "123456789012345"
TOKEN = "EAAB" + "ZCq7vRk3ZBx9ZA0pLwT5ZCnYh2ZB8sZDmQ4eKjZAuF6ZCiG1" * 3  # Graph's shape
TRUNCATED = TOKEN[:40]  # Meta sometimes quotes only the start: no registered secret matches
APP_SECRET = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def echo(code: int = 190) -> dict:
    return {
        "error": {
            "message": f"Malformed access token {TOKEN} (access_token={TOKEN}); "
            f"Invalid OAuth 2.0 Access Token: {TRUNCATED}...",
            "type": "OAuthException",
            "code": code,
            "fbtrace_id": "AeEcho000190",
        }
    }


class GraphStandIn(BaseHTTPRequestHandler):
    """Reads work in phase "act" and the Hide is refused echoing the token; in phase "read"
    every call is refused echoing it."""

    phase = "act"

    def log_message(self, *args) -> None:
        pass

    def _reply(self, body: dict, status: int = 200) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        path = urlparse(self.path).path
        if self.phase == "read" or path.endswith(("/me", "/debug_token")):
            self._reply(echo(), 400)
        elif path.endswith("/published_posts"):
            self._reply(fixture("posts_page2.json"))
        elif path.endswith("_1000/comments"):
            self._reply(fixture("comments_1001.json"))
        else:
            self._reply(fixture("empty.json"))

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if urlparse(self.path).path.endswith("/comments"):
            self._reply({"id": "1000_9999"})
        else:
            self._reply(echo(), 400)  # the Hide: refused, echoing the token


def modbot(cfg: Path, *args: str) -> subprocess.CompletedProcess:
    env = {
        "MODBOT_TEST_FB_TOKEN": TOKEN,
        "MODBOT_META_APP_ID": "1234567890",
        "MODBOT_META_APP_SECRET": APP_SECRET,
        "PATH": "/usr/bin:/bin",
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(cfg), "--log-level", "DEBUG", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def everything_written(folder: Path) -> list[tuple[str, bytes]]:
    """Every file modbot wrote, and every email decoded part by part."""
    found = []
    for path in folder.rglob("*"):
        if not path.is_file() or path.name == "modbot.toml":
            continue
        data = path.read_bytes()
        found.append((str(path), data))
        if path.suffix == ".eml":
            message = email.message_from_bytes(data)
            for part in message.walk():
                payload = part.get_payload(decode=True)
                if payload:
                    found.append((f"{path} (decoded)", payload))
            found.append((f"{path} (subject)", str(message["Subject"]).encode()))
    return found


def test_an_echoed_token_appears_nowhere(tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), GraphStandIn)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        cfg = write_config(tmp_path)
        account = (
            f'[[accounts]]\nplatform = "facebook"\naccount_id = "{PAGE}"\n'
            'display_name = "LKS"\nmode = "enforce"\ntoken_env = "MODBOT_TEST_FB_TOKEN"\n'
            f'api_base_url = "http://127.0.0.1:{server.server_port}"\n'
        )
        cfg.write_text(
            re.sub(
                r'\[\[accounts\]\]\nplatform = "sandbox"\n(?:[^\n]+\n)*?scenario = [^\n]+\n',
                account,
                cfg.read_text(),
                count=1,
            )
        )
        GraphStandIn.phase = "act"
        runs = [modbot(cfg, "run", "--once")]  # the Hide is refused with the token in it
        GraphStandIn.phase = "read"
        runs.append(modbot(cfg, "run", "--once"))  # the read is refused with it
        runs.append(modbot(cfg, "health"))
        runs.append(modbot(cfg, "accounts", "check"))
    finally:
        server.shutdown()
    outputs = [
        (f"{r.args[5:]} {stream}", text)
        for r in runs
        for stream, text in (("stdout", r.stdout), ("stderr", r.stderr))
    ]
    files = everything_written(tmp_path)
    # the errors did travel (so this test could fail): redacted, in each place
    assert "Graph API error 190" in runs[0].stderr + runs[0].stdout
    assert "Graph API error 190" in runs[2].stdout  # `health` shows the stored error
    assert "Graph API error 190" in runs[3].stdout  # `accounts check`
    assert any(
        name.endswith("(decoded)") and b"Graph API error 190" in data for name, data in files
    ), "the 'not being watched' email carries the error"
    assert any(name.endswith("m.db") for name, _ in files)
    for secret in (TOKEN, TRUNCATED, APP_SECRET):
        for where, text in outputs:
            assert secret not in text, where
        for where, data in files:
            assert secret.encode() not in data, where
