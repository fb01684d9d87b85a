"""GraphiQL renders and runs operations in a real browser (Debian's headless chromium) with only the
application's own assets, under the page's Content-Security-Policy."""

from __future__ import annotations

import asyncio
import json
import shutil
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.fixtures.factories import Factory

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (the dev extra)")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
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
EDITOR = ".graphiql-container .graphiql-query-editor"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_VIOLATIONS})
    try:
        yield driver
    finally:
        driver.quit()


def _editor(browser: Any, selector: str) -> str:
    return str(browser.execute_script(f"return document.querySelector({selector!r}).CodeMirror.getValue()"))


def _sidebar(browser: Any) -> str:
    """The text of the open plugin (documentation, explorer)."""
    return str(browser.find_element(By.CLASS_NAME, "graphiql-plugin").text)


def _set_editor(browser: Any, selector: str, text: str) -> None:
    browser.execute_script(f"document.querySelector({selector!r}).CodeMirror.setValue(arguments[0])", text)


def _wait(browser: Any, condition: Any, timeout: float = 20) -> Any:
    return WebDriverWait(browser, timeout, poll_frequency=0.1).until(lambda _: condition())


async def test_graphiql_runs_an_operation_with_a_pasted_credential(
    client: httpx.AsyncClient, factory: Factory, api_server: str, browser: Any
) -> None:
    tenant = await factory.tenant()
    browser.get(api_server + "/graphql")
    _wait(browser, lambda: browser.find_elements(By.CSS_SELECTOR, EDITOR))
    assert "Authorization" in _editor(browser, ".graphiql-query-editor .CodeMirror")

    # Without a credential the schema cannot load: the page says so rather than staying blank.
    browser.find_element(By.CSS_SELECTOR, '[aria-label="Show Documentation Explorer"]').click()
    _wait(browser, lambda: "Error fetching schema" in _sidebar(browser))

    # What a paste into the headers editor does: the editor's content changes (so does the query's).
    browser.find_element(By.CSS_SELECTOR, '[data-name="headers"]').click()
    credential = json.dumps({"Authorization": f"Bearer {tenant.read_token}"})
    _set_editor(browser, ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror", credential)
    _set_editor(browser, ".graphiql-query-editor .CodeMirror", "{ __typename }")
    browser.find_element(By.CSS_SELECTOR, ".graphiql-execute-button").click()
    _wait(browser, lambda: '"__typename": "Query"' in _editor(browser, ".result-window .CodeMirror"))

    # Subscriptions go over the WebSocket with the headers editor's credential in connection_init:
    # the resolver answers about the unknown job (a refused connection shows "Socket closed").
    subscription = f'subscription {{ optimizationJob(id: "{uuid.uuid4()}") {{ id status }} }}'
    _set_editor(browser, ".graphiql-query-editor .CodeMirror", subscription)
    # GraphiQL re-parses the editor's document after a pause in typing and picks the transport from
    # that parse: run it only once the new document is the one parsed, or it goes out over HTTP.
    await asyncio.sleep(1.5)
    browser.find_element(By.CSS_SELECTOR, ".graphiql-execute-button").click()
    _wait(browser, lambda: "optimization" in _editor(browser, ".result-window .CodeMirror").lower())
    answered = _editor(browser, ".result-window .CodeMirror")
    assert "Socket closed" not in answered and "served over WebSocket" not in answered

    browser.find_element(By.CSS_SELECTOR, '[aria-label="Re-fetch GraphQL schema"]').click()
    _wait(browser, lambda: "query: Query" in _sidebar(browser))
    browser.find_element(By.CSS_SELECTOR, '[aria-label="Show GraphiQL Explorer"]').click()
    _wait(browser, lambda: browser.find_elements(By.CLASS_NAME, "graphiql-explorer-root"))
    browser.find_element(By.CSS_SELECTOR, '[aria-label="Open settings dialog"]').click()
    _wait(browser, lambda: "Persist headers" in browser.find_element(By.TAG_NAME, "body").text)

    assert browser.execute_script("return window.violations") == []
    loaded = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert loaded and all(url.startswith(api_server + "/graphql") for url in loaded), loaded
