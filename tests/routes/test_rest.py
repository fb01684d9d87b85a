from __future__ import annotations

import asyncio
from typing import Any

import httpx

from app.routes.geometry import decode_polyline
from tests.fixtures import days
from tests.fixtures.factories import Factory, Tenant
from tests.fixtures.fleet import history
from tests.routes.support import DAY, create_route, mission, mission_row, move
from tests.routes.support import changes as events

NOWHERE = "00000000-0000-4000-8000-000000000000"


async def _setup(factory: Factory, tenant: Tenant, missions: int = 2, **fields: Any) -> tuple[str, list[str]]:
    branch = await factory.branch(tenant)
    ids = [(await mission(factory, tenant, branch["id"], **fields))["id"] for _ in range(missions)]
    return branch["id"], ids


def _types(written: list[Any]) -> list[str]:
    return [e.type for e in written]


class TestCreate:
    async def test_with_missions_depots_and_timing(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        branch = await factory.branch(tenant)
        depot = await factory.depot(tenant, branch["id"], latitude=41.0, longitude=29.0, openingTime="07:00")
        near = await mission(factory, tenant, branch["id"], latitude=41.0, longitude=29.01)
        far = await mission(factory, tenant, branch["id"], latitude=41.0, longitude=29.02)
        response = await create_route(client, tenant, {
            "branchId": branch["id"], "missionIds": [far["id"], near["id"]], "startDepotId": depot["id"],
            "endDepotId": depot["id"], "externalId": "r-1",
        })  # fmt: skip
        assert response.status_code == 201, response.text
        route = response.json()["data"]
        assert route["name"] == f"Route 1 {DAY}" and route["status"] == "planned"
        assert [s["missionId"] for s in route["stops"]] == [far["id"], near["id"]]
        assert [s["sequence"] for s in route["stops"]] == [1, 2]
        assert all(s["status"] == "scheduled" for s in route["stops"])
        # Depot opens 07:00 Istanbul (04:00Z); the far stop is ~1.6 km (x1.3 detour) away at 30 km/h.
        first = route["stops"][0]
        assert first["eta"] > days.at("07:00", zone=days.ZONE) and first["distanceFromPreviousMeters"] > 2000
        # The totals include the way back to the end depot.
        assert route["totalDistanceMeters"] > sum(s["distanceFromPreviousMeters"] for s in route["stops"])
        written = await events(tenant.id)
        assert _types(written) == ["route.created", "mission.status_changed", "mission.status_changed"]
        assert written[0].payload["data"] == route
        assert written[1].payload["data"]["previousStatus"] == "unassigned"
        assert written[1].payload["data"]["routeId"] == route["id"]
        row = await mission_row(tenant, far["id"])
        assert (row.status, row.sequence, str(row.route_id)) == ("scheduled", 1, route["id"])
        assert [h.action for h in await history(tenant.id, route["id"])] == ["created"]

    async def test_references_are_422_and_leave_nothing(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant()
        branch_id, ids = await _setup(factory, tenant, 1)
        for field in ("driverId", "vehicleId", "startDepotId", "endDepotId"):
            response = await create_route(client, tenant, {"branchId": branch_id, field: NOWHERE})
            assert response.status_code == 422, response.text
            assert response.json()["error"]["details"] == [
                {"field": field, "issue": "does not name a record of your company"}
            ]
        response = await create_route(
            client, tenant, {"branchId": branch_id, "missionIds": [ids[0], NOWHERE]}
        )
        assert response.status_code == 422
        assert response.json()["error"]["details"][0]["field"] == "missionIds[1]"
        response = await create_route(client, tenant, {"branchId": branch_id, "missionIds": [ids[0], ids[0]]})
        assert response.status_code == 422
        response = await create_route(client, tenant, {"branchId": NOWHERE})
        assert response.json()["error"]["details"][0]["field"] == "branchId"
        bad = await create_route(client, tenant, {"branchId": branch_id, "startTime": "8am", "colour": "red"})
        assert {d["field"] for d in bad.json()["error"]["details"]} == {"startTime", "colour"}
        assert await events(tenant.id) == []
        assert (await mission_row(tenant, ids[0])).status == "unassigned"

    async def test_missions_of_other_branch_date_or_status_are_409(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant()
        branch_id, (ok,) = await _setup(factory, tenant, 1)
        other_branch = (await factory.branch(tenant))["id"]
        elsewhere = await mission(factory, tenant, other_branch)
        tomorrow = await mission(factory, tenant, branch_id, date=days.day(1))
        for bad in (elsewhere["id"], tomorrow["id"]):
            response = await create_route(client, tenant, {"branchId": branch_id, "missionIds": [ok, bad]})
            assert response.status_code == 409, response.text
            assert response.json()["error"]["details"]["missionId"] == bad
        await create_route(client, tenant, {"branchId": branch_id, "missionIds": [ok]})
        again = await create_route(client, tenant, {"branchId": branch_id, "missionIds": [ok]})
        assert again.status_code == 409
        assert again.json()["error"]["details"]["status"] == "scheduled"
        assert _types(await events(tenant.id)) == ["route.created", "mission.status_changed"]

    async def test_depot_of_another_branch_is_409(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        branch = await factory.branch(tenant)
        depot = await factory.depot(tenant)
        response = await create_route(client, tenant, {"branchId": branch["id"], "endDepotId": depot["id"]})
        assert response.status_code == 409
        assert response.json()["error"]["details"]["field"] == "endDepotId"

    async def test_external_id_and_replay(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        branch_id, ids = await _setup(factory, tenant, 1)
        body = {"branchId": branch_id, "date": DAY, "externalId": "x-1", "missionIds": ids}
        headers = tenant.headers(**{"Idempotency-Key": "route-1"})
        first = await client.post("/api/v1/routes", json=body, headers=headers)
        second = await client.post("/api/v1/routes", json=body, headers=headers)
        assert first.status_code == second.status_code == 201
        assert second.content == first.content and second.headers["idempotent-replayed"] == "true"
        dup = await create_route(client, tenant, {"branchId": branch_id, "externalId": "x-1"})
        assert dup.status_code == 409
        assert dup.json()["error"]["details"] == {
            "field": "externalId",
            "existingId": first.json()["data"]["id"],
        }
        assert _types(await events(tenant.id)) == ["route.created", "mission.status_changed"]

    async def test_with_driver_and_vehicle_is_assigned(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant()
        branch_id, ids = await _setup(factory, tenant, 1)
        driver = await factory.driver(tenant, branch_id)
        vehicle = await factory.vehicle(tenant, branch_id)
        response = await create_route(client, tenant, {
            "branchId": branch_id, "missionIds": ids, "driverId": driver["id"], "vehicleId": vehicle["id"],
        })  # fmt: skip
        route = response.json()["data"]
        assert (route["status"], route["driverId"], route["vehicleId"]) == (
            "assigned",
            driver["id"],
            vehicle["id"],
        )
        second = await create_route(client, tenant, {"branchId": branch_id, "driverId": driver["id"]})
        assert second.status_code == 409
        assert second.json()["error"]["details"]["conflictingRouteId"] == route["id"]


class TestListAndGet:
    async def test_filters_and_stops(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        branch_id, ids = await _setup(factory, tenant, 2)
        driver = await factory.driver(tenant, branch_id)
        a = (await create_route(client, tenant, {"branchId": branch_id, "missionIds": ids})).json()["data"]
        b = (await create_route(client, tenant, {"branchId": branch_id, "date": days.day(1),
                                                  "driverId": driver["id"]})).json()["data"]  # fmt: skip
        other = await factory.route(tenant)
        for params, expected in [
            ({"branchId": branch_id}, [a, b]),
            ({"date": DAY}, [a, other]),
            ({"dateFrom": days.day(1)}, [b]),
            ({"dateTo": DAY, "branchId": branch_id}, [a]),
            ({"driverId": driver["id"]}, [b]),
            ({"status": ["planned", "assigned"]}, [a, b, other]),
            ({"status": "completed"}, []),
            ({}, [a, b, other]),
        ]:
            response = await client.get("/api/v1/routes", params=params, headers=tenant.headers("read"))
            assert response.status_code == 200, response.text
            assert [r["id"] for r in response.json()["data"]] == [r["id"] for r in expected], params
        listed = (await client.get("/api/v1/routes", headers=tenant.headers("read"))).json()["data"]
        assert listed[0] == a and len(listed[0]["stops"]) == 2
        got = await client.get(f"/api/v1/routes/{a['id']}", headers=tenant.headers("read"))
        assert got.json()["data"] == a
        bad = await client.get("/api/v1/routes", params={"status": "lost"}, headers=tenant.headers("read"))
        assert (bad.status_code, bad.json()["error"]["details"][0]["field"]) == (422, "status")

    async def test_paging(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        branch = await factory.branch(tenant)
        made = [await factory.route(tenant, branch["id"]) for _ in range(3)]
        first = (await client.get("/api/v1/routes?limit=2", headers=tenant.headers("read"))).json()
        assert first["pagination"]["hasMore"] is True
        cursor = first["pagination"]["nextCursor"]
        rest = (
            await client.get(f"/api/v1/routes?limit=2&cursor={cursor}", headers=tenant.headers("read"))
        ).json()
        assert [r["id"] for r in first["data"] + rest["data"]] == [r["id"] for r in made]
        assert [r["name"] for r in made] == [f"Route {n} {DAY}" for n in (1, 2, 3)]


class TestAssign:
    async def test_driver_then_vehicle_then_unassign(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant()
        branch_id, ids = await _setup(factory, tenant, 1)
        route = (await create_route(client, tenant, {"branchId": branch_id, "missionIds": ids})).json()[
            "data"
        ]
        driver = await factory.driver(tenant, branch_id)
        vehicle = await factory.vehicle(tenant, branch_id)
        url = f"/api/v1/routes/{route['id']}"
        first = await client.put(
            f"{url}/assign-driver", json={"driverId": driver["id"]}, headers=tenant.headers()
        )
        assert first.status_code == 200, first.text
        assert (first.json()["data"]["driverId"], first.json()["data"]["status"]) == (driver["id"], "planned")
        second = await client.put(
            f"{url}/assign-vehicle", json={"vehicleId": vehicle["id"]}, headers=tenant.headers()
        )
        assert second.json()["data"]["status"] == "assigned"
        row = await mission_row(tenant, ids[0])
        assert (str(row.driver_id), str(row.vehicle_id)) == (driver["id"], vehicle["id"])
        same = await client.put(
            f"{url}/assign-driver", json={"driverId": driver["id"]}, headers=tenant.headers()
        )
        assert same.status_code == 200
        cleared = await client.put(f"{url}/assign-driver", json={"driverId": None}, headers=tenant.headers())
        assert (cleared.json()["data"]["driverId"], cleared.json()["data"]["status"]) == (None, "planned")
        assert (await mission_row(tenant, ids[0])).driver_id is None
        route_events = [e for e in await events(tenant.id, route["id"])]
        assert _types(route_events) == ["route.created", "route.assigned", "route.assigned", "route.assigned"]
        assert route_events[-1].payload["data"] == cleared.json()["data"]

    async def test_refusals(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        branch_id, _ = await _setup(factory, tenant, 0)
        route = await factory.route(tenant, branch_id)
        url = f"/api/v1/routes/{route['id']}/assign-driver"
        inactive = await factory.driver(tenant, branch_id, status="inactive")
        elsewhere = await factory.driver(tenant)
        cases = [
            ({"driverId": NOWHERE}, 422),
            ({"driverId": "nope"}, 422),
            ({}, 422),
            ({"driverId": inactive["id"]}, 409),
            ({"driverId": elsewhere["id"]}, 409),
        ]
        for body, status in cases:
            response = await client.put(url, json=body, headers=tenant.headers())
            assert response.status_code == status, (body, response.text)
        foreign = await client.put(url, json={"driverId": NOWHERE}, headers=tenant.headers())
        assert foreign.json()["error"]["details"] == [
            {"field": "driverId", "issue": "does not name a record of your company"}
        ]
        assert _types(await events(tenant.id, route["id"])) == ["route.created"]

    async def test_double_booking_names_the_route(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        branch_id, _ = await _setup(factory, tenant, 0)
        vehicle = await factory.vehicle(tenant, branch_id)
        first = await factory.route(tenant, branch_id, vehicleId=vehicle["id"])
        second = await factory.route(tenant, branch_id)
        tomorrow = await factory.route(tenant, branch_id, date=days.day(1))
        url = f"/api/v1/routes/{second['id']}/assign-vehicle"
        response = await client.put(url, json={"vehicleId": vehicle["id"]}, headers=tenant.headers())
        assert response.status_code == 409
        assert response.json()["error"]["details"] == {
            "field": "vehicleId",
            "conflictingRouteId": first["id"],
        }
        ok = await client.put(
            f"/api/v1/routes/{tomorrow['id']}/assign-vehicle", json={"vehicleId": vehicle["id"]},
            headers=tenant.headers(),
        )  # fmt: skip
        assert ok.status_code == 200

    async def test_racing_routes_get_the_driver_once(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant()
        branch_id, _ = await _setup(factory, tenant, 0)
        driver = await factory.driver(tenant, branch_id)
        routes = [await factory.route(tenant, branch_id) for _ in range(5)]
        responses = await asyncio.gather(*[
            client.put(f"/api/v1/routes/{r['id']}/assign-driver", json={"driverId": driver["id"]},
                       headers=tenant.headers())
            for r in routes
        ])  # fmt: skip
        assert sorted(r.status_code for r in responses) == [200, 409, 409, 409, 409]
        winner = next(r for r in responses if r.status_code == 200).json()["data"]["id"]
        for response in responses:
            if response.status_code == 409:
                assert response.json()["error"]["details"]["conflictingRouteId"] == winner

    async def test_vehicle_capacity(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        branch_id, ids = await _setup(factory, tenant, 2, weightKg=60.0, items=3)
        route = (await create_route(client, tenant, {"branchId": branch_id, "missionIds": ids})).json()[
            "data"
        ]
        small = await factory.vehicle(tenant, branch_id, capacityWeightKg=100, capacityItems=None)
        url = f"/api/v1/routes/{route['id']}/assign-vehicle"
        response = await client.put(url, json={"vehicleId": small["id"]}, headers=tenant.headers())
        assert response.status_code == 409
        details = response.json()["error"]["details"]
        assert {k: details[k] for k in ("dimension", "load", "capacity")} == {
            "dimension": "weightKg", "load": 120.0, "capacity": 100.0,
        }  # fmt: skip
        big = await factory.vehicle(tenant, branch_id, capacityWeightKg=130, capacityItems=6)
        assert (
            await client.put(url, json={"vehicleId": big["id"]}, headers=tenant.headers())
        ).status_code == 200
        # ... and the load stays checked as missions join.
        extra = await mission(factory, tenant, branch_id, weightKg=5.0, items=1)
        add = await client.put(
            f"/api/v1/routes/{route['id']}/add-missions", json={"missionIds": [extra["id"]]},
            headers=tenant.headers(),
        )  # fmt: skip
        assert add.status_code == 409
        assert add.json()["error"]["details"]["dimension"] == "items"
        assert (await mission_row(tenant, extra["id"])).status == "unassigned"


class TestAddAndReorder:
    async def test_add_at_position_and_reorder(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        branch_id, (a, b, c) = await _setup(factory, tenant, 3)
        route = (await create_route(client, tenant, {"branchId": branch_id, "missionIds": [a, b]})).json()[
            "data"
        ]
        url = f"/api/v1/routes/{route['id']}"
        added = await client.put(
            f"{url}/add-missions", json={"missionIds": [c], "position": 1}, headers=tenant.headers()
        )
        assert added.status_code == 200, added.text
        assert [s["missionId"] for s in added.json()["data"]["stops"]] == [c, a, b]
        assert [s["sequence"] for s in added.json()["data"]["stops"]] == [1, 2, 3]
        reordered = await client.put(
            f"{url}/missions/order", json={"missionIds": [b, a, c]}, headers=tenant.headers()
        )
        assert reordered.status_code == 200, reordered.text
        stops = reordered.json()["data"]["stops"]
        assert [s["missionId"] for s in stops] == [b, a, c]
        assert stops[0]["eta"] < stops[1]["eta"] < stops[2]["eta"]
        same = await client.put(
            f"{url}/missions/order", json={"missionIds": [b, a, c]}, headers=tenant.headers()
        )
        assert same.status_code == 200
        written = await events(tenant.id)
        assert _types(written)[3:] == ["mission.status_changed", "route.reordered", "route.reordered"]
        assert written[-1].payload["data"] == reordered.json()["data"]
        assert (await mission_row(tenant, c)).sequence == 3

    async def test_reorder_must_name_exactly_the_stops(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant()
        branch_id, (a, b, c) = await _setup(factory, tenant, 3)
        route = (await create_route(client, tenant, {"branchId": branch_id, "missionIds": [a, b]})).json()[
            "data"
        ]
        url = f"/api/v1/routes/{route['id']}/missions/order"
        missing = await client.put(url, json={"missionIds": [a]}, headers=tenant.headers())
        assert missing.status_code == 422
        assert missing.json()["error"]["details"] == [
            {"field": "missionIds", "issue": f"is missing mission {b} of this route"}
        ]
        extra = await client.put(url, json={"missionIds": [b, a, c]}, headers=tenant.headers())
        assert extra.json()["error"]["details"] == [
            {"field": "missionIds[2]", "issue": f"mission {c} is not on this route"}
        ]
        twice = await client.put(url, json={"missionIds": [a, a, b]}, headers=tenant.headers())
        assert twice.status_code == 422
        assert _types(await events(tenant.id, route["id"])) == ["route.created"]

    async def test_add_refusals(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        branch_id, (a, b) = await _setup(factory, tenant, 2)
        route = (await create_route(client, tenant, {"branchId": branch_id, "missionIds": [a]})).json()[
            "data"
        ]
        url = f"/api/v1/routes/{route['id']}/add-missions"
        for body, status in [
            ({"missionIds": [b], "position": 3}, 422),
            ({"missionIds": [b], "position": 0}, 422),
            ({"missionIds": []}, 422),
            ({"missionIds": [NOWHERE]}, 422),
            ({"missionIds": [a]}, 409),
        ]:
            response = await client.put(url, json=body, headers=tenant.headers())
            assert response.status_code == status, (body, response.text)
        assert (await mission_row(tenant, b)).status == "unassigned"


class TestDelete:
    async def test_unfinished_missions_go_back(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        branch_id, (a, b) = await _setup(factory, tenant, 2)
        route = (await create_route(client, tenant, {"branchId": branch_id, "missionIds": [a, b]})).json()[
            "data"
        ]
        await move(client, tenant, b, "in_progress")
        url = f"/api/v1/routes/{route['id']}"
        refused = await client.delete(url, headers=tenant.headers())
        assert refused.status_code == 409
        assert refused.json()["error"]["details"]["missionIds"] == [b]
        await move(client, tenant, b, "failed", failureReason="nobody home")
        before = (await client.get(url, headers=tenant.headers("read"))).json()["data"]
        deleted = await client.delete(url, headers=tenant.headers())
        assert (deleted.status_code, deleted.content) == (204, b"")
        assert (await client.get(url, headers=tenant.headers("read"))).status_code == 404
        row_a, row_b = await mission_row(tenant, a), await mission_row(tenant, b)
        assert (row_a.status, row_a.route_id, row_a.sequence, row_a.eta) == ("unassigned", None, None, None)
        assert (row_b.status, row_b.route_id) == ("failed", None)
        written = await events(tenant.id)
        assert _types(written)[-3:] == ["mission.status_changed", "mission.updated", "route.deleted"]
        assert written[-1].payload["data"] == before
        # Back on a route it is not charged again.
        again = await create_route(client, tenant, {"branchId": branch_id, "missionIds": [a]})
        assert again.status_code == 201

    async def test_fleet_and_depots_in_use_cannot_go(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant()
        branch_id, _ = await _setup(factory, tenant, 0)
        driver = await factory.driver(tenant, branch_id)
        vehicle = await factory.vehicle(tenant, branch_id)
        depot = await factory.depot(tenant, branch_id)
        route = await factory.route(tenant, branch_id, driverId=driver["id"], vehicleId=vehicle["id"],
                                    startDepotId=depot["id"])  # fmt: skip
        for path in (f"/drivers/{driver['id']}", f"/vehicles/{vehicle['id']}", f"/depots/{depot['id']}",
                     f"/branches/{branch_id}"):  # fmt: skip
            response = await client.delete(f"/api/v1{path}", headers=tenant.headers())
            assert response.status_code == 409, path
            assert response.json()["error"]["details"]["dependants"]["routes"] == [route["id"]]


class TestTimelineAndGeometry:
    async def test_geometry(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        branch = await factory.branch(tenant)
        depot = await factory.depot(tenant, branch["id"], latitude=41.0, longitude=29.0)
        a = await mission(factory, tenant, branch["id"], latitude=41.1, longitude=29.2)
        b = await mission(factory, tenant, branch["id"], latitude=41.2, longitude=29.3)
        route = (await create_route(client, tenant, {
            "branchId": branch["id"], "missionIds": [a["id"], b["id"]], "startDepotId": depot["id"],
            "endDepotId": depot["id"],
        })).json()["data"]  # fmt: skip
        response = await client.get(
            f"/api/v1/routes/{route['id']}/navigation-geometry", headers=tenant.headers("read")
        )
        assert response.status_code == 200, response.text
        feature = response.json()["data"]
        coordinates = [[29.0, 41.0], [29.2, 41.1], [29.3, 41.2], [29.0, 41.0]]
        assert feature["type"] == "Feature"
        assert feature["geometry"] == {"type": "LineString", "coordinates": coordinates}
        assert feature["properties"]["source"] == "straight"
        assert decode_polyline(feature["properties"]["encodedPolyline"]) == [
            (lat, lng) for lng, lat in coordinates
        ]
        empty = await factory.route(tenant, branch["id"])
        lone = await client.get(
            f"/api/v1/routes/{empty['id']}/navigation-geometry", headers=tenant.headers("read")
        )
        assert lone.json()["data"]["geometry"] is None

    async def test_timeline(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        branch_id, (a, b) = await _setup(factory, tenant, 2)
        route = (await create_route(client, tenant, {"branchId": branch_id, "missionIds": [a, b]})).json()[
            "data"
        ]
        url = f"/api/v1/routes/{route['id']}/timeline"
        empty = (await client.get(url, headers=tenant.headers("read"))).json()["data"]
        assert empty["events"] == [] and [s["missionId"] for s in empty["stops"]] == [a, b]
        await move(client, tenant, a, "in_progress")
        await move(client, tenant, a, "delivered")
        await move(client, tenant, b, "in_progress")
        await move(client, tenant, b, "failed", failureReason="closed")
        timeline = (await client.get(url, headers=tenant.headers("read"))).json()["data"]
        assert [(e["kind"], e["missionId"]) for e in timeline["events"]] == [
            ("route_started", None), ("started", a), ("delivered", a), ("started", b), ("failed", b),
            ("route_completed", None),
        ]  # fmt: skip
        assert timeline["events"][4]["failureReason"] == "closed"
        assert timeline["status"] == "completed"
        stop = timeline["stops"][0]
        assert stop["actualStartedAt"] is not None and stop["plannedEta"] == route["stops"][0]["eta"]
        assert isinstance(stop["delaySeconds"], int)
