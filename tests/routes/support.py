"""Missions and their field status moves for route tests: through the real missions endpoints when
they are registered, else straight through the missions area's own functions."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
from sqlalchemy import select

from app.core.db import unit_of_work
from app.core.outbox import WebhookEvent
from app.core.principal import Principal
from app.credits.models import CreditLedgerEntry
from app.missions import lifecycle
from app.missions.models import Mission
from app.missions.schemas import MissionStatus
from rest_compat.endpoints import ENDPOINTS
from tests.fixtures import days
from tests.fixtures.factories import Factory, Tenant
from tests.fixtures.fleet import events

DAY = days.day()
_PATHS = {(ep.method, ep.path) for ep in ENDPOINTS}
HAS_MISSIONS_API = ("POST", "/missions") in _PATHS
HAS_MISSION_PATCH = ("PATCH", "/missions/{id}") in _PATHS


async def mission(
    factory: Factory, tenant: Tenant, branch_id: str, date: str = DAY, **fields: Any
) -> dict[str, Any]:
    """A new unassigned mission; returns at least `id` (and `proof.code` when made by the API)."""
    body = {"branchId": branch_id, "date": date, "latitude": 41.0, "longitude": 29.0, **fields}
    if HAS_MISSIONS_API:
        return await factory.post(tenant, "/missions", body)
    async with unit_of_work(Principal.system(tenant.id)) as uow:
        record = Mission(
            company_id=tenant.id,
            branch_id=uuid.UUID(branch_id),
            date=dt.date.fromisoformat(date),
            latitude=body["latitude"],
            longitude=body["longitude"],
            proof_required=fields.get("proofRequired", False),
            weight_kg=fields.get("weightKg"),
            items=fields.get("items"),
            service_duration_seconds=fields.get("serviceDurationSeconds", 300),
        )
        uow.add(record)
        await uow.flush()
        return {"id": str(record.id)}


async def move(
    client: httpx.AsyncClient, tenant: Tenant, mission_id: str, status: str, **fields: Any
) -> None:
    """A field status move (started, delivered, failed, cancelled) as an integrator reports it."""
    if HAS_MISSION_PATCH:
        response = await client.patch(
            f"/api/v1/missions/{mission_id}", json={"status": status, **fields}, headers=tenant.headers()
        )
        assert response.status_code == 200, response.text
        return
    async with unit_of_work(Principal.system(tenant.id)) as uow:
        record = await uow.scalar(select(Mission).where(Mission.id == uuid.UUID(mission_id)))
        await lifecycle.move(uow, record, MissionStatus(status), failure_reason=fields.get("failureReason"))


async def changes(company_id: Any, resource_id: Any = None) -> list[WebhookEvent]:
    """Webhook events but the setup's `mission.created`."""
    return [e for e in await events(company_id, resource_id) if e.type != "mission.created"]


async def mission_row(tenant: Tenant, mission_id: str) -> Mission:
    async with unit_of_work(Principal.system(tenant.id)) as uow:
        return await uow.scalar(select(Mission).where(Mission.id == uuid.UUID(mission_id)))  # type: ignore[no-any-return]


async def ledger(tenant: Tenant) -> list[CreditLedgerEntry]:
    async with unit_of_work(Principal.system(tenant.id)) as uow:
        return await uow.scalars(
            select(CreditLedgerEntry)
            .where(CreditLedgerEntry.company_id == tenant.id)
            .order_by(CreditLedgerEntry.created_at, CreditLedgerEntry.id)
        )


async def credits(client: httpx.AsyncClient, tenant: Tenant) -> int:
    response = await client.get("/api/v1/me", headers=tenant.headers("read"))
    return response.json()["data"]["company"]["creditsRemaining"]  # type: ignore[no-any-return]


async def create_route(client: httpx.AsyncClient, tenant: Tenant, body: dict[str, Any]) -> httpx.Response:
    return await client.post("/api/v1/routes", json={"date": DAY, **body}, headers=tenant.headers())


HAS_VERIFY = ("POST", "/missions/{id}/proof-of-delivery/verify") in _PATHS
HAS_REASSIGN = ("POST", "/missions/{id}/reassign") in _PATHS


async def verify(client: httpx.AsyncClient, tenant: Tenant, made: dict[str, Any]) -> None:
    """Proof of delivery with the code the create answer showed (or the lifecycle move without the API)."""
    if HAS_VERIFY:
        response = await client.post(
            f"/api/v1/missions/{made['id']}/proof-of-delivery/verify",
            json={"code": made["proof"]["code"]},
            headers=tenant.headers(),
        )
        assert response.status_code == 200, response.text
        return
    async with unit_of_work(Principal.system(tenant.id)) as uow:
        record = await uow.scalar(select(Mission).where(Mission.id == uuid.UUID(made["id"])))
        await lifecycle.move(uow, record, MissionStatus.PROOFED)


# Around the factory depot (41.01, 29.01): a few kilometres apart.
SPOTS = [(41.02, 29.03), (41.03, 29.00), (41.00, 29.04), (41.04, 29.02), (40.99, 29.00), (41.02, 28.99)]


async def plannable_day(
    factory: Factory, tenant: Tenant, missions: int = 4, **vehicle: Any
) -> dict[str, Any]:
    """A branch with a depot, a van and `missions` unassigned missions of DAY around the depot
    (beyond the six SPOTS, spread on a grid): `branch`, `depot`, `vehicle` and mission `missions` ids."""
    branch = await factory.branch(tenant)
    depot = await factory.depot(tenant, branch["id"])
    van = await factory.vehicle(tenant, branch["id"], **vehicle)
    spots = SPOTS + [
        (40.98 + (n % 10) * 0.008, 28.97 + (n // 10) * 0.008) for n in range(max(0, missions - 6))
    ]
    ids = [
        (await mission(factory, tenant, branch["id"], latitude=lat, longitude=lng))["id"]
        for lat, lng in spots[:missions]
    ]
    return {"branch": branch, "depot": depot, "vehicle": van, "missions": ids}
