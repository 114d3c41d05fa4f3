"""The dashboard over HTTP (Starlette's test client, a real database filled by the pipeline):
signing in, sessions, CSRF, roles on every request, the audit of every view of safeguarding
words, and the pages' actions. The same things in a real browser: test_browser.py."""

# ruff: noqa: F811  (the site fixtures come from test_web_site; tests take them by name)

from __future__ import annotations

import json
from datetime import timedelta

from bot.services import users
from bot.store.records import EscalationStatus
from tests.test_web_site import (  # noqa: F401  (fixtures)
    DISCLOSURE,
    EVIL_AUTHOR,
    HARMLESS_HIDDEN,
    PASSWORD,
    QUESTION,
    SECOND_DISCLOSURE,
    XSS,
    csrf_of,
    post_form,
    sign_in,
    site,
    site_template,
)

ALL_WORDS = [HARMLESS_HIDDEN, DISCLOSURE, SECOND_DISCLOSURE, QUESTION, "tw@ts", "pupil7", "mum1"]


def rows(site, sql: str, args=()) -> list[dict]:
    store = site.store()
    try:
        return store.rows(sql, list(args))
    finally:
        store.close()


def item_of(site, comment_id: str) -> dict:
    return rows(site, "SELECT * FROM items WHERE comment_id = ?", [comment_id])[0]


def escalation_of(site, comment_id: str) -> dict:
    return rows(site, "SELECT * FROM escalations WHERE comment_id = ?", [comment_id])[0]


# --- signing in ----------------------------------------------------------------------------
def test_each_role_signs_in_and_lands_on_today(site):
    for role in ("admin", "dsl", "slt"):
        client = site.client()
        page = sign_in(client, site.logins[role], PASSWORD)
        assert page.status_code == 200 and page.url.path == "/today", role
        assert "Sign out" in page.text


def test_a_wrong_password_and_an_unknown_person_get_the_same_answer(site):
    client = site.client()
    wrong = sign_in(client, site.logins["admin"], "not the password")
    nobody = sign_in(client, "nobody@example.org", "not the password")
    assert wrong.status_code == nobody.status_code == 401
    assert "That email or password is not right." in wrong.text
    assert "That email or password is not right." in nobody.text
    refused = rows(site, "SELECT detail FROM audit WHERE event = 'sign_in.refused'")
    assert len(refused) == 2 and all("not the password" not in r["detail"] for r in refused)


def test_pages_need_a_session_and_come_back_after_signing_in(site):
    client = site.client()
    item = item_of(site, "q1")
    page = client.get(f"/items/{item['id']}")
    assert page.url.path == "/sign-in" and QUESTION not in page.text
    back = sign_in(client, site.logins["admin"], PASSWORD, next_path=f"/items/{item['id']}")
    assert back.url.path == f"/items/{item['id']}" and QUESTION in back.text


def test_no_open_redirect_after_signing_in(site):
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:x"):
        client = site.client()
        page = sign_in(client, site.logins["admin"], PASSWORD, next_path=target)
        assert page.url.host == "127.0.0.1" and page.url.path == "/today", target


def test_sign_in_is_rate_limited_per_person_and_survives_a_restart(site):
    client = site.client()
    for _ in range(users.LIMIT_PER_LOGIN):
        assert sign_in(client, site.logins["admin"], "guess").status_code == 401
    restarted = site.client()  # a new app instance: the count is in the database
    refused = sign_in(restarted, site.logins["admin"], PASSWORD)
    assert refused.status_code == 401 and "Too many tries" in refused.text
    other = sign_in(site.client(), site.logins["dsl"], PASSWORD)  # another person is not locked
    assert other.url.path == "/today"
    site.clock.now += users.LIMIT_WINDOW + timedelta(seconds=1)
    assert sign_in(site.client(), site.logins["admin"], PASSWORD).url.path == "/today"


