"""The report rollups equal a recount from scratch after any sequence of changes.

A random (seeded) run of creates, status moves, proofs, route building, reassignments, driver
changes, date and branch moves, window and load edits, deletes, time-zone changes and set-based
updates, through the API and as raw multi-row SQL of the application role, then every rollup row is
compared with what the report queries count from the missions, routes and ledger themselves."""

from __future__ import annotations

import random
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import Numeric, and_, cast, extract, func, select, text
from sqlmodel import col

from app.branches.models import Branch
from app.core.db import unit_of_work
from app.core.principal import Principal
from app.credits.models import CreditLedgerEntry
from app.missions.models import Mission
from app.reports import models as rollups
from app.reports import repository as reports
from app.routes.models import Route
from tests.fixtures import days
from tests.fixtures.factories import Factory, Tenant

ZONES = ("Europe/Istanbul", "America/New_York", "Asia/Tokyo", "UTC")
OFFSETS = (-2, -1, 0, 1)
WINDOWS = (None, ("08:00", "11:00"), ("10:00", None), (None, "13:00"), ("12:00", "18:00"))
REASONS = ("customer absent", "address not found", " ")
ANY_STATUS = ("in_progress", "delivered", "failed", "cancelled", "unassigned", "scheduled")
FORWARD = {
    "scheduled": ("in_progress", "in_progress", "cancelled"),
    "in_progress": ("delivered", "delivered", "failed"),
    "failed": ("unassigned",),
    "unassigned": ("cancelled",),
}


def _counted(condition: Any) -> Any:
    return func.count().filter(condition)


async def _recount(tenant: Tenant) -> tuple[dict[Any, dict[str, int]], dict[Any, dict[str, Any]]]:
    """(branch, date) figures and per-route figures counted from the records, as reports did before
    the rollups (the repository's own on-time expressions), zero rows left out."""
    days_: dict[Any, dict[str, int]] = {}

    def add(key: Any, values: dict[str, Any]) -> None:
        row = days_.setdefault(key, {})
        for name, value in values.items():
            row[name] = row.get(name, 0) + int(value or 0)

    hour = extract("hour", reports.local_finish)
    missions = (
        select(
            col(Mission.branch_id),
            col(Mission.date),
            func.count().label("missions"),
            *[_counted(col(Mission.status) == s).label(s) for s in rollups.MISSION_STATUSES],
            _counted(reports.evaluated).label("evaluated"),
            _counted(reports.on_time).label("on_time"),
            _counted(reports.early).label("early"),
            _counted(reports.late).label("late"),
            _counted(and_(reports.completed, ~reports.has_window)).label("without_window"),
            _counted(and_(col(Mission.status).in_(reports.DONE), col(Mission.proof_required))).label(
                "proof_required"
            ),
            _counted(and_(col(Mission.status) == "proofed", col(Mission.proof_required))).label("proof_done"),
            *[_counted(and_(reports.completed, hour == h)).label(n) for h, n in enumerate(rollups.HOURS)],
        )
        .join(Branch, col(Branch.id) == Mission.branch_id)
        .group_by(col(Mission.branch_id), col(Mission.date))
    )
    credits = (
        select(
            col(Mission.branch_id),
            col(Mission.date),
            func.sum(CreditLedgerEntry.amount)
            .filter(col(CreditLedgerEntry.kind) == "consume")
            .label("credits_consumed"),
            func.sum(CreditLedgerEntry.amount)
            .filter(col(CreditLedgerEntry.kind) == "refund")
            .label("credits_refunded"),
        )
        .join(Mission, col(Mission.id) == CreditLedgerEntry.mission_id)
        .group_by(col(Mission.branch_id), col(Mission.date))
    )
    routes = select(
        col(Route.branch_id),
        col(Route.date),
        func.count().label("routes"),
        *[_counted(col(Route.status) == s).label(f"routes_{s}") for s in reports.ROUTE_STATUSES],
        func.sum(Route.total_distance_meters).label("route_distance"),
        func.sum(Route.total_duration_seconds).label("route_duration"),
    ).group_by(col(Route.branch_id), col(Route.date))
    per_route = (
        select(
            col(Mission.route_id),
            func.count().label("stops"),
            _counted(col(Mission.status).in_(reports.DONE)).label("delivered"),
            _counted(col(Mission.status) == "failed").label("failed"),
            _counted(reports.on_time).label("on_time"),
            _counted(reports.evaluated).label("evaluated"),
            func.coalesce(func.sum(cast(Mission.weight_kg, Numeric)), 0).label("weight"),
            func.coalesce(func.sum(cast(Mission.volume_m3, Numeric)), 0).label("volume"),
            func.coalesce(func.sum(Mission.items), 0).label("items"),
        )
        .join(Branch, col(Branch.id) == Mission.branch_id)
        .where(col(Mission.route_id).is_not(None))
        .group_by(col(Mission.route_id))
    )
    async with unit_of_work(Principal.system(tenant.id)) as uow:
        for statement in (missions, credits, routes):
            for row in await uow.fetch(statement):
                values = dict(row)
                add((values.pop("branch_id"), values.pop("date")), values)
        route_rows = {row["route_id"]: dict(row) for row in await uow.fetch(per_route)}
    nonzero = {key: row for key, row in days_.items() if any(row.values())}
    loads = {key: {k: v for k, v in row.items() if k != "route_id"} for key, row in route_rows.items()}
    return nonzero, loads


