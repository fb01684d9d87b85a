"""A small operation to report on, built through the real endpoints: one branch in Istanbul with a
completed route (proofed, late, window-less and failed deliveries, a cancellation), unassigned work
on two days, a second branch, and another company whose data must never be counted."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import update

from app.core.db import unit_of_work
from app.core.principal import Principal
from app.missions.models import Mission
from tests.fixtures import days
from tests.fixtures.factories import Factory, Tenant
from tests.routes.support import create_route, move, verify

DAY, NEXT = days.day(), days.day(1)


@dataclass
class World:
    tenant: Tenant
    other: Tenant
    branch: dict[str, Any]
    second_branch: dict[str, Any]
    route: dict[str, Any]
    driver: dict[str, Any]
    idle_driver: dict[str, Any]
    vehicle: dict[str, Any]
    missions: dict[str, dict[str, Any]]
    foreign_ids: set[str]


async def finished_at(tenant: Tenant, mission_id: str, at: str) -> None:
    """Pin when a mission finished (the API stamps the wall clock), so on-time figures are exact."""
    moment = dt.datetime.fromisoformat(at.replace("Z", "+00:00"))
    async with unit_of_work(Principal.system(tenant.id)) as uow:
        await uow.execute(
            update(Mission).where(Mission.id == uuid.UUID(mission_id)).values(finished_at=moment)
        )


async def build(client: httpx.AsyncClient, factory: Factory) -> World:
    tenant, other = await factory.tenant(), await factory.tenant()
    branch = await factory.branch(tenant, timezone="Europe/Istanbul")
    second = await factory.branch(tenant, timezone="Europe/Istanbul")
    depot = await factory.depot(tenant, branch["id"])
    driver = await factory.driver(tenant, branch["id"])
    idle = await factory.driver(tenant, branch["id"])
    vehicle = await factory.vehicle(tenant, branch["id"], capacityWeightKg=200.0)

    async def mission(**fields: Any) -> dict[str, Any]:
        return await factory.mission(tenant, branch["id"], **fields)

    m = {
        "proofed": await mission(timeWindowStart="09:00", timeWindowEnd="12:00", weightKg=10.0),
        "late": await mission(
            timeWindowStart="09:00", timeWindowEnd="10:00", weightKg=20.0, proofRequired=False
        ),
        "no_window": await mission(weightKg=30.0),
        "failed": await mission(timeWindowStart="14:00", timeWindowEnd="16:00", weightKg=40.0),
        "cancelled": await mission(weightKg=5.0),
        "unassigned": await mission(),
        "next_day": await mission(date=NEXT),
    }
    ids = [m[k]["id"] for k in ("proofed", "late", "no_window", "failed", "cancelled")]
    response = await create_route(client, tenant, {
        "branchId": branch["id"], "missionIds": ids, "startDepotId": depot["id"],
        "driverId": driver["id"], "vehicleId": vehicle["id"],
    })  # fmt: skip
    assert response.status_code == 201, response.text
    route_id = response.json()["data"]["id"]
    await move(client, tenant, m["cancelled"]["id"], "cancelled")
    for key in ("proofed", "late", "no_window", "failed"):
        await move(client, tenant, m[key]["id"], "in_progress")
    for key in ("proofed", "late", "no_window"):
        await move(client, tenant, m[key]["id"], "delivered")
    await move(client, tenant, m["failed"]["id"], "failed", failureReason="customer absent")
    await verify(client, tenant, m["proofed"])
    await finished_at(tenant, m["proofed"]["id"], days.at("10:00", zone=days.ZONE))
    await finished_at(tenant, m["late"]["id"], days.at("11:30", zone=days.ZONE))
    await finished_at(tenant, m["no_window"]["id"], days.at("12:00", zone=days.ZONE))
    m["elsewhere"] = await factory.mission(tenant, second["id"])
    route = (await client.get(f"/api/v1/routes/{route_id}", headers=tenant.headers("read"))).json()["data"]

    # The other company: the same kind of day, never to be counted.
    other_branch = await factory.branch(other)
    foreign = [await factory.mission(other, other_branch["id"]) for _ in range(2)]
    foreign_route = (await create_route(client, other, {
        "branchId": other_branch["id"], "missionIds": [foreign[0]["id"]],
    })).json()["data"]  # fmt: skip
    await move(client, other, foreign[0]["id"], "in_progress")
    await move(client, other, foreign[0]["id"], "failed", failureReason="foreign reason")
    foreign_ids = {f["id"] for f in foreign} | {foreign_route["id"], other_branch["id"]}
    return World(tenant, other, branch, second, route, driver, idle, vehicle, m, foreign_ids)