def test_sign_in_is_rate_limited_per_address_whoever_is_tried(site):
    client = site.client()
    for n in range(users.LIMIT_PER_ADDRESS):
        sign_in(client, f"guess{n}@example.org", "guess")
    refused = sign_in(client, site.logins["dsl"], PASSWORD)
    assert refused.status_code == 401 and "Too many tries" in refused.text
    assert rows(site, "SELECT count(*) AS n FROM audit WHERE event = 'sign_in.limited'")[0]["n"]


def test_session_cookie_is_httponly_samesite_strict_and_secure_behind_https(site):
    client = site.client()
    page = client.get("/sign-in")
    response = client.post(
        "/sign-in",
        data={"login": site.logins["dsl"], "password": PASSWORD, "csrf": csrf_of(page.text)},
        follow_redirects=False,
    )
    cookie = next(
        v for k, v in response.headers.multi_items() if k == "set-cookie" and "modbot_session" in v
    )
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # http://127.0.0.1: a Secure cookie would be dropped
    stored = rows(site, "SELECT id FROM sessions")[0]["id"]
    token = cookie.split(";")[0].split("=", 1)[1]
    assert stored != token and len(stored) == 64  # only the SHA-256 is stored

    from bot.faces.web import WebContext

    https = site.settings.model_copy(
        update={"email": site.settings.email.model_copy(update={"base_url": "https://m.example"})}
    )
    ctx = WebContext(https, site.database, site.secret, site.clock)
    assert ctx.cookie_secure and ctx.cookie_name == "__Host-modbot"


def test_one_time_password_must_be_replaced_before_anything_else(site):
    store = site.store()
    _, once = users.add_user(store, "Newby", "newby@example.org", "admin", by="test")
    store.close()
    client = site.client()
    page = sign_in(client, "newby@example.org", once)
    assert page.url.path == "/account/password"
    assert client.get("/hidden").url.path == "/account/password"
    short = client.post(
        "/account/password", data={"csrf": csrf_of(page.text), "old": once, "new": "short"}
    )
    assert short.status_code == 400 and "at least 10" in short.text
    done = client.post(
        "/account/password",
        data={"csrf": csrf_of(page.text), "old": once, "new": "horse staple battery", "next": "/x"},
    )
    assert done.url.path == "/x" or done.status_code == 404
    assert client.get("/hidden").status_code == 200
    assert sign_in(site.client(), "newby@example.org", once).status_code == 401
    assert sign_in(site.client(), "newby", "horse staple battery").url.path == "/today"


# --- sessions end ----------------------------------------------------------------------------
def test_sign_out_ends_the_session_on_the_server(site):
    client = site.client("admin")
    cookie = dict(client.cookies)
    post_form(client, "/today", "/sign-out")
    replay = site.client()
    replay.cookies.update(cookie)  # the old cookie, kept by someone
    assert replay.get("/today").url.path == "/sign-in"


def test_sign_out_everywhere_ends_every_device(site):
    phone, laptop = site.client("dsl"), site.client("dsl")
    assert laptop.get("/today").url.path == "/today"
    post_form(phone, "/account", "/account/sign-out-everywhere")
    assert laptop.get("/today").url.path == "/sign-in"
    assert phone.get("/today").url.path == "/sign-in"


def test_disabling_a_person_signs_them_out_at_once(site):
    client = site.client("admin")
    store = site.store()
    users.disable(store, site.logins["admin"], by="test")
    store.close()
    assert client.get("/today").url.path == "/sign-in"
    assert sign_in(site.client(), site.logins["admin"], PASSWORD).status_code == 401


def test_an_idle_session_ends(site):
    client = site.client("admin")
    site.clock.now += users.SESSION_IDLE + timedelta(minutes=1)
    assert client.get("/today").url.path == "/sign-in"


