from __future__ import annotations

import httpx

from tests.fixtures.factories import Factory
from tests.fixtures.fleet import events, history

BODY = {
    "name": "Van 1",
    "plateNumber": "34 ABC 1",
    "type": "van",
    "status": "active",
    "capacityWeightKg": 1000.0,
    "capacityVolumeM3": 8.5,
    "capacityItems": None,
    "costPerKm": 0.4,
    "externalId": "v-1",
}


class TestCreate:
    async def test_creates_with_event_and_history(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        branch = await factory.branch(tenant)
        response = await client.post(
            "/api/v1/vehicles", json={**BODY, "branchId": branch["id"]}, headers=tenant.headers()
        )
        assert response.status_code == 201, response.text
        data = response.json()["data"]
        assert {k: data[k] for k in BODY} == BODY
        written = await events(tenant.id, data["id"])
        assert [(e.type, e.payload["data"]) for e in written] == [("vehicle.created", data)]
        assert [h.action for h in await history(tenant.id, data["id"])] == ["created"]

    async def test_validation(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        bad = {
            "branchId": "00000000-0000-4000-8000-000000000000",
            "name": "x",
            "type": "rocket",
            "capacityWeightKg": -1,
            "capacityItems": 1.5,
            "colour": "red",
        }
        response = await client.post("/api/v1/vehicles", json=bad, headers=tenant.headers())
        assert response.status_code == 422
        fields = {d["field"] for d in response.json()["error"]["details"]}
        assert {"type", "capacityWeightKg", "capacityItems", "colour"} <= fields
        foreign = await client.post(
            "/api/v1/vehicles",
            json={"branchId": "00000000-0000-4000-8000-000000000000", "name": "x", "type": "van"},
            headers=tenant.headers(),
        )
        assert foreign.status_code == 422
        assert foreign.json()["error"]["details"] == [
            {"field": "branchId", "issue": "does not name a record of your company"}
        ]
        assert await events(tenant.id) == []

    async def test_external_id_conflict(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        first = await factory.vehicle(tenant, externalId="dup")
        again = await client.post(
            "/api/v1/vehicles",
            json={"branchId": first["branchId"], "name": "b", "type": "car", "externalId": "dup"},
            headers=tenant.headers(),
        )
        assert again.status_code == 409
        assert again.json()["error"]["details"] == {"field": "externalId", "existingId": first["id"]}
        assert len(await events(tenant.id)) == 1

    async def test_idempotent_replay_emits_once(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        branch = await factory.branch(tenant)
        headers = tenant.headers(**{"Idempotency-Key": "veh-1"})
        body = {"branchId": branch["id"], "name": "V", "type": "truck"}
        first = await client.post("/api/v1/vehicles", json=body, headers=headers)
        second = await client.post("/api/v1/vehicles", json=body, headers=headers)
        assert first.status_code == second.status_code == 201
        assert second.content == first.content and second.headers["idempotent-replayed"] == "true"
        assert [e.type for e in await events(tenant.id)] == ["vehicle.created"]


class TestList:
    async def test_filters(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        a, b = await factory.branch(tenant), await factory.branch(tenant)
        van = await factory.vehicle(tenant, a["id"])
        truck = await factory.vehicle(tenant, b["id"], type="truck", status="inactive")
        for params, expected in [
            ({"branchId": a["id"]}, [van]),
            ({"type": "truck"}, [truck]),
            ({"status": "active"}, [van]),
            ({}, [van, truck]),
        ]:
            response = await client.get("/api/v1/vehicles", params=params, headers=tenant.headers("read"))
            assert [v["id"] for v in response.json()["data"]] == [v["id"] for v in expected], params
        bad = await client.get("/api/v1/vehicles", params={"type": "rocket"}, headers=tenant.headers("read"))
        assert (bad.status_code, bad.json()["error"]["details"][0]["field"]) == (422, "type")


class TestUpdate:
    async def test_patch_emits_updated_and_noop_emits_nothing(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant()
        vehicle = await factory.vehicle(tenant, capacityItems=10)
        url = f"/api/v1/vehicles/{vehicle['id']}"
        response = await client.patch(
            url, json={"capacityItems": None, "status": "inactive"}, headers=tenant.headers()
        )
        assert response.status_code == 200
        assert (response.json()["data"]["capacityItems"], response.json()["data"]["status"]) == (
            None,
            "inactive",
        )
        await client.patch(url, json={"status": "inactive"}, headers=tenant.headers())
        assert [e.type for e in await events(tenant.id, vehicle["id"])] == [
            "vehicle.created",
            "vehicle.updated",
        ]
        nulled = await client.patch(url, json={"type": None}, headers=tenant.headers())
        assert nulled.status_code == 422


class TestDelete:
    async def test_delete_emits_deleted_with_last_state(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant()
        vehicle = await factory.vehicle(tenant)
        response = await client.delete(f"/api/v1/vehicles/{vehicle['id']}", headers=tenant.headers())
        assert (response.status_code, response.content) == (204, b"")
        written = await events(tenant.id, vehicle["id"])
        assert written[-1].type == "vehicle.deleted" and written[-1].payload["data"]["id"] == vehicle["id"]

    async def test_assigned_vehicle_is_409(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        assignment = await factory.assignment(tenant)
        response = await client.delete(
            f"/api/v1/vehicles/{assignment['vehicleId']}", headers=tenant.headers()
        )
        assert response.status_code == 409
        assert response.json()["error"]["details"]["dependants"] == {
            "vehicleDriverAssignments": [assignment["id"]]
        }
        assert "vehicle.deleted" not in [e.type for e in await events(tenant.id)]

    async def test_branch_with_vehicles_is_409(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        vehicle = await factory.vehicle(tenant)
        response = await client.delete(f"/api/v1/branches/{vehicle['branchId']}", headers=tenant.headers())
        assert response.status_code == 409
        assert response.json()["error"]["details"]["dependants"]["vehicles"] == [vehicle["id"]]
