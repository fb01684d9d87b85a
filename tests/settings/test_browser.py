"""The settings pages driven end to end in Debian's headless chromium, against the real API server
and worker on the test PostgreSQL and Redis: sign in, a token made and used and deleted, a webhook
endpoint receiving a verified test event and its redelivery, sign out; other roles are refused.

`SETTINGS_SCREENSHOTS=docs/screenshots` saves each page at 1280 and 360 px wide while it runs."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures import days
from tests.fixtures.factories import Factory
from tests.settings.support import web_user
from tests.webhooks.conftest import Receiver
from tests.webhooks.support import standard_verify

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (the dev extra)")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="no browser: install Debian's chromium and chromium-driver (.ci/run does)",
)
# Every blocked load or inline style/script, recorded before the page's own scripts run.
RECORD_VIOLATIONS = """
window.violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.violations.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile);
});
"""
WIDTHS = (1280, 360)
# What sticks out past the viewport's right edge, to name it when a page is too wide.
OVERFLOWING = """
return [...document.querySelectorAll("body *")]
  .filter((e) => e.getBoundingClientRect().right > arguments[0])
  .map((e) => e.tagName + "." + e.className + "#" + e.id).slice(0, 10);
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(argument)
    options.add_argument("--window-size=1280,900")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_VIOLATIONS})
    try:
        yield driver
    finally:
        driver.quit()


def _wait(browser: Any, condition: Any, timeout: float = 20) -> Any:
    return WebDriverWait(browser, timeout, poll_frequency=0.1).until(lambda _: condition())


def _text(browser: Any) -> str:
    # Read by script: an element handle would go stale if the page is replaced meanwhile.
    return str(browser.execute_script("return document.body ? document.body.innerText : ''"))


def _fill(browser: Any, field_id: str, value: str) -> None:
    field = browser.find_element(By.ID, field_id)
    field.clear()
    field.send_keys(value)


def _submit(browser: Any, label: str) -> None:
    """Press the button with this label, and wait for the page it leads to."""
    button = browser.find_element(By.XPATH, f"//button[normalize-space(.)={label!r}]")
    button.click()
    _wait(browser, lambda: not _is_attached(button))


def _is_attached(element: Any) -> bool:
    try:
        element.is_enabled()
        return True
    except Exception:
        return False


def _check_layouts(browser: Any, name: str) -> None:
    """The page fits a 360 px phone without sideways scrolling and breaks no CSP rule; with
    SETTINGS_SCREENSHOTS set, it is saved at both widths (the whole page, not just the viewport)."""
    target = os.environ.get("SETTINGS_SCREENSHOTS")
    for width in WIDTHS:
        metrics = {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600}
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        overflow = browser.execute_script("return document.documentElement.scrollWidth")
        wide = browser.execute_script(OVERFLOWING, width)
        assert overflow <= width, f"{name} is {overflow} px wide at {width} px: {wide}"
        if target:
            shot = browser.execute_cdp_cmd(
                "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}
            )
            Path(target).mkdir(parents=True, exist_ok=True)
            (Path(target) / f"settings-{name}-{width}.png").write_bytes(base64.b64decode(shot["data"]))
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert browser.execute_script("return window.violations") == []


def _sign_in(browser: Any, pages_server: str, email: str, password: str) -> None:
    browser.get(pages_server + "/settings")
    _wait(browser, lambda: browser.current_url.startswith(pages_server + "/settings/sign-in"))
    _fill(browser, "email", email)
    _fill(browser, "password", password)
    _submit(browser, "Sign in")


def _endpoint_rows(browser: Any) -> list[dict[str, str]]:
    return list(
        browser.execute_script("""
        return [...document.querySelectorAll('#deliveries tbody tr')].map(row => ({
          id: row.dataset.deliveryId, status: row.dataset.status, type: row.dataset.eventType,
          attempt: row.cells[2].textContent.trim(), http: row.querySelector('.http').textContent.trim() }));
    """)
    )


def _rows_when(browser: Any, condition: Any, timeout: float = 30) -> list[dict[str, str]]:
    """The delivery history, reloaded until `condition(rows)` holds."""
    deadline = time.monotonic() + timeout
    while True:
        rows = _endpoint_rows(browser)
        if condition(rows) or time.monotonic() > deadline:
            return rows
        time.sleep(0.5)
        browser.refresh()