# --- CSRF ----------------------------------------------------------------------------------
def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(site):
    item = item_of(site, "q1")
    client = site.client("admin")
    for data in ({}, {"csrf": "guessed"}, {"csrf": ""}):
        refused = client.post(f"/items/{item['id']}/acknowledge", data=data)
        assert refused.status_code == 403 and "Form refused" in refused.text
    other = site.client("admin")  # a token from another session is no good either
    stolen = csrf_of(other.get("/today").text)
    assert client.post(f"/items/{item['id']}/acknowledge", data={"csrf": stolen}).status_code == 403
    assert item_of(site, "q1")["acknowledged_at"] is None
    refusals = rows(site, "SELECT count(*) AS n FROM audit WHERE event = 'web.csrf_refused'")
    assert refusals[0]["n"] == 4


def test_a_cross_site_post_is_refused_even_with_a_token(site):
    item = item_of(site, "q1")
    client = site.client("admin")
    token = csrf_of(client.get("/today").text)
    refused = client.post(
        f"/items/{item['id']}/acknowledge",
        data={"csrf": token},
        headers={"sec-fetch-site": "cross-site"},
    )
    assert refused.status_code == 403 and item_of(site, "q1")["acknowledged_at"] is None


def test_the_sign_in_form_needs_its_token_too(site):
    client = site.client()
    refused = client.post(
        "/sign-in", data={"login": site.logins["admin"], "password": PASSWORD, "csrf": "x"}
    )
    assert refused.status_code == 403 and not rows(site, "SELECT * FROM sessions")


# --- roles on every request ------------------------------------------------------------------
def test_slt_gets_403_on_escalations_items_and_hidden_comments(site):
    client = site.client("slt")
    escalation = escalation_of(site, "e1")
    item = item_of(site, "q1")
    decision = site.decision_for("h1")
    for path in (
        f"/escalations/{escalation['id']}",
        "/escalations",
        f"/items/{item['id']}",
        f"/items/{item_of(site, 'e1')['id']}",
        "/hidden",
        f"/hidden/{decision}",
        "/bans",
    ):
        page = client.get(path)
        assert page.status_code == 403, path
        assert not any(words in page.text for words in ALL_WORDS), path
    token = csrf_of(client.get("/today").text)
    for action in (
        f"/items/{item['id']}/acknowledge",
        f"/escalations/{escalation['id']}/refer",
        f"/hidden/{decision}/restore",
        f"/hidden/{decision}/ban",
    ):
        page = client.post(action, data={"csrf": token, "reason": "x y z", "route": "CEOP"})
        assert page.status_code == 403, action
    assert not rows(site, "SELECT * FROM audit WHERE event = 'escalation.viewed'")
    assert item_of(site, "q1")["acknowledged_at"] is None


def test_slt_sees_no_comment_text_author_or_handle_on_any_page(site):
    client = site.client("slt")
    seen = {}
    for path in ("/today", "/reports", "/accounts", "/leave", "/account"):
        page = client.get(path)
        assert page.status_code == 200, path
        seen[path] = page.text
    forbidden = [*ALL_WORDS, EVIL_AUTHOR, "troll", "dad2", "xss-1", "&lt;script"]
    for path, html in seen.items():
        leaked = [w for w in forbidden if w in html]
        assert not leaked, (path, leaked)
    assert "Safeguarding concerns not yet read" in seen["/today"]


def test_an_administrator_cannot_open_safeguarding_words(site):
    client = site.client("admin")
    escalation = escalation_of(site, "e1")
    assert client.get(f"/escalations/{escalation['id']}").status_code == 403
    assert client.get(f"/items/{item_of(site, 'e1')['id']}").status_code == 403
    assert client.get(f"/hidden/{site.decision_for('e1')}").status_code == 403
    hidden = client.get("/hidden").text
    today = client.get("/today").text
    assert DISCLOSURE not in hidden and DISCLOSURE not in today
    assert HARMLESS_HIDDEN in hidden  # ordinary hidden comments are the administrators' work


