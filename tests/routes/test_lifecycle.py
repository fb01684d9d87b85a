"""A mission's whole life on a route: create -> route -> assign -> start -> deliver -> proof, with the
route following along to `completed` (announced once)."""

from __future__ import annotations

import httpx

from tests.fixtures.factories import Factory
from tests.routes.support import changes, create_route, mission, move, verify


async def test_complete_life_cycle_through_rest(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    branch = await factory.branch(tenant)
    depot = await factory.depot(tenant, branch["id"])
    driver = await factory.driver(tenant, branch["id"])
    vehicle = await factory.vehicle(tenant, branch["id"])
    a, b = [await mission(factory, tenant, branch["id"], proofRequired=True) for _ in range(2)]
    route = (await create_route(client, tenant, {
        "branchId": branch["id"], "missionIds": [a["id"], b["id"]], "startDepotId": depot["id"],
    })).json()["data"]  # fmt: skip
    url = f"/api/v1/routes/{route['id']}"

    async def status() -> str:
        return (await client.get(url, headers=tenant.headers("read"))).json()["data"]["status"]  # type: ignore[no-any-return]

    assert route["status"] == "planned"
    await client.put(f"{url}/assign-driver", json={"driverId": driver["id"]}, headers=tenant.headers())
    await client.put(f"{url}/assign-vehicle", json={"vehicleId": vehicle["id"]}, headers=tenant.headers())
    assert await status() == "assigned"
    await move(client, tenant, a["id"], "in_progress")
    assert await status() == "in_progress"
    # Taking the driver away mid-route does not send a started route back to planned.
    cleared = await client.put(f"{url}/assign-driver", json={"driverId": None}, headers=tenant.headers())
    assert cleared.json()["data"]["status"] == "in_progress"
    await client.put(f"{url}/assign-driver", json={"driverId": driver["id"]}, headers=tenant.headers())
    await move(client, tenant, a["id"], "delivered")
    await verify(client, tenant, a)
    assert await status() == "in_progress"
    await move(client, tenant, b["id"], "in_progress")
    await move(client, tenant, b["id"], "delivered")
    done = (await client.get(url, headers=tenant.headers("read"))).json()["data"]
    assert done["status"] == "completed" and done["completedAt"] is not None
    await verify(client, tenant, b)  # a proof after completion still counts
    final = (await client.get(url, headers=tenant.headers("read"))).json()["data"]
    assert final["status"] == "completed"
    assert [s["status"] for s in final["stops"]] == ["proofed", "proofed"]
    route_events = [e.type for e in await changes(tenant.id, route["id"])]
    assert route_events.count("route.completed") == 1
    assert route_events[:4] == ["route.created", "route.assigned", "route.assigned", "route.assigned"]
    # A completed route is closed to changes.
    refused = await client.put(f"{url}/assign-driver", json={"driverId": None}, headers=tenant.headers())
    assert refused.status_code == 409
    timeline = (await client.get(f"{url}/timeline", headers=tenant.headers("read"))).json()["data"]
    kinds = [e["kind"] for e in timeline["events"]]
    moments = [e["at"] for e in timeline["events"]]
    assert moments == sorted(moments)  # in time order, the route's own markers included
    assert kinds[0] == "route_started" and kinds[-1] in ("route_completed", "proof_verified")
    assert kinds.count("proof_verified") == 2 and kinds.count("delivered") == 2
    # Its driver and vehicle may now be deleted; the route keeps its record without them.
    assert (
        await client.delete(f"/api/v1/vehicles/{vehicle['id']}", headers=tenant.headers())
    ).status_code == 204
    kept = (await client.get(url, headers=tenant.headers("read"))).json()["data"]
    assert (kept["vehicleId"], kept["status"]) == (None, "completed")
