"""How to make a record for each resource path, so contract tests can run against every endpoint."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from tests.fixtures import days
from tests.fixtures.factories import Factory, Tenant

Maker = Callable[[Factory, Tenant], Awaitable[dict[str, Any]]]


async def _api_token(factory: Factory, tenant: Tenant) -> dict[str, Any]:
    return {"id": str(tenant.write_token_id)}


async def _webhook_endpoint(factory: Factory, tenant: Tenant) -> dict[str, Any]:
    response = await factory.client.post(
        "/companies/me/webhook-endpoints",
        json={"url": "http://127.0.0.1:9/hook"},
        headers=tenant.headers("admin"),
    )
    assert response.status_code == 201, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


async def _optimization_job(factory: Factory, tenant: Tenant) -> dict[str, Any]:
    """A queued job (no broker in the test process: it stays queued, so it can still be cancelled)."""
    branch = await factory.branch(tenant)
    await factory.mission(tenant, branch["id"])
    response = await factory.client.post(
        "/api/v1/routes/auto-optimize",
        json={"branchId": branch["id"], "date": days.day(), "timeLimitSeconds": 1},
        headers=tenant.headers(Prefer="respond-async"),
    )
    assert response.status_code == 202, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


async def _event(factory: Factory, tenant: Tenant) -> dict[str, Any]:
    """The event of a change (a vehicle created), as the events feed shows it."""
    await factory.vehicle(tenant)
    response = await factory.client.get("/api/v1/events", headers=tenant.headers("read"))
    return response.json()["data"][-1]  # type: ignore[no-any-return]


MAKERS: dict[str, Maker] = {
    "branches": lambda f, t: f.branch(t),
    "depots": lambda f, t: f.depot(t),
    "api-tokens": _api_token,
    "vehicles": lambda f, t: f.vehicle(t),
    "drivers": lambda f, t: f.driver(t),
    "mobile-users": lambda f, t: f.mobile_user(t),
    "vehicle-driver-assignments": lambda f, t: f.assignment(t),
    "missions": lambda f, t: f.mission(t),
    "routes": lambda f, t: f.route(t),
    "webhook-endpoints": _webhook_endpoint,
    "optimization-jobs": _optimization_job,
    "events": _event,
}


def resource_of(path: str) -> str:
    return path.strip("/").split("/")[0]
