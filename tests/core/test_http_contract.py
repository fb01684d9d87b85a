"""Cross-cutting HTTP behaviour: request ids, unknown paths and methods, health, logging, rate limits."""

from __future__ import annotations

import httpx
from structlog.testing import capture_logs

from app.settings import get_settings
from tests.fixtures.factories import Factory


async def test_unknown_path_and_method(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    missing = await client.get("/api/v1/nothing-here", headers=tenant.headers())
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "route_not_found")
    wrong = await client.put("/api/v1/branches", headers=tenant.headers())
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (405, "method_not_allowed")


async def test_request_id_is_echoed_or_made(client: httpx.AsyncClient) -> None:
    echoed = await client.get("/healthz", headers={"X-Request-Id": "client.id-1"})
    assert echoed.headers["x-request-id"] == "client.id-1"
    replaced = await client.get("/healthz", headers={"X-Request-Id": "bad id with spaces"})
    assert replaced.headers["x-request-id"].startswith("req_")
    error = await client.get("/api/v1/me", headers={"X-Request-Id": "abc"})
    assert error.json()["error"]["requestId"] == "abc"


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "broker": "ok"}


async def test_log_line_per_request_without_the_token(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    with capture_logs() as logs:
        await client.get("/api/v1/me", headers=tenant.headers("read", **{"X-Request-Id": "trace-me"}))
    line = next(entry for entry in logs if entry.get("event") == "request")
    assert line["request_id"] == "trace-me"
    assert line["company_id"] == str(tenant.id)
    assert line["status"] == 200 and line["method"] == "GET" and line["path"] == "/api/v1/me"
    assert line["token_id"] and "duration_ms" in line
    assert tenant.read_token not in repr(logs)


async def test_rate_limit_headers_and_429(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    ok = await client.get("/api/v1/me", headers=tenant.headers("read"))
    assert int(ok.headers["ratelimit-limit"]) == get_settings().rate_limit_burst
    assert int(ok.headers["ratelimit-remaining"]) == get_settings().rate_limit_burst - 1
    settings = get_settings()
    original = (settings.rate_limit_per_second, settings.rate_limit_burst)
    settings.rate_limit_per_second, settings.rate_limit_burst = 0.5, 3
    try:
        fresh = await factory.tenant()
        statuses = [(await client.get("/api/v1/me", headers=fresh.headers("read"))) for _ in range(4)]
    finally:
        settings.rate_limit_per_second, settings.rate_limit_burst = original
    assert [r.status_code for r in statuses] == [200, 200, 200, 429]
    limited = statuses[-1]
    assert limited.json()["error"]["code"] == "rate_limited"
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.headers["ratelimit-remaining"] == "0"


async def test_internal_errors_do_not_leak(
    client: httpx.AsyncClient, factory: Factory, monkeypatch: object
) -> None:
    from app.branches.service import branch_service

    async def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("SELECT secret FROM pg_shadow at /srv/app.py line 3")

    tenant = await factory.tenant()
    monkeypatch.setattr(branch_service, "list", explode)  # type: ignore[attr-defined]
    response = await client.get("/api/v1/branches", headers=tenant.headers())
    assert response.status_code == 500
    body = response.json()
    assert body["error"]["code"] == "internal_error"
    assert "SELECT" not in response.text and "pg_shadow" not in response.text and ".py" not in response.text


async def test_swagger_ui_is_served_locally(client: httpx.AsyncClient) -> None:
    page = await client.get("/swagger")
    assert page.status_code == 200
    assert "/swagger/assets/swagger-ui-bundle.js" in page.text and "/openapi.json" in page.text
    assert "http" not in page.text.split("<body>")[1].split("/openapi.json")[0].replace("http-equiv", "")
    bundle = await client.get("/swagger/assets/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and len(bundle.content) > 100_000
