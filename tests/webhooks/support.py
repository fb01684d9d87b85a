"""Endpoints, events and deliveries for webhook tests, through the real endpoints."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any
from unittest.mock import patch

import httpx
import standardwebhooks.webhooks
from standardwebhooks import Webhook

from app.core import clock
from tests.fixtures.factories import Factory, Tenant

ENDPOINTS = "/companies/me/webhook-endpoints"


async def endpoint(client: httpx.AsyncClient, tenant: Tenant, url: str, **fields: Any) -> dict[str, Any]:
    response = await client.post(ENDPOINTS, json={"url": url, **fields}, headers=tenant.headers("admin"))
    assert response.status_code == 201, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


async def vehicle(
    client: httpx.AsyncClient, factory: Factory, tenant: Tenant, branch_id: str | None = None
) -> Any:
    """A change that emits `vehicle.created`: the vehicle."""
    branch_id = branch_id or (await factory.branch(tenant))["id"]
    response = await client.post(
        "/api/v1/vehicles",
        json={"name": "Van", "type": "van", "branchId": branch_id},
        headers=tenant.headers(),
    )
    assert response.status_code == 201, response.text
    return response.json()["data"]


async def attempts(
    client: httpx.AsyncClient, tenant: Tenant, endpoint_id: str, count: int = 0, **params: Any
) -> list[dict[str, Any]]:
    """The endpoint's attempts, newest first, once there are at least `count` (or after 15 s)."""
    rows: list[dict[str, Any]] = []
    for _ in range(150):
        response = await client.get(
            f"{ENDPOINTS}/{endpoint_id}/deliveries", params=params, headers=tenant.headers("admin")
        )
        assert response.status_code == 200, response.text
        rows = response.json()["data"]
        if len(rows) >= count:
            return rows
        await asyncio.sleep(0.1)
    return rows


class _ClockNow(dt.datetime):
    @classmethod
    def now(cls, tz: dt.tzinfo | None = None) -> Any:
        return clock.utcnow().astimezone(tz)


def standard_verify(secret: str, body: bytes, headers: dict[str, str]) -> Any:
    """What a receiver using the `standardwebhooks` package does, its clock agreeing with ours (the
    suite may run with the application's clock moved, and the package checks the timestamp)."""
    with patch.object(standardwebhooks.webhooks, "datetime", _ClockNow):
        return Webhook(secret).verify(body, headers)