# --- the DSL's escalations: every view audited ------------------------------------------------
def test_every_view_of_safeguarding_words_is_audited_with_the_viewer(site):
    client = site.client("dsl")
    escalation = escalation_of(site, "e1")
    queue = client.get("/escalations")
    assert queue.status_code == 200 and DISCLOSURE not in queue.text  # the queue has no words
    assert not rows(site, "SELECT * FROM audit WHERE event = 'escalation.viewed'")
    for _ in range(2):
        page = client.get(f"/escalations/{escalation['id']}")
        assert page.status_code == 200 and DISCLOSURE in page.text
    client.head(f"/escalations/{escalation['id']}")  # HEAD shows nothing and records nothing
    viewed = rows(
        site, "SELECT actor, detail FROM audit WHERE event = 'escalation.viewed' ORDER BY id"
    )
    assert [v["actor"] for v in viewed] == [site.settings.dsl.name] * 2
    assert all(json.loads(v["detail"])["via"] == "web" for v in viewed)
    item_page = client.get(f"/items/{item_of(site, 'e1')['id']}")  # the item opens the record
    assert item_page.url.path == f"/escalations/{escalation['id']}"
    assert len(rows(site, "SELECT * FROM audit WHERE event = 'escalation.viewed'")) == 3


def test_an_escalation_is_acknowledged_only_when_the_dsl_confirms(site):
    client = site.client("dsl")
    escalation = escalation_of(site, "e1")
    path = f"/escalations/{escalation['id']}"
    client.get(path)
    assert escalation_of(site, "e1")["status"] == EscalationStatus.NEW
    done = post_form(client, path, f"{path}/acknowledge")
    assert done.status_code == 200 and "reminders for it have stopped" in done.text
    assert escalation_of(site, "e1")["status"] == EscalationStatus.ACKNOWLEDGED
    assert item_of(site, "e1")["acknowledged_by"] == site.settings.dsl.name


def test_the_dsl_refers_closes_and_exports(site):
    client = site.client("dsl")
    escalation = escalation_of(site, "e1")
    path = f"/escalations/{escalation['id']}"
    refused = post_form(client, path, f"{path}/refer", route="CEOP", reference="")
    assert "Not recorded" in refused.text
    post_form(client, path, f"{path}/refer", route="CEOP", reference="CEOP-2026-77")
    row = escalation_of(site, "e1")
    assert row["status"] == "referred" and row["reference"] == "CEOP: CEOP-2026-77"
    post_form(client, path, f"{path}/close", outcome="Police visited; family supported.")
    row = escalation_of(site, "e1")
    assert row["status"] == "closed" and row["outcome"] == "Police visited; family supported."
    page = client.get(path)
    download = client.post(f"{path}/export", data={"csrf": csrf_of(page.text), "format": "json"})
    assert download.status_code == 200
    assert "attachment" in download.headers["content-disposition"]
    assert json.loads(download.content)["comment"]["words"] == DISCLOSURE
    exported = rows(site, "SELECT actor FROM audit WHERE event = 'escalation.exported'")
    assert [e["actor"] for e in exported] == [site.settings.dsl.name]


# --- items, restores, second opinions, bans ---------------------------------------------------
def test_an_administrator_acknowledges_an_item(site):
    client = site.client("admin")
    item = item_of(site, "q1")
    page = client.get(f"/items/{item['id']}")
    assert QUESTION in page.text and "acknowledge" in page.text
    done = post_form(client, f"/items/{item['id']}", f"/items/{item['id']}/acknowledge")
    assert done.status_code == 200 and "Acknowledged" in done.text
    assert item_of(site, "q1")["acknowledged_by"] == site.settings.administrators[0].name


def test_the_item_page_says_why_and_which_rule(site):
    client = site.client("admin")
    page = client.get(f"/hidden/{site.decision_for('h1')}")
    assert page.status_code == 200 and HARMLESS_HIDDEN in page.text
    hits = rows(
        site,
        "SELECT v.hits FROM verdicts v JOIN decisions d ON d.verdict_id = v.id WHERE d.id = ?",
        [site.decision_for("h1")],
    )
    rule = json.loads(hits[0]["hits"])[0]["rule"]
    assert rule in page.text and "Why" in page.text


