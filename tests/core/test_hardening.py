"""Smaller holes closed: CSV cells a spreadsheet would run, security headers, a 405 that says what
is allowed, a Redis stall that never hangs a request."""

from __future__ import annotations

import csv
import io

import httpx

from app.core.ratelimit import RateLimiter
from tests.fixtures.factories import Factory


async def test_csv_export_neutralises_formulas(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    branch = await factory.branch(tenant)
    names = ("=HYPERLINK(1)", "+cmd|' /C calc'!A0", "-2+3+SUM(A1)", "@SUM(A1)", "+90 555 000 00 00", "Plain")
    for name in names:
        await factory.mission(tenant, branch["id"], customerName=name)
    response = await client.get(
        "/api/v1/missions/export", params={"format": "csv"}, headers=tenant.headers("read")
    )
    rows = list(csv.DictReader(io.StringIO(response.text)))
    names = sorted(row["customerName"] for row in rows)
    assert names == sorted(["'=HYPERLINK(1)", "'+cmd|' /C calc'!A0", "'-2+3+SUM(A1)", "'@SUM(A1)",
                            "+90 555 000 00 00", "Plain"])  # fmt: skip


async def test_security_headers_on_every_answer(client: httpx.AsyncClient) -> None:
    for response in (await client.get("/healthz"), await client.get("/api/v1/nowhere")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"


async def test_405_says_what_is_allowed(client: httpx.AsyncClient) -> None:
    response = await client.delete("/healthz")
    assert response.status_code == 405 and response.json()["error"]["code"] == "method_not_allowed"
    assert "GET" in response.headers["allow"]


async def test_the_rate_limiter_fails_open_when_redis_is_away() -> None:
    # Nothing listens there: the limiter gives up within its timeout and lets the request through.
    limiter = RateLimiter("redis://127.0.0.1:9/0")
    try:
        verdict = await limiter.hit("token:abc")
    finally:
        await limiter.close()
    assert verdict.allowed


async def test_headers_on_both_surfaces(client: httpx.AsyncClient) -> None:
    for response in (
        await client.get("/api/v1/me"),
        await client.post("/graphql", json={"query": "{ branches { pageInfo { hasNextPage } } }"}),
    ):
        assert response.status_code == 401 and response.headers["x-content-type-options"] == "nosniff"
    # A GET without a document is the caller's mistake, answered as such.
    missing = await client.get("/graphql", headers={"Accept": "application/json"})
    assert missing.status_code == 422 and missing.json()["error"]["details"][0]["field"] == "query"
