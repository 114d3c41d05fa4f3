"""The dashboard in a real browser: Debian's Chromium, driven by its chromedriver through
selenium, against the app under uvicorn on a free loopback port. No browser is downloaded at test
time: `make test` installs Debian's packages where it can (deploy/install-browser.sh), and these
tests skip, saying why, where it could not.

Screenshots of every page, at phone (390x844) and desktop (1280x900) widths, go to
/tmp/modbot-shots/ (MODBOT_SHOTS to change) for a person to look at."""

# ruff: noqa: F811  (the site fixtures come from test_web_site; tests take them by name)

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.test_web_site import (  # noqa: F401  (fixtures)
    DISCLOSURE,
    EVIL_AUTHOR,
    HARMLESS_HIDDEN,
    PASSWORD,
    QUESTION,
    XSS,
    site,
    site_template,
)

CHROMIUM = Path(os.environ.get("MODBOT_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("MODBOT_CHROMEDRIVER", "/usr/bin/chromedriver"))
SHOTS = Path(os.environ.get("MODBOT_SHOTS", "/tmp/modbot-shots"))
PHONE, DESKTOP = (390, 844), (1280, 900)


def _why_no_browser() -> str | None:
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        return (
            f"browser tests skipped: {CHROMIUM} or {CHROMEDRIVER} is missing. Install Debian's "
            "packages: `sudo apt-get install chromium chromium-driver` (make test does this "
            "when run as root), or set MODBOT_CHROMIUM and MODBOT_CHROMEDRIVER."
        )
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "browser tests skipped: selenium is not installed (pip install selenium)"
    return None


pytestmark = pytest.mark.skipif(_why_no_browser() is not None, reason=str(_why_no_browser()))


class LiveServer:
    """The app under a real uvicorn in a thread, on a free port on 127.0.0.1."""

    def __init__(self, app):
        import uvicorn

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", timeout_keep_alive=5
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def chrome(size: tuple[int, int] = PHONE):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="modbot-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--window-size={size[0]},{size[1]}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    driver._modbot_profile = profile  # removed with the driver
    emulate(driver, *size)
    return driver


def emulate(driver, width: int, height: int) -> None:
    """The exact viewport (a headless window has a minimum width wider than a phone); a
    narrow one is a phone: touch-sized, honouring the page's viewport meta tag."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )


def click_and_wait(driver, element) -> None:
    """Click (a submit button or a link) and wait for the next page to replace this one."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    page = by_css(driver, "html")
    element.click()

    def replaced(driver) -> bool:
        # Chromium answers a lookup of a node from the page being torn down either with a
        # stale-element error or, mid-navigation, with "does not belong to the document":
        # both mean the old page has gone.
        try:
            page.is_enabled()
        except WebDriverException:
            return driver.execute_script("return document.readyState") == "complete"
        return False

    # A script run while the next page loads may fail too: that is a retry, not a failure.
    WebDriverWait(driver, 15, ignored_exceptions=(WebDriverException,)).until(replaced)


def quit_browser(driver) -> None:
    driver.quit()
    shutil.rmtree(driver._modbot_profile, ignore_errors=True)


@pytest.fixture
def live(site):
    with LiveServer(site.app()) as server:
        yield server


@pytest.fixture
def browser():
    driver = chrome()
    yield driver
    quit_browser(driver)


def by_css(driver, selector):
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, selector)


def all_css(driver, selector):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def sign_in(driver, live, login: str, password: str = PASSWORD, then: str = "/today") -> None:
    driver.get(f"{live.url}{then}")
    assert "/sign-in" in driver.current_url
    by_css(driver, "#login").send_keys(login)
    by_css(driver, "#password").send_keys(password)
    click_and_wait(driver, by_css(driver, "form button[type=submit]"))


def text(driver) -> str:
    return by_css(driver, "body").text


def rows(site, sql: str, args=()) -> list[dict]:
    store = site.store()
    try:
        return store.rows(sql, list(args))
    finally:
        store.close()


# --- the tests ------------------------------------------------------------------------------
def test_each_role_signs_in(site, live, browser):
    for role, badge in (("admin", "administrator"), ("dsl", "DSL"), ("slt", "senior leader")):
        browser.delete_all_cookies()
        sign_in(browser, live, site.logins[role])
        assert browser.current_url.endswith("/today"), role
        assert by_css(browser, "h1").text == "Today"
        assert badge in by_css(browser, "header .role").text
        click_and_wait(browser, by_css(browser, "header form button"))  # sign out
        assert "/sign-in" in browser.current_url


def test_an_administrator_acknowledges_an_item(site, live, browser):
    item = rows(site, "SELECT id FROM items WHERE comment_id = 'q1'")[0]["id"]
    sign_in(browser, live, site.logins["admin"])
    link = next(a for a in all_css(browser, "ol.cards a") if QUESTION in a.text)
    click_and_wait(browser, link)
    assert browser.current_url.endswith(f"/items/{item}")
    click_and_wait(browser, by_css(browser, f"form[action='/items/{item}/acknowledge'] button"))
    assert "Acknowledged" in by_css(browser, ".flash").text
    acknowledged = rows(site, "SELECT acknowledged_by FROM items WHERE id = ?", [item])
    assert acknowledged[0]["acknowledged_by"] == site.settings.administrators[0].name


def test_an_administrator_restores_a_hidden_comment_and_the_platform_shows_it(site, live, browser):
    assert site.platform().comment("h1").hidden
    sign_in(browser, live, site.logins["admin"], then="/hidden")
    click_and_wait(
        browser, next(a for a in all_css(browser, "ol.cards a") if HARMLESS_HIDDEN in a.text)
    )
    by_css(browser, "#reason").send_keys("A parent letting off steam; not aimed at anyone")
    click_and_wait(browser, by_css(browser, "button[name=sure][value=yes]"))
    assert "Done on the platform" in by_css(browser, ".flash").text
    assert not site.platform().comment("h1").hidden  # the sandbox platform shows it again
    assert "Put back on the platform by" in text(browser)


def test_the_dsl_refers_an_escalation(site, live, browser):
    from selenium.webdriver.support.ui import Select

    escalation = rows(site, "SELECT id FROM escalations WHERE comment_id = 'e1'")[0]["id"]
    sign_in(browser, live, site.logins["dsl"], then="/escalations")
    assert DISCLOSURE not in text(browser)  # the queue has no words
    click_and_wait(browser, by_css(browser, f"a[href='/escalations/{escalation}']"))
    assert DISCLOSURE in by_css(browser, "blockquote.words").text
    click_and_wait(
        browser, by_css(browser, f"form[action='/escalations/{escalation}/acknowledge'] button")
    )
    Select(by_css(browser, "#route")).select_by_visible_text("CEOP")
    by_css(browser, "#reference").send_keys("CEOP-2026-0042")
    click_and_wait(
        browser, by_css(browser, f"form[action='/escalations/{escalation}/refer'] button")
    )
    assert "Referral to CEOP recorded" in by_css(browser, ".flash").text
    row = rows(site, "SELECT status, reference FROM escalations WHERE id = ?", [escalation])[0]
    assert row == {"status": "referred", "reference": "CEOP: CEOP-2026-0042"}
    viewed = rows(site, "SELECT actor FROM audit WHERE event = 'escalation.viewed'")
    assert {v["actor"] for v in viewed} == {site.settings.dsl.name} and len(viewed) >= 3


def test_slt_gets_403_on_an_escalation_and_sees_no_comment_text_anywhere(site, live, browser):
    escalation = rows(site, "SELECT id FROM escalations WHERE comment_id = 'e1'")[0]["id"]
    sign_in(browser, live, site.logins["slt"])
    browser.get(f"{live.url}/escalations/{escalation}")
    assert "Not for your role" in text(browser) and DISCLOSURE not in browser.page_source
    cookies = {c["name"]: c["value"] for c in browser.get_cookies()}
    answer = httpx.get(f"{live.url}/escalations/{escalation}", cookies=cookies)
    assert answer.status_code == 403 and DISCLOSURE not in answer.text
    browser.get(f"{live.url}/today")
    pages = [a.get_attribute("href") for a in all_css(browser, "nav.menu a")] + [
        f"{live.url}/account"
    ]
    words = [HARMLESS_HIDDEN, DISCLOSURE, QUESTION, "tw@ts", "mum1", "pupil7", EVIL_AUTHOR]
    for page in pages:
        browser.get(page)
        leaked = [w for w in words if w in browser.page_source]
        assert not leaked, (page, leaked)
    assert "/escalations" not in " ".join(pages) and "/hidden" not in " ".join(pages)


def test_a_form_without_its_csrf_token_is_refused(site, live, browser):
    item = rows(site, "SELECT id FROM items WHERE comment_id = 'q1'")[0]["id"]
    sign_in(browser, live, site.logins["admin"], then=f"/items/{item}")
    browser.execute_script(  # what a forged form from another page would lack
        "document.querySelectorAll('input[name=csrf]').forEach(e => e.remove())"
    )
    click_and_wait(browser, by_css(browser, f"form[action='/items/{item}/acknowledge'] button"))
    assert "Form refused" in by_css(browser, "h1").text
    assert (
        rows(site, "SELECT acknowledged_at FROM items WHERE id = ?", [item])[0]["acknowledged_at"]
        is None
    )


def test_xss_payloads_stay_text_in_the_browser(site, live, browser):
    from selenium.common.exceptions import NoAlertPresentException

    sign_in(browser, live, site.logins["dsl"], then="/hidden")
    decisions = [r["id"] for r in rows(site, "SELECT id FROM decisions WHERE action != 'allow'")]
    shown = ""
    for path in ["/hidden", "/today", *[f"/hidden/{d}" for d in decisions]]:
        browser.get(f"{live.url}{path}")
        with pytest.raises(NoAlertPresentException):
            browser.switch_to.alert.text  # noqa: B018
        assert not all_css(browser, "script, iframe, svg, img, style, [onerror], [onload]")
        assert by_css(browser, "body").is_displayed()  # the <style> payload hid nothing
        shown += text(browser)
    for payload in XSS:
        assert payload.split(">")[0] in shown, payload


# --- screenshots -------------------------------------------------------------------------------
def screenshot_pages(site) -> dict[str, list[str]]:
    store = site.store()
    item = store.rows("SELECT id FROM items WHERE kind != 'escalation' ORDER BY id LIMIT 1")
    hidden = store.rows(
        "SELECT d.id FROM decisions d JOIN actions a ON a.decision_id = d.id AND a.kind = 'hide' "
        "WHERE d.action = 'hide' AND a.status = 'done' ORDER BY d.id LIMIT 1"
    )
    escalation = store.rows("SELECT id FROM escalations ORDER BY urgent DESC, id LIMIT 1")
    store.close()
    common = ["/today", "/accounts", "/leave", "/reports", "/account"]
    words = ["/hidden"]
    words += [f"/items/{item[0]['id']}"] if item else []
    words += [f"/hidden/{hidden[0]['id']}"] if hidden else []
    dsl = ["/escalations", "/bans"] + (
        [f"/escalations/{escalation[0]['id']}"] if escalation else []
    )
    return {"admin": common + words, "dsl": common + words + dsl, "slt": common}


def take_screenshots(site, url: str, folder: Path, password: str = PASSWORD) -> list[Path]:
    """Every page each role sees, full length, at phone and desktop widths."""
    folder.mkdir(parents=True, exist_ok=True)
    taken = []
    for width, height in (PHONE, DESKTOP):
        for role, paths in screenshot_pages(site).items():
            driver = chrome((width, height))
            try:
                driver.get(f"{url}/sign-in")
                if role == "admin":
                    name = f"sign-in-{width}.png"
                    driver.save_screenshot(str(folder / name))
                    taken.append(folder / name)
                by_css(driver, "#login").send_keys(site.logins[role])
                by_css(driver, "#password").send_keys(password)
                click_and_wait(driver, by_css(driver, "form button[type=submit]"))
                for path in paths:
                    driver.get(f"{url}{path}")
                    full = driver.execute_script("return document.documentElement.scrollHeight")
                    emulate(driver, width, min(max(height, full), 6000))
                    name = f"{role}{path.replace('/', '-')}-{width}.png"
                    driver.save_screenshot(str(folder / name))
                    taken.append(folder / name)
                    emulate(driver, width, height)
            finally:
                quit_browser(driver)
    return taken


def test_screenshots_of_every_page_at_phone_and_desktop_width(site, live):
    taken = take_screenshots(site, live.url, SHOTS)
    assert len(taken) >= 2 * (5 + 8 + 11)
    assert all(p.stat().st_size > 5000 for p in taken)
