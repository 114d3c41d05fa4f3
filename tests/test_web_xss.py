"""Comment text, author names and post titles are the public's input: every page renders them
as text. Each payload is in a real comment, processed by the real pipeline, and every page that
shows words is parsed: no script, no event handler, no javascript: link, no foreign element."""

# ruff: noqa: F811  (the site fixtures come from test_web_site; tests take them by name)

from __future__ import annotations

from html.parser import HTMLParser

from markupsafe import escape

from tests.test_web_site import (  # noqa: F401  (fixtures)
    EVIL_AUTHOR,
    EVIL_POST_ID,
    EVIL_POST_TITLE,
    XSS,
    site,
    site_template,
)

OUR_TAGS = {
    "html", "head", "meta", "title", "link", "body", "header", "nav", "main", "section", "h1",
    "h2", "h3", "p", "a", "span", "strong", "em", "code", "ul", "ol", "li", "form", "input",
    "button", "label", "select", "option", "textarea", "blockquote", "table", "thead", "tbody",
    "tr", "th", "td", "dl", "dt", "dd", "details", "summary",
}  # fmt: skip
URL_ATTRIBUTES = {"href", "src", "action", "formaction"}


class Markup(HTMLParser):
    """Every element and attribute the browser would build from a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str, str]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes += [(tag, k, v or "") for k, v in attrs]

    def handle_data(self, data):
        self.text.append(data)


def parse(page: str) -> Markup:
    markup = Markup()
    markup.feed(page)
    return markup


def assert_inert(path: str, page: str) -> Markup:
    markup = parse(page)
    foreign = set(markup.tags) - OUR_TAGS
    assert not foreign, (path, foreign)
    for tag, name, value in markup.attributes:
        assert not name.startswith("on"), (path, tag, name, value)
        if name in URL_ATTRIBUTES:
            assert value.startswith(("/", "http://", "https://", "#")), (path, tag, name, value)
        if tag == "meta" and name == "http-equiv":
            assert value == "refresh" and path.startswith("/ack"), (path, value)
    return markup


def pages_with_words(site, client) -> dict[str, str]:
    store = site.store()
    decisions = [r["id"] for r in store.rows("SELECT id FROM decisions WHERE action != 'allow'")]
    items = [r["id"] for r in store.rows("SELECT id FROM items")]
    escalations = [r["id"] for r in store.rows("SELECT id FROM escalations")]
    store.close()
    paths = ["/today", "/hidden", "/escalations", "/bans", "/reports", "/accounts"]
    paths += [f"/hidden/{d}" for d in decisions]
    paths += [f"/items/{i}" for i in items]
    paths += [f"/escalations/{e}" for e in escalations]
    out = {}
    for path in paths:
        page = client.get(path)
        if page.status_code == 200:
            out[str(page.url.path)] = page.text
    return out


def test_payloads_in_comments_and_authors_render_as_text_for_every_role(site):
    for role in ("admin", "dsl"):
        client = site.client(role)
        pages = pages_with_words(site, client)
        shown = ""
        for path, page in pages.items():
            markup = assert_inert(path, page)
            shown += "".join(markup.text)
        store = site.store()
        escalated = {
            r["comment_id"]
            for r in store.rows("SELECT comment_id FROM decisions WHERE action = 'escalate'")
        }
        store.close()
        for n, payload in enumerate(XSS):  # each reached a page, as the characters posted
            if role == "dsl" or f"x{n}" not in escalated:  # escalated words: the DSL's only
                assert payload in shown, (role, payload)
        assert EVIL_AUTHOR in shown, role
        assert "49xss-8" not in shown  # no template injection
    assert "{{ 7*7 }}" in shown


def test_payloads_are_escaped_in_the_html_itself(site):
    page = site.client("admin").get(f"/hidden/{site.decision_for('x0')}").text
    assert str(escape(XSS[0])) in page and XSS[0] not in page
    author = site.client("admin").get(f"/hidden/{site.decision_for('x1')}").text
    assert str(escape(EVIL_AUTHOR)) in author and EVIL_AUTHOR not in author


def test_a_post_title_and_id_from_the_platform_never_become_markup(site):
    client = site.client("dsl")
    for path, page in pages_with_words(site, client).items():
        assert EVIL_POST_TITLE not in page and EVIL_POST_ID not in page, path


def test_a_javascript_permalink_is_never_a_link(site):
    store = site.store()
    store.db.execute(
        "UPDATE comments SET permalink = 'javascript:alert(1)' WHERE comment_id = 'h1'"
    )
    store.close()
    page = site.client("admin").get(f"/hidden/{site.decision_for('h1')}").text
    assert_inert("/hidden/h1", page)
    assert "javascript:" not in page