async def _rollups(tenant: Tenant) -> tuple[dict[Any, dict[str, int]], dict[Any, dict[str, Any]]]:
    figures = rollups.MISSION_FIGURES + rollups.HOURS + rollups.CREDIT_FIGURES + rollups.ROUTE_FIGURES
    figures += rollups.ROUTE_SUMS
    async with unit_of_work(Principal.system(tenant.id)) as uow:
        day_rows = await uow.fetch(select(rollups.report_day))
        route_rows = await uow.fetch(select(rollups.report_route))
    stored = {(row["branch_id"], row["date"]): {name: int(row[name]) for name in figures} for row in day_rows}
    nonzero = {key: {k: v for k, v in row.items() if v} for key, row in stored.items() if any(row.values())}
    loads = {
        row["route_id"]: {k: v for k, v in dict(row).items() if k not in ("route_id", "company_id")}
        for row in route_rows
        if any(row[k] for k in ("stops", "weight", "volume", "items"))
    }
    return nonzero, loads


class Run:
    """The company under test and what the random steps can act on."""

    def __init__(
        self, client: httpx.AsyncClient, factory: Factory, tenant: Tenant, rng: random.Random
    ) -> None:
        self.client, self.factory, self.tenant, self.rng = client, factory, tenant, rng
        self.branches: list[dict[str, Any]] = []
        self.drivers: dict[str, list[str]] = {}
        self.missions: dict[str, dict[str, Any]] = {}
        self.routes: list[str] = []

    async def call(self, method: str, path: str, body: Any = None) -> httpx.Response:
        return await self.client.request(method, f"/api/v1{path}", json=body, headers=self.tenant.headers())

    def mission_id(self) -> str | None:
        return self.rng.choice(sorted(self.missions)) if self.missions else None

    def window(self) -> dict[str, Any]:
        start, end = self.rng.choice(WINDOWS) or (None, None)
        return {"timeWindowStart": start, "timeWindowEnd": end}

    # --- steps -------------------------------------------------------------------------------
    async def create(self) -> None:
        branch = self.rng.choice(self.branches)
        body = {
            "branchId": branch["id"], "date": days.day(self.rng.choice(OFFSETS)), "latitude": 41.0,
            "longitude": 29.0, "proofRequired": self.rng.random() < 0.6, **self.window(),
            "weightKg": self.rng.choice((None, 1.5, 12.25, 0.1)), "volumeM3": self.rng.choice((None, 0.2)),
            "items": self.rng.choice((None, 1, 3)),
        }  # fmt: skip
        response = await self.call("POST", "/missions", {k: v for k, v in body.items() if v is not None})
        assert response.status_code == 201, response.text
        made = response.json()["data"]
        self.missions[made["id"]] = made

    async def _missions_in(self, *statuses: str) -> list[Any]:
        async with unit_of_work(Principal.system(self.tenant.id)) as uow:
            rows = await uow.fetch(
                select(col(Mission.id), col(Mission.branch_id), col(Mission.date), col(Mission.status))
                .where(col(Mission.status).in_(statuses))
                .order_by(col(Mission.id))
            )
        return rows

    async def route(self) -> None:
        """A route of a (branch, day) that has unassigned missions, with some of them."""
        unassigned = await self._missions_in("unassigned")
        if not unassigned:
            return
        pick = self.rng.choice(unassigned)
        same = [
            str(r["id"])
            for r in unassigned
            if (r["branch_id"], r["date"]) == (pick["branch_id"], pick["date"])
        ]
        body: dict[str, Any] = {
            "branchId": str(pick["branch_id"]), "date": pick["date"].isoformat(),
            "missionIds": self.rng.sample(same, min(len(same), self.rng.randint(1, 4))),
        }  # fmt: skip
        if self.rng.random() < 0.8:
            body["driverId"] = self.rng.choice(self.drivers[str(pick["branch_id"])])
        response = await self.call("POST", "/routes", body)
        if response.status_code == 201:
            self.routes.append(response.json()["data"]["id"])

    async def move(self) -> None:
        """Mostly a move the mission's status allows (so the run reaches deliveries), sometimes any."""
        moving = await self._missions_in(*FORWARD) if self.rng.random() < 0.8 else []
        if moving:
            row = self.rng.choice(moving)
            mission_id, status = str(row["id"]), self.rng.choice(FORWARD[row["status"]])
        else:
            mission_id, status = self.mission_id(), self.rng.choice(ANY_STATUS)
        if mission_id is None:
            return
        body: dict[str, Any] = {"status": status}
        if status == "failed":
            body["failureReason"] = self.rng.choice(REASONS)
        await self.call("PATCH", f"/missions/{mission_id}", body)

    async def proof(self) -> None:
        mission_id = self.mission_id()
        made = self.missions.get(mission_id or "")
        code = ((made or {}).get("proof") or {}).get("code")
        if code:
            body = {"code": code}
            await self.call("POST", f"/missions/{mission_id}/proof-of-delivery/verify", body)

    async def reassign(self) -> None:
        mission_id = self.mission_id()
        if mission_id is None:
            return
        target = self.rng.choice([*self.routes, None]) if self.routes else None
        await self.call("POST", f"/missions/{mission_id}/reassign", {"routeId": target})

    async def add(self) -> None:
        mission_id = self.mission_id()
        if mission_id and self.routes:
            body = {"missionIds": [mission_id]}
            await self.call("PUT", f"/routes/{self.rng.choice(self.routes)}/add-missions", body)

    async def driver(self) -> None:
        if self.routes:
            route_id = self.rng.choice(self.routes)
            driver = self.rng.choice([d for ds in self.drivers.values() for d in ds] + [None])
            await self.call("PUT", f"/routes/{route_id}/assign-driver", {"driverId": driver})

    async def edit(self) -> None:
        mission_id = self.mission_id()
        if mission_id is None:
            return
        change = self.rng.choice(("date", "branch", "window", "load"))
        if change == "date":
            body: dict[str, Any] = {"date": days.day(self.rng.choice(OFFSETS))}
        elif change == "branch":
            body = {"branchId": self.rng.choice(self.branches)["id"]}
        elif change == "window":
            body = self.window()
        else:
            body = {"weightKg": self.rng.choice((0.5, 7.75, 100.0)), "items": self.rng.randint(0, 5)}
        await self.call("PATCH", f"/missions/{mission_id}", body)

    async def delete(self) -> None:
        if self.rng.random() < 0.5 and self.routes:
            route_id = self.rng.choice(self.routes)
            if (await self.call("DELETE", f"/routes/{route_id}")).status_code == 204:
                self.routes.remove(route_id)
            return
        mission_id = self.mission_id()
        if mission_id and (await self.call("DELETE", f"/missions/{mission_id}")).status_code == 204:
            del self.missions[mission_id]

    async def zone(self) -> None:
        branch = self.rng.choice(self.branches)
        await self.call("PATCH", f"/branches/{branch['id']}", {"timezone": self.rng.choice(ZONES)})

    async def set_based(self) -> None:
        """Raw multi-row statements of the application role: the triggers see every write path."""
        statements = (
            "UPDATE mission SET finished_at = finished_at - make_interval(hours => CAST(:n AS integer)) "
            "WHERE finished_at IS NOT NULL AND id::text < :pivot",
            "UPDATE mission SET date = date + CAST(:n AS integer) "
            "WHERE status = 'unassigned' AND id::text > :pivot",
            "UPDATE mission SET status = 'cancelled' WHERE status = 'unassigned' AND route_id IS NULL "
            "AND id::text < :pivot",
            "UPDATE route SET total_distance_meters = total_distance_meters + 1000 * CAST(:n AS integer), "
            "total_duration_seconds = total_duration_seconds + 60 * CAST(:n AS integer)",
        )
        pivot = uuid.UUID(int=self.rng.getrandbits(128)).hex
        async with unit_of_work(Principal.system(self.tenant.id)) as uow:
            await uow.execute(
                text(self.rng.choice(statements)), {"n": self.rng.randint(1, 3), "pivot": pivot}
            )


