"""A small school for the dashboard's tests: a real database filled by the real pipeline from a
sandbox platform (with its state file, so the web's own connector sees the same platform), three
people (admin, dsl, slt), and helpers to sign in. Comments, authors and post titles carry XSS
payloads. Used by test_web*.py and test_browser*.py."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from bot.app import build_pipeline
from bot.config.settings import Settings
from bot.faces.web import WebContext, create_app
from bot.notify.links import load_secret
from bot.services import users
from bot.store import Store
from connectors.registry import sandbox_state_file
from connectors.sandbox import SandboxConnector, SandboxPlatform
from tests.conftest import make_settings

MONDAY = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
PASSWORD = "three random words"
XSS = [
    "<script>alert('xss-1')</script>",
    '"><img src=x onerror=alert("xss-2")>',
    "<svg/onload=alert('xss-3')>",
    "javascript:alert('xss-4')",
    '<a href="javascript:alert(5)">xss-5</a>',
    "</textarea></blockquote><script>alert('xss-6')</script>",
    "<iframe src=//evil.example/xss-7></iframe>",
    "{{ 7*7 }}{% raw %}xss-8",
    "<style>body{display:none}</style>xss-9",
]
EVIL_AUTHOR = '"><script>alert("author")</script>'
EVIL_POST_TITLE = "<script>alert('post-title')</script>"
EVIL_POST_ID = "p<script>alert(1)</script>"
HARMLESS_HIDDEN = "this school is sh!t"  # hidden by the rules: the one the tests put back
DISCLOSURE = "i want to die, nobody likes me"
SECOND_DISCLOSURE = "my stepdad hits me when mum is out"
QUESTION = "What time does the trip get back?"


class Clock:
    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Site:
    settings: Settings
    database: Path
    clock: Clock
    secret: bytes
    logins: dict[str, str] = field(default_factory=dict)  # role -> email

    def store(self) -> Store:
        return Store(self.database, clock=self.clock)

    def context(self) -> WebContext:
        return WebContext(self.settings, self.database, self.secret, self.clock)

    def app(self):
        return create_app(self.context())

    def platform(self) -> SandboxPlatform:
        """The sandbox platform as it is now (read back from its state file)."""
        account = self.settings.accounts[0]
        state = sandbox_state_file(self.settings, account, self.database)
        return SandboxPlatform.from_scenario(Path("unused"), account.account_id, state)

    def decision_for(self, comment_id: str) -> int:
        store = self.store()
        try:
            return store.comment_row("sandbox", comment_id)["decision_id"]
        finally:
            store.close()

    def copy_to(self, folder: Path) -> Site:
        """The same school in another folder (database, platform state, link secret), so a
        test can change it freely."""
        folder.mkdir(parents=True, exist_ok=True)
        for path in self.database.parent.iterdir():
            if path.is_file() and not path.name.endswith(("-wal", "-shm")):
                shutil.copy2(path, folder / path.name)
        return replace(self, database=folder / self.database.name, clock=Clock(self.clock.now))

    def client(self, role: str | None = None, password: str = PASSWORD) -> TestClient:
        """A browser-like client, signed in as the role's person (or not at all)."""
        client = TestClient(self.app(), base_url="http://127.0.0.1")
        if role is not None:
            page = sign_in(client, self.logins[role], password)
            assert page.status_code == 200 and "/sign-in" not in str(page.url), page.text
        return client


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def sign_in(client: TestClient, login: str, password: str, next_path: str = "/today"):
    form = client.get(f"/sign-in?next={next_path}")
    return client.post(
        "/sign-in",
        data={"login": login, "password": password, "csrf": csrf_of(form.text), "next": next_path},
    )


def post_form(client: TestClient, page_path: str, action: str, **fields: str):
    """Submit a form the way a browser does: take the CSRF token from the page it is on."""
    page = client.get(page_path)
    assert page.status_code == 200, page.text
    return client.post(action, data={"csrf": csrf_of(page.text), **fields})