def test_restoring_unhides_on_the_platform_and_records_a_false_positive(site, tmp_path):
    decision = site.decision_for("h1")
    assert site.platform().comment("h1").hidden
    client = site.client("admin")
    path = f"/hidden/{decision}"
    empty = post_form(client, path, f"{path}/restore", reason="", sure="yes")
    assert empty.status_code == 409 and site.platform().comment("h1").hidden
    done = post_form(client, path, f"{path}/restore", reason="banter between parents", sure="yes")
    assert done.status_code == 200 and "Done on the platform" in done.text
    assert not site.platform().comment("h1").hidden  # the sandbox platform shows it again
    [fb] = rows(site, "SELECT * FROM feedback")
    assert (fb["label"], fb["text"], fb["status"]) == ("allow", HARMLESS_HIDDEN, "restore")
    assert json.loads(fb["rules"])  # the rules that fired, for `modbot evaluate`
    assert item_of(site, "h1")["acknowledged_at"] is not None
    [unhide] = rows(site, "SELECT status FROM actions WHERE kind = 'unhide'")
    assert unhide["status"] == "done"
    again = post_form(client, path, f"{path}/restore", reason="twice", sure="yes")
    assert "Already put back" in again.text
    assert len(rows(site, "SELECT * FROM actions WHERE kind = 'unhide'")) == 1

    from click.testing import CliRunner

    from bot.faces.cli import cli

    out = tmp_path / "feedback.jsonl"
    result = CliRunner().invoke(
        cli, ["feedback", "export", "--to", str(out), "--db", str(site.database)]
    )
    assert result.exit_code == 0, result.output
    [line] = [json.loads(x) for x in out.read_text().splitlines()]
    assert line["text"] == HARMLESS_HIDDEN and line["label"] == "allow"
    assert line["source"] == "restored" and set(line) >= {"id", "text", "label", "category"}
    assert out.stat().st_mode & 0o077 == 0


def test_an_unsure_reviewer_asks_a_second_person_first(site):
    decision = site.decision_for("h1")
    path = f"/hidden/{decision}"
    first = site.client("admin")
    asked = post_form(first, path, f"{path}/restore", reason="maybe a joke?", sure="no")
    assert "second opinion" in asked.text and site.platform().comment("h1").hidden
    same = post_form(first, path, f"{path}/restore", reason="me again", sure="yes")
    assert same.status_code == 409 and site.platform().comment("h1").hidden
    second = site.client("admin2")
    assert "waiting for your second opinion" in second.get("/today").text
    agreed = post_form(second, path, f"{path}/restore", reason="yes, a joke", sure="yes")
    assert agreed.status_code == 200 and not site.platform().comment("h1").hidden
    [fb] = rows(site, "SELECT * FROM feedback")
    assert fb["second_by"] == site.settings.administrators[1].name and fb["label"] == "allow"


def test_a_second_reviewer_can_keep_it_hidden(site):
    decision = site.decision_for("h1")
    path = f"/hidden/{decision}"
    post_form(site.client("admin"), path, f"{path}/restore", reason="not sure", sure="no")
    kept = post_form(site.client("dsl"), path, f"{path}/keep", reason="it is an insult")
    assert "Kept hidden" in kept.text and site.platform().comment("h1").hidden
    [fb] = rows(site, "SELECT * FROM feedback")
    assert (fb["status"], fb["label"]) == ("keep", "hide")