async def _run(client: httpx.AsyncClient, factory: Factory, seed: int, steps: int) -> Tenant:
    rng = random.Random(seed)
    tenant = await factory.tenant(credits=1000)
    run = Run(client, factory, tenant, rng)
    for zone in ZONES[:3]:
        branch = await factory.branch(tenant, timezone=zone)
        run.branches.append(branch)
        run.drivers[branch["id"]] = [(await factory.driver(tenant, branch["id"]))["id"] for _ in range(2)]
    for _ in range(24):
        await run.create()
    weighted: list[tuple[Callable[[], Awaitable[None]], int]] = [
        (run.create, 3), (run.route, 3), (run.move, 10), (run.proof, 2), (run.reassign, 2), (run.add, 2),
        (run.driver, 1), (run.edit, 4), (run.delete, 2), (run.zone, 1), (run.set_based, 1),
    ]  # fmt: skip
    steps_, weights = zip(*weighted, strict=True)
    for step in rng.choices(steps_, weights, k=steps):
        await step()
    return tenant


async def _check(tenant: Tenant) -> dict[Any, dict[str, int]]:
    expected_days, expected_routes = await _recount(tenant)
    stored_days, stored_routes = await _rollups(tenant)
    assert stored_days == {k: {n: v for n, v in row.items() if v} for k, row in expected_days.items()}
    assert stored_routes == expected_routes
    return stored_days


@pytest.mark.parametrize("seed", [7, 2026])
async def test_rollups_equal_a_recount_after_random_changes(
    client: httpx.AsyncClient, factory: Factory, seed: int
) -> None:
    tenant = await _run(client, factory, seed, steps=110)
    other = await _run(client, factory, seed + 1, steps=20)
    stored = await _check(tenant)
    # The run reached what reports count: missions, deliveries and routes.
    assert sum(row.get("missions", 0) for row in stored.values()) > 0
    assert any(row.get("delivered") or row.get("proofed") for row in stored.values())
    assert any(row.get("routes") for row in stored.values())
    # Another company's changes never land in the first one's rows, nor the reverse.
    await _check(other)
