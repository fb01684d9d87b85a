"""Scheduled-order credits: charged once, the first time a mission is scheduled, never overspent."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.fixtures.factories import Factory
from tests.routes.support import (
    HAS_REASSIGN,
    changes,
    create_route,
    credits,
    ledger,
    mission,
    mission_row,
    move,
)


async def test_first_scheduling_charges_and_moving_does_not(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.tenant(credits=10)
    branch = await factory.branch(tenant)
    a, b = [(await mission(factory, tenant, branch["id"]))["id"] for _ in range(2)]
    first = (await create_route(client, tenant, {"branchId": branch["id"], "missionIds": [a, b]})).json()[
        "data"
    ]
    assert await credits(client, tenant) == 8
    entries = await ledger(tenant)
    consumed = [e for e in entries if e.kind == "consume"]
    assert sorted(str(e.mission_id) for e in consumed) == sorted([a, b])
    assert [e.amount for e in consumed] == [-1, -1] and consumed[-1].balance_after == 8
    # Deleting the route takes the missions off without a refund; a new route does not charge again.
    assert (await client.delete(f"/api/v1/routes/{first['id']}", headers=tenant.headers())).status_code == 204
    assert await credits(client, tenant) == 8
    second = (await create_route(client, tenant, {"branchId": branch["id"], "missionIds": [a]})).json()[
        "data"
    ]
    third = await factory.route(tenant, branch["id"])
    added = await client.put(
        f"/api/v1/routes/{third['id']}/add-missions", json={"missionIds": [b]}, headers=tenant.headers()
    )
    assert added.status_code == 200
    if HAS_REASSIGN:
        moved = await client.post(
            f"/api/v1/missions/{a}/reassign", json={"routeId": third["id"]}, headers=tenant.headers()
        )
        assert moved.status_code == 200, moved.text
        assert str((await mission_row(tenant, a)).route_id) == third["id"]
    assert second["id"] and await credits(client, tenant) == 8
    assert len([e for e in await ledger(tenant) if e.kind == "consume"]) == 2


async def test_cancel_before_start_refunds(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant(credits=5)
    branch = await factory.branch(tenant)
    a, b = [(await mission(factory, tenant, branch["id"]))["id"] for _ in range(2)]
    route = (await create_route(client, tenant, {"branchId": branch["id"], "missionIds": [a, b]})).json()[
        "data"
    ]
    assert await credits(client, tenant) == 3
    await move(client, tenant, a, "cancelled")
    await move(client, tenant, b, "in_progress")
    await move(client, tenant, b, "cancelled")  # started: no refund
    assert await credits(client, tenant) == 4
    refunds = [e for e in await ledger(tenant) if e.kind == "refund"]
    assert [(str(e.mission_id), e.amount) for e in refunds] == [(a, 1)]
    stops = (await client.get(f"/api/v1/routes/{route['id']}", headers=tenant.headers("read"))).json()["data"]
    assert stops["stops"] == []


async def test_402_changes_nothing(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant(credits=1)
    branch = await factory.branch(tenant)
    a, b = [(await mission(factory, tenant, branch["id"]))["id"] for _ in range(2)]
    before = await changes(tenant.id)
    response = await create_route(client, tenant, {"branchId": branch["id"], "missionIds": [a, b]})
    assert response.status_code == 402, response.text
    assert response.json()["error"]["code"] == "insufficient_credits"
    assert response.json()["error"]["details"] == {"required": 2, "remaining": 1}
    listed = await client.get("/api/v1/routes", headers=tenant.headers("read"))
    assert listed.json()["data"] == []  # not even the route
    route = await factory.route(tenant, branch["id"])
    refused = await client.put(
        f"/api/v1/routes/{route['id']}/add-missions", json={"missionIds": [a, b]}, headers=tenant.headers()
    )
    assert refused.status_code == 402
    assert (await mission_row(tenant, a)).status == "unassigned"
    assert (await mission_row(tenant, b)).route_id is None
    assert await credits(client, tenant) == 1
    assert [e.kind for e in await ledger(tenant)] == ["grant"]
    assert [e.type for e in await changes(tenant.id)] == [*(e.type for e in before), "route.created"]


async def test_replayed_add_missions_charges_once(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant(credits=3)
    branch = await factory.branch(tenant)
    made = (await mission(factory, tenant, branch["id"]))["id"]
    route = await factory.route(tenant, branch["id"])
    headers = tenant.headers(**{"Idempotency-Key": "add-1"})
    url = f"/api/v1/routes/{route['id']}/add-missions"
    first = await client.put(url, json={"missionIds": [made]}, headers=headers)
    second = await client.put(url, json={"missionIds": [made]}, headers=headers)
    assert first.status_code == second.status_code == 200 and first.content == second.content
    assert await credits(client, tenant) == 2


@pytest.mark.parametrize("one_route", [True, False], ids=["same-route", "separate-routes"])
async def test_concurrent_add_missions_cannot_overspend(
    client: httpx.AsyncClient, factory: Factory, one_route: bool
) -> None:
    tenant = await factory.tenant(credits=5)
    branch = await factory.branch(tenant)
    missions = [(await mission(factory, tenant, branch["id"]))["id"] for _ in range(10)]
    shared = await factory.route(tenant, branch["id"]) if one_route else None
    routes = [shared or await factory.route(tenant, branch["id"]) for _ in missions]
    responses = await asyncio.gather(*[
        client.put(f"/api/v1/routes/{route['id']}/add-missions", json={"missionIds": [m]},
                   headers=tenant.headers())
        for route, m in zip(routes, missions, strict=True)
    ])  # fmt: skip
    assert sorted(r.status_code for r in responses) == [200] * 5 + [402] * 5
    assert await credits(client, tenant) == 0
    assert len([e for e in await ledger(tenant) if e.kind == "consume"]) == 5
    scheduled = [m for m in missions if (await mission_row(tenant, m)).status == "scheduled"]
    assert len(scheduled) == 5
    events = [e.type for e in await changes(tenant.id)]
    assert events.count("mission.status_changed") == 5 and events.count("route.reordered") == 5