def test_a_ban_is_suggested_by_an_administrator_and_approved_by_the_dsl(site):
    decision = site.decision_for("x0")
    path = f"/hidden/{decision}"
    admin = site.client("admin")
    suggested = post_form(admin, path, f"{path}/ban", reason="third abusive comment")
    assert "Ban suggested" in suggested.text
    [request] = rows(site, "SELECT * FROM ban_requests")
    approve = f"/bans/{request['id']}/approve"
    refused = admin.post(approve, data={"csrf": csrf_of(admin.get("/today").text)})
    assert refused.status_code == 403 and not site.platform().banned
    dsl = site.client("dsl")
    assert "third abusive comment" in dsl.get("/bans").text
    done = post_form(dsl, "/bans", approve, note="agreed")
    assert "blocked on the platform" in done.text
    assert site.platform().banned == ["troll-0"]
    [ban] = rows(site, "SELECT status FROM actions WHERE kind = 'ban'")
    assert ban["status"] == "done"


# --- accounts, leave, reports -------------------------------------------------------------
def test_the_circuit_breaker_is_shown_and_resumed_by_a_person(site):
    key = site.settings.accounts[0].key
    store = site.store()
    store.trip_breaker(key, "more than 40 comments hidden in the last hour")
    store.close()
    slt = site.client("slt")
    page = slt.get("/accounts")
    assert "Automatic hiding paused" in page.text and "resume automatic hiding" not in page.text
    refused = slt.post("/accounts/resume", data={"csrf": csrf_of(page.text), "account": key})
    assert refused.status_code == 403
    admin = site.client("admin")
    assert "paused" in admin.get("/today").text  # an account not being watched, on Today
    done = post_form(admin, "/accounts", "/accounts/resume", account=key)
    assert "back on" in done.text
    [breaker] = rows(site, "SELECT * FROM breakers")
    assert breaker["resumed_by"] == site.settings.administrators[0].name


def test_leave_is_recorded_and_changes_the_rota(site):
    admin = site.client("admin")
    away = site.settings.administrators[1].name
    done = post_form(admin, "/leave", "/leave", name=away, start="2026-11-16", end="2026-11-20")
    assert f"{away} is on leave" in done.text
    slt = site.client("slt")
    refused = post_form(slt, "/leave", "/leave", name=away, start="2026-11-23", end="2026-11-24")
    assert refused.status_code == 403
    own = post_form(
        slt, "/leave", "/leave", name=site.settings.slt.name, start="2026-11-23", end="2026-11-24"
    )
    assert "is on leave" in own.text


def test_reports_are_numbers_only(site):
    page = site.client("slt").get("/reports")
    assert page.status_code == 200 and "Safeguarding escalations" in page.text
    assert "self harm" in page.text and DISCLOSURE not in page.text


# --- headers ----------------------------------------------------------------------------------
def test_every_page_has_the_csp_and_no_script(site):
    client = site.client("dsl")
    for path in (
        "/sign-in",
        "/today",
        "/hidden",
        "/escalations",
        f"/escalations/{escalation_of(site, 'e2')['id']}",
        "/bans",
        "/accounts",
        "/leave",
        "/reports",
        "/account",
        "/no-such-page",
    ):
        page = client.get(path)
        csp = page.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp, path
        assert "<script" not in page.text.replace("&lt;script", ""), path
        assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"]


def test_xss_payloads_are_in_the_fixture(site):
    """The pages tested in test_web_xss.py really hold the payloads."""
    texts = [r["text"] for r in rows(site, "SELECT text FROM comments")]
    assert all(any(p in t for t in texts) for p in XSS)


def test_the_monthly_report_is_served_to_slt_without_words_or_scripts(site):
    import importlib.util

    if importlib.util.find_spec("bot.services.reporting") is None:
        return  # the monthly report is not in this install: the numbers page stands alone
    client = site.client("slt")
    assert "/reports/monthly?month=2026-11" in client.get("/reports").text
    page = client.get("/reports/monthly?month=2026-11")
    assert page.status_code == 200, page.text[:500]
    csp = page.headers["content-security-policy"]
    assert "script" not in csp and "default-src 'none'" in csp
    assert "<script" not in page.text
    assert not any(words in page.text for words in ALL_WORDS)
    future = client.get("/reports/monthly?month=2031-01")
    assert future.url.path == "/reports" and "No report" in future.text
