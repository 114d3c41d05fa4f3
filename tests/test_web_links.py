"""Email links lead to the sign-in page and then to the item; the link itself does nothing.
Mail scanners fetch every link (GET and HEAD), so nothing a link does may count as a person
reading or acknowledging anything."""

# ruff: noqa: F811  (the site fixtures come from test_web_site; tests take them by name)

from __future__ import annotations

import re
from datetime import timedelta

from bot.notify.links import sign
from tests.test_web_site import (  # noqa: F401  (fixtures)
    DISCLOSURE,
    PASSWORD,
    QUESTION,
    sign_in,
    site,
    site_template,
)


def token_for(site, comment_id: str, recipient: str) -> tuple[dict, str]:
    store = site.store()
    item = store.rows("SELECT * FROM items WHERE comment_id = ?", [comment_id])[0]
    store.close()
    return item, sign(site.secret, item["id"], recipient, site.clock.now, timedelta(hours=72))


def state(site, comment_id: str) -> tuple[str, str | None]:
    store = site.store()
    item = store.rows("SELECT status FROM items WHERE comment_id = ?", [comment_id])[0]
    escalation = store.rows("SELECT status FROM escalations WHERE comment_id = ?", [comment_id])
    store.close()
    return item["status"], escalation[0]["status"] if escalation else None


def test_a_link_checks_its_signature_then_goes_on_to_the_item_and_does_nothing(site):
    item, token = token_for(site, "e1", site.settings.dsl.name)
    client = site.client()
    for _ in range(3):  # a mail scanner, then the person, then a preview
        page = client.get("/ack", params={"t": token})
        assert page.status_code == 200 and DISCLOSURE not in page.text
        assert client.head("/ack", params={"t": token}).status_code == 200
    refresh = re.search(r'http-equiv="refresh" content="0; url=([^"]+)"', page.text)
    assert refresh and refresh.group(1) == f"/items/{item['id']}"
    assert state(site, "e1") == ("open", "new")
    store = site.store()
    assert not store.rows("SELECT * FROM audit WHERE event = 'escalation.viewed'")
    store.close()


def test_following_a_link_signs_in_then_opens_the_item(site):
    item, token = token_for(site, "q1", site.settings.administrators[0].name)
    client = site.client()
    page = client.get("/ack", params={"t": token})
    target = re.search(r'url=([^"]+)"', page.text).group(1)
    landing = client.get(target)
    assert landing.url.path == "/sign-in" and QUESTION not in landing.text
    opened = sign_in(client, site.logins["admin"], PASSWORD, next_path=target)
    assert opened.url.path == f"/items/{item['id']}" and QUESTION in opened.text
    assert state(site, "q1")[0] == "open"  # seen is not acknowledged


def test_an_escalation_link_opens_the_dsl_record_and_only_confirming_acknowledges(site):
    _, token = token_for(site, "e1", site.settings.dsl.name)
    client = site.client("dsl")
    target = re.search(r'url=([^"]+)"', client.get("/ack", params={"t": token}).text).group(1)
    record = client.get(target)
    assert record.url.path.startswith("/escalations/") and DISCLOSURE in record.text
    assert state(site, "e1") == ("open", "new")
    store = site.store()
    viewed = store.rows("SELECT actor FROM audit WHERE event = 'escalation.viewed'")
    store.close()
    assert [v["actor"] for v in viewed] == [site.settings.dsl.name]


def test_an_administrator_following_the_dsls_link_sees_no_words(site):
    _, token = token_for(site, "e1", site.settings.dsl.name)
    client = site.client("admin")
    target = re.search(r'url=([^"]+)"', client.get("/ack", params={"t": token}).text).group(1)
    page = client.get(target)
    assert page.status_code == 403 and DISCLOSURE not in page.text


def test_forged_expired_and_malformed_links_are_refused_and_audited(site):
    _, token = token_for(site, "q1", site.settings.administrators[0].name)
    client = site.client()
    forged = token[:-1] + ("0" if token[-1] != "0" else "1")
    other = sign(b"another secret", 1, "x", site.clock.now, timedelta(hours=1))
    for bad in (forged, other, "é.ü", "", "nodot"):
        assert client.get("/ack", params={"t": bad}).status_code == 403, bad
    site.clock.now += timedelta(hours=73)
    assert client.get("/ack", params={"t": token}).status_code == 403
    store = site.store()
    refused = store.rows("SELECT count(*) AS n FROM audit WHERE event = 'link.refused'")[0]["n"]
    store.close()
    assert refused == 6


def test_a_posted_link_form_from_an_old_email_page_changes_nothing(site):
    _, token = token_for(site, "q1", site.settings.administrators[0].name)
    page = site.client().post("/ack", data={"t": token, "step": "acknowledge"})
    assert page.status_code == 403 and state(site, "q1")[0] == "open"