def _run_python_snippet(snippet: str, secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The page's "verify the signature" Python, run as a receiver would run it."""
    namespace: dict[str, Any] = {}
    previous = os.environ.get("ROUPTIMIZE_WEBHOOK_SECRET")
    os.environ["ROUPTIMIZE_WEBHOOK_SECRET"] = secret
    try:
        exec(compile(snippet, "verify.py", "exec"), namespace)  # noqa: S102 (our own page's code)
        return bool(namespace["verify"](headers, body))
    finally:
        if previous is None:
            del os.environ["ROUPTIMIZE_WEBHOOK_SECRET"]
        else:
            os.environ["ROUPTIMIZE_WEBHOOK_SECRET"] = previous


def _run_node_snippet(snippet: str, secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The page's Node.js snippet, run by node on the delivery (when node is installed)."""
    call = (
        "\nconst input = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "\nprocess.stdout.write(String(verify(input.headers, Buffer.from(input.body, 'base64'))));"
    )
    delivery = json.dumps({"headers": headers, "body": base64.b64encode(body).decode()})
    ran = subprocess.run(
        [NODE or "node", "-e", snippet + call], input=delivery, capture_output=True, text=True, timeout=60,
        env={**os.environ, "ROUPTIMIZE_WEBHOOK_SECRET": secret}, check=True,
    )  # fmt: skip
    return ran.stdout == "true"


async def test_an_admin_manages_tokens_and_webhooks_in_the_browser(
    factory: Factory,
    pages_server: str,
    worker: Any,
    receiver: Receiver,
    browser: Any,
) -> None:
    tenant = await factory.tenant(credits=150)
    browser.delete_all_cookies()
    browser.get(pages_server + "/settings/sign-in")
    _check_layouts(browser, "sign-in")
    _sign_in(browser, pages_server, tenant.admin_email, tenant.admin_password)
    assert browser.current_url == pages_server + "/settings/api", _text(browser)
    assert browser.find_element(By.ID, "credits").text == "150"
    assert pages_server + "/api/v1/me" in browser.find_element(By.ID, "curl").text
    session = browser.get_cookie("rouptimize_session")
    assert session["httpOnly"] and session["sameSite"] == "Lax" and session["secure"]
    assert browser.execute_script("return document.cookie") == ""  # scripts never see the session
    _check_layouts(browser, "api")

    # A refused submit: the error sits beside its field and everything typed stays.
    _fill(browser, "name", "ERP sync")
    browser.find_element(By.CSS_SELECTOR, 'input[name="preset"][value="full_access"]').click()
    browser.execute_script("document.getElementById('expiresOn').value = arguments[0]", days.day(-3))
    _submit(browser, "Create token")
    assert "future" in browser.find_element(By.ID, "expiresAt-error").text
    assert browser.find_element(By.ID, "expiresOn").get_attribute("aria-invalid") == "true"
    assert browser.find_element(By.ID, "name").get_attribute("value") == "ERP sync"
    assert browser.find_element(By.CSS_SELECTOR, 'input[value="full_access"]').is_selected()

    browser.execute_script("document.getElementById('expiresOn').value = arguments[0]", days.day(30))
    _submit(browser, "Create token")
    token = browser.find_element(By.ID, "new-token").text
    assert token.startswith("rpt_") and "shown only once" in _text(browser)
    browser.find_element(By.CSS_SELECTOR, '[data-copy="new-token"]').click()
    _wait(browser, lambda: "Cop" in browser.find_element(By.CSS_SELECTOR, "[data-copy-status]").text)
    _check_layouts(browser, "api-token-created")
    async with httpx.AsyncClient(base_url=pages_server) as http:
        me = await http.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["data"]["token"]["name"] == "ERP sync", me.text

    browser.get(pages_server + "/settings/api")
    assert token not in browser.page_source  # shown once
    row = browser.find_element(By.XPATH, "//table[@id='tokens']//tr[th[normalize-space(.)='ERP sync']]")
    assert token[:12] in row.text
    row.find_element(By.CSS_SELECTOR, "a.danger-link").click()
    _wait(browser, lambda: "Delete the token" in _text(browser))
    _submit(browser, "Delete token")
    assert "The token is deleted" in _text(browser) and "ERP sync" not in _text(browser)
    async with httpx.AsyncClient(base_url=pages_server) as http:
        gone = await http.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert gone.status_code == 401

    # Webhooks: a refused endpoint keeps what was typed, then one pointing at the receiver.
    browser.find_element(By.LINK_TEXT, "Webhooks").click()
    _wait(browser, lambda: browser.current_url.endswith("/settings/webhooks"))
    _fill(browser, "url", "not a url")
    _fill(browser, "description", "Order system")
    _submit(browser, "Add endpoint")
    assert browser.find_element(By.ID, "url-error").text
    assert browser.find_element(By.ID, "description").get_attribute("value") == "Order system"
    _fill(browser, "url", receiver.url)
    _submit(browser, "Add endpoint")
    secret = browser.find_element(By.ID, "new-secret").text
    assert secret.startswith("whsec_") and "shown only once" in _text(browser)
    _check_layouts(browser, "webhook-endpoint-created")
    endpoint_page = browser.current_url
    browser.find_element(By.LINK_TEXT, "Webhooks").click()
    _wait(browser, lambda: receiver.url in _text(browser))
    assert "Order system" in _text(browser) and "all event types" in _text(browser)
    _check_layouts(browser, "webhooks")

    browser.find_element(By.LINK_TEXT, receiver.url).click()
    _wait(browser, lambda: "Delivery history" in _text(browser))
    assert secret not in browser.page_source
    _submit(browser, "Send a test event")
    assert "The test event was sent" in _text(browser)
    rows = _endpoint_rows(browser)
    assert [(r["type"], r["status"], r["http"]) for r in rows] == [
        ("webhook_endpoint.test", "succeeded", "200")
    ]
    (delivered,) = receiver.wait_for(1)
    assert standard_verify(secret, delivered.body, delivered.headers)["type"] == "webhook_endpoint.test"
    snippet = browser.find_element(By.ID, "verify-python").text
    assert _run_python_snippet(snippet, secret, delivered.headers, delivered.body)
    assert not _run_python_snippet(snippet, secret, delivered.headers, delivered.body + b" ")
    if NODE:
        snippet = browser.find_element(By.ID, "verify-node").text
        assert _run_node_snippet(snippet, secret, delivered.headers, delivered.body)
        assert not _run_node_snippet(snippet, secret, delivered.headers, delivered.body + b" ")

    browser.find_element(
        By.XPATH, "//tr[@data-delivery-id]//button[starts-with(normalize-space(.), 'Redeliver')]"
    ).click()
    _wait(browser, lambda: "planned for delivery again" in _text(browser))
    rows = _rows_when(browser, lambda rows: len(rows) == 2 and rows[0]["status"] == "succeeded")
    assert [(r["attempt"], r["status"], r["http"]) for r in rows] == [
        ("2", "succeeded", "200"),
        ("1", "succeeded", "200"),
    ]
    first, again = receiver.wait_for(2)
    assert again.headers["webhook-id"] == first.headers["webhook-id"]  # the same event, once more
    assert standard_verify(secret, again.body, again.headers)["id"] == first.headers["webhook-id"]
    _check_layouts(browser, "webhook-endpoint")

    browser.find_element(By.CSS_SELECTOR, "#filter-status option[value='FAILED']").click()
    _submit(browser, "Filter")
    assert _endpoint_rows(browser) == [] and "No attempts match" in _text(browser)
    assert browser.current_url.startswith(endpoint_page)

    _submit(browser, "Sign out")
    assert "You are signed out" in _text(browser)
    assert browser.get_cookie("rouptimize_session") is None
    browser.get(pages_server + "/settings/webhooks")
    _wait(browser, lambda: "/settings/sign-in" in browser.current_url)
    loaded = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert all(url.startswith(pages_server + "/settings/assets/") for url in loaded), loaded


async def test_a_signed_in_user_who_is_not_an_admin_cannot_reach_the_pages(
    factory: Factory, pages_server: str, browser: Any
) -> None:
    tenant = await factory.tenant()
    email = await web_user(tenant, "dispatcher")
    browser.delete_all_cookies()
    _sign_in(browser, pages_server, email, "s3cret-password")
    assert browser.get_cookie("rouptimize_session") is not None  # signed in, but...
    for page in ("/settings/api", "/settings/webhooks"):
        browser.get(pages_server + page)
        assert "Only company admins can open Settings" in _text(browser)
        assert not browser.find_elements(By.ID, "tokens") and not browser.find_elements(By.ID, "url")
    _submit(browser, "Sign out")
    assert "You are signed out" in _text(browser)