def scenario(platform: SandboxPlatform) -> None:
    platform.add_record(
        {"type": "post", "id": "p1", "created_at": "2026-11-16T08:00:00+00:00", "text": "Trip"}
    )
    platform.add_record(
        {
            "type": "post",
            "id": EVIL_POST_ID,
            "created_at": "2026-11-16T08:00:00+00:00",
            "text": EVIL_POST_TITLE,
        }
    )
    at = "2026-11-16T08:{:02d}:00+00:00"
    platform.add_comment("q1", "p1", QUESTION, at.format(1), author="dad2", author_id="u-dad2")
    platform.add_comment("h1", "p1", HARMLESS_HIDDEN, at.format(2), author="mum1", author_id="u1")
    platform.add_comment("e1", "p1", DISCLOSURE, at.format(3), author="pupil7", author_id="u-p7")
    platform.add_comment(
        "e2", EVIL_POST_ID, f"{XSS[0]} {SECOND_DISCLOSURE}", at.format(4), author=EVIL_AUTHOR
    )
    for n, payload in enumerate(XSS):
        platform.add_comment(
            f"x{n}",
            EVIL_POST_ID,
            f"{payload} absolute tw@ts the lot of you",
            at.format(10 + n),
            author=EVIL_AUTHOR if n % 2 else f"troll{n}{payload}",
            author_id=f"troll-{n}",
        )


def build_site(folder: Path, classifiers) -> Site:
    """Run the pipeline once over the scenario on Monday morning; add the three people."""
    settings = make_settings()
    database = folder / "modbot.db"
    clock = Clock(MONDAY)
    account = settings.accounts[0]
    platform = SandboxPlatform(
        account_id=account.account_id,
        state_file=sandbox_state_file(settings, account, database),
    )
    scenario(platform)
    pipeline, _ = build_pipeline(
        settings,
        database,
        clock=clock,
        connectors={account.key: SandboxConnector(platform, 50)},
        classifiers=classifiers,
        outbox=folder / "outbox",
    )
    pipeline.run_once()
    pipeline.store.close()
    clock.now = MONDAY.replace(hour=11)
    site = Site(settings, database, clock, load_secret("MODBOT_TEST_NO_SUCH_ENV", folder / "ls"))
    store = site.store()
    hashed = users.hash_password(PASSWORD)
    try:
        for person, role in (
            (settings.administrators[0], "admin"),
            (settings.dsl, "dsl"),
            (settings.slt, "slt"),
        ):
            user, _ = users.add_user(store, person.name, person.email, role, by="test")
            store.users.set_password(user.id, hashed, must_change=False)
            site.logins[role] = person.email
        site.logins["admin2"] = settings.administrators[1].email
        second, _ = users.add_user(
            store, settings.administrators[1].name, site.logins["admin2"], "admin", by="test"
        )
        store.users.set_password(second.id, hashed, must_change=False)
    finally:
        store.close()
    return site


@pytest.fixture(scope="session")
def site_template(tmp_path_factory, rules_only) -> Site:
    return build_site(tmp_path_factory.mktemp("school"), rules_only)


@pytest.fixture
def site(site_template, tmp_path) -> Site:
    return site_template.copy_to(tmp_path / "school")


def test_the_site_has_what_the_tests_need(site):
    store = site.store()
    actions = {
        r["comment_id"]: r["action"]
        for r in store.rows(
            "SELECT c.comment_id, d.action FROM comments c JOIN decisions d ON d.id = c.decision_id"
        )
    }
    store.close()
    assert actions["q1"] == "respond"
    assert actions["h1"] == "hide"
    assert actions["e1"] == actions["e2"] == "escalate"
    assert all(actions[f"x{n}"] in ("hide", "escalate") for n in range(len(XSS))), actions
    assert site.platform().comment("h1").hidden
