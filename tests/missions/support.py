"""Missions on real routes for the missions tests (POST /routes puts them there)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.fixtures.factories import Factory, Tenant


async def scheduled(factory: Factory, tenant: Tenant, **fields: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A mission on a new route of its branch and day: (mission as created, with its code; route)."""
    branch = await factory.branch(tenant)
    created = await factory.mission(tenant, branch["id"], **fields)
    route = await factory.route(tenant, branch["id"], missionIds=[created["id"]])
    return created, route


async def get(client: httpx.AsyncClient, tenant: Tenant, mission_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/missions/{mission_id}", headers=tenant.headers("read"))
    assert response.status_code == 200, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


async def patch(client: httpx.AsyncClient, tenant: Tenant, mission_id: str, **fields: Any) -> httpx.Response:
    return await client.patch(f"/api/v1/missions/{mission_id}", json=fields, headers=tenant.headers())
