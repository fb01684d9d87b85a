from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import func, select

from app.assignments.models import VehicleDriverAssignment
from app.core.db import unit_of_work
from app.core.principal import Principal
from tests.fixtures import days
from tests.fixtures.factories import Factory
from tests.fixtures.fleet import events

URL = "/api/v1/vehicle-driver-assignments"


async def _fleet(factory: Factory, tenant: object) -> tuple[dict, dict, dict]:  # type: ignore[type-arg]
    branch = await factory.branch(tenant)  # type: ignore[arg-type]
    vehicle = await factory.vehicle(tenant, branch["id"])  # type: ignore[arg-type]
    driver = await factory.driver(tenant, branch["id"])  # type: ignore[arg-type]
    return branch, vehicle, driver


class TestCreate:
    async def test_creates_and_emits(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        _, vehicle, driver = await _fleet(factory, tenant)
        body = {
            "vehicleId": vehicle["id"],
            "driverId": driver["id"],
            "startsAt": days.at("06:00"),
            "endsAt": None,
            "externalId": "shift-1",
        }
        response = await client.post(URL, json=body, headers=tenant.headers())
        assert response.status_code == 201, response.text
        data = response.json()["data"]
        assert data["startsAt"] == days.at("06:00") and data["endsAt"] is None
        assert [e.type for e in await events(tenant.id, data["id"])] == ["vehicle_driver_assignment.created"]

    async def test_overlap_is_409_naming_the_clash(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        branch, vehicle, driver = await _fleet(factory, tenant)
        first = await factory.assignment(tenant, vehicleId=vehicle["id"], driverId=driver["id"])
        other_driver = await factory.driver(tenant, branch["id"])
        other_vehicle = await factory.vehicle(tenant, branch["id"])
        for body, field in [
            ({"vehicleId": vehicle["id"], "driverId": other_driver["id"]}, "vehicleId"),
            ({"vehicleId": other_vehicle["id"], "driverId": driver["id"]}, "driverId"),
        ]:
            body |= {"startsAt": days.at("17:00"), "endsAt": days.at("20:00")}
            response = await client.post(URL, json=body, headers=tenant.headers())
            assert response.status_code == 409, response.text
            assert response.json()["error"]["details"] == {
                "field": field,
                "conflictingAssignmentId": first["id"],
            }
        # Half-open: starting exactly when the first ends is fine.
        touching = {
            "vehicleId": vehicle["id"],
            "driverId": other_driver["id"],
            "startsAt": days.at("18:00"),
        }
        assert (await client.post(URL, json=touching, headers=tenant.headers())).status_code == 201

    async def test_inactive_side_is_409_and_foreign_ids_422(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant, other = await factory.tenant(), await factory.tenant()
        branch, vehicle, driver = await _fleet(factory, tenant)
        retired = await factory.vehicle(tenant, branch["id"], status="inactive")
        body = {"vehicleId": retired["id"], "driverId": driver["id"], "startsAt": days.at("06:00")}
        response = await client.post(URL, json=body, headers=tenant.headers())
        assert (response.status_code, response.json()["error"]["details"]["field"]) == (409, "vehicleId")
        foreign = await factory.driver(other)
        body = {"vehicleId": vehicle["id"], "driverId": foreign["id"], "startsAt": days.at("06:00")}
        response = await client.post(URL, json=body, headers=tenant.headers())
        assert (response.status_code, response.json()["error"]["details"][0]["field"]) == (422, "driverId")
        backwards = {
            "vehicleId": vehicle["id"],
            "driverId": driver["id"],
            "startsAt": days.at("06:00"),
            "endsAt": days.at("05:00"),
        }
        assert (await client.post(URL, json=backwards, headers=tenant.headers())).status_code == 422
        assert await events(tenant.id) == [
            e for e in await events(tenant.id) if not e.type.startswith("vehicle_driver")
        ]

    async def test_external_id_conflict(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        first = await factory.assignment(tenant, externalId="x")
        _, vehicle, driver = await _fleet(factory, tenant)
        body = {
            "vehicleId": vehicle["id"],
            "driverId": driver["id"],
            "startsAt": days.at("00:00", 36),
            "externalId": "x",
        }
        response = await client.post(URL, json=body, headers=tenant.headers())
        assert response.json()["error"]["details"] == {"field": "externalId", "existingId": first["id"]}

    async def test_ten_concurrent_overlaps_leave_one(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant()
        branch = await factory.branch(tenant)
        vehicle = await factory.vehicle(tenant, branch["id"])
        drivers = [await factory.driver(tenant, branch["id"]) for _ in range(10)]
        responses = await asyncio.gather(
            *[
                client.post(
                    URL,
                    json={
                        "vehicleId": vehicle["id"],
                        "driverId": d["id"],
                        "startsAt": days.at(f"0{i}:00"),
                    },
                    headers=tenant.headers(),
                )
                for i, d in enumerate(drivers)
            ]
        )
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [201] + [409] * 9, [r.text for r in responses]
        winner = next(r for r in responses if r.status_code == 201).json()["data"]["id"]
        for loser in (r for r in responses if r.status_code == 409):
            assert loser.json()["error"]["details"]["conflictingAssignmentId"] == winner
        async with unit_of_work(Principal.system(tenant.id)) as uow:
            count = await uow.scalar(
                select(func.count())
                .select_from(VehicleDriverAssignment)
                .where(VehicleDriverAssignment.vehicle_id == vehicle["id"])
            )
        assert count == 1
        assert [e.type for e in await events(tenant.id)].count("vehicle_driver_assignment.created") == 1


class TestListAndUpdate:
    async def test_filters_and_active_at(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        morning = await factory.assignment(tenant, startsAt=days.at("06:00"), endsAt=days.at("12:00"))
        evening = await factory.assignment(tenant, startsAt=days.at("12:00"), endsAt=None)
        for params, expected in [
            ({"activeAt": days.at("12:00")}, [evening]),
            ({"activeAt": days.at("07:00")}, [morning]),
            ({"vehicleId": morning["vehicleId"]}, [morning]),
            ({"driverId": evening["driverId"]}, [evening]),
        ]:
            response = await client.get(URL, params=params, headers=tenant.headers("read"))
            assert [a["id"] for a in response.json()["data"]] == [a["id"] for a in expected], params

    async def test_patch_rechecks_overlap(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        branch, vehicle, driver = await _fleet(factory, tenant)
        other_driver = await factory.driver(tenant, branch["id"])
        first = await factory.assignment(tenant, vehicleId=vehicle["id"], driverId=driver["id"])
        later = await factory.assignment(
            tenant,
            vehicleId=vehicle["id"],
            driverId=other_driver["id"],
            startsAt=days.at("18:00"),
            endsAt=None,
        )
        response = await client.patch(
            f"{URL}/{first['id']}", json={"endsAt": days.at("19:00")}, headers=tenant.headers()
        )
        assert response.json()["error"]["details"]["conflictingAssignmentId"] == later["id"]
        ok = await client.patch(
            f"{URL}/{first['id']}", json={"endsAt": days.at("17:00")}, headers=tenant.headers()
        )
        assert ok.status_code == 200
        deleted = await client.delete(f"{URL}/{first['id']}", headers=tenant.headers())
        assert deleted.status_code == 204
        types = [e.type for e in await events(tenant.id, first["id"])]
        assert types == [
            "vehicle_driver_assignment.created",
            "vehicle_driver_assignment.updated",
            "vehicle_driver_assignment.deleted",
        ]
