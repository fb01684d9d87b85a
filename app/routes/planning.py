"""Planning with the optimizer: the previews (`plan`, `plan_mission_route`); saving a plan is
`app/routes/optimizing.py`, run as a job by `app/optimization_jobs`.

The records of a branch and day become a `vrp.Problem` (branch-local times as seconds from
midnight); its solution becomes routes whose timing comes from `plan_timing`, the same function
that times persisted routes, so a preview shows the ETAs the saved route will show."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlmodel import col

from app.assignments.models import VehicleDriverAssignment
from app.branches.models import Branch
from app.core import metrics, processes
from app.core.db import UnitOfWork
from app.core.errors import Conflict, ValidationFailed
from app.core.repository import Repository
from app.credits.service import credit_service
from app.depots.models import Depot
from app.drivers.models import Driver
from app.missions.models import Mission
from app.optimization import vrp
from app.optimization.matrix import MatrixProvider, default_provider
from app.routes.models import Route
from app.routes.schemas import (
    LoadOut,
    PlanMissionRoute,
    PlannedRouteOut,
    PlannedStopOut,
    PlanOptions,
    PlanRoutes,
    RoutePlanOut,
    UnassignedOut,
    UnassignedReason,
)
from app.routes.timing import DEFAULT_START, StopInput, plan_timing
from app.settings import get_settings
from app.vehicles.models import Vehicle

DAY = 86_400
FINISHED = ("delivered", "proofed", "failed", "cancelled")
SCALE = 1000  # kg -> g, m3 -> litres: the solver's loads are integers


@dataclass
class Fleet:
    vehicle: Vehicle | None  # None: plan-route without a vehicle (no limits)
    driver: Driver | None


@dataclass
class Setting:
    """Everything a solve needs, read from the database."""

    branch: Branch
    day: dt.date
    missions: list[Mission]
    fleet: list[Fleet]
    start: Depot | None
    end: Depot | None
    start_time: dt.time | None
    time_limit: float
    engine: str


def _seconds(value: dt.time) -> int:
    return value.hour * 3600 + value.minute * 60 + value.second


def _clock(seconds: int) -> dt.time:
    seconds = max(0, min(seconds, DAY - 60))
    return dt.time(seconds // 3600, seconds % 3600 // 60)


def _up(value: float | None) -> int:
    return math.ceil(value * SCALE - 1e-6) if value else 0


def _down(value: float | None) -> int | None:
    return None if value is None else math.floor(value * SCALE + 1e-6)


def route_start(setting: Setting, fleet: Fleet) -> dt.time:
    """Explicit start time, else the later of depot opening and shift start, else 08:00."""
    if setting.start_time is not None:
        return setting.start_time
    candidates = [
        t for t in (setting.start.opening_time if setting.start else None,
                    fleet.driver.shift_start if fleet.driver else None) if t is not None
    ]  # fmt: skip
    return max(candidates) if candidates else DEFAULT_START


def problem_of(setting: Setting, provider: MatrixProvider) -> vrp.Problem:
    depots = [d for d in (setting.start, setting.end) if d is not None]
    points = [(d.latitude, d.longitude) for d in depots] + [
        (m.latitude, m.longitude) for m in setting.missions
    ]
    matrix = provider.matrix(points)
    start = 0 if setting.start else None
    end = (len(depots) - 1) if setting.end else None
    first = len(depots)
    jobs_ = [
        vrp.Job(
            location=first + i,
            service=m.service_duration_seconds,
            window=(_seconds(m.time_window_start) if m.time_window_start else 0,
                    _seconds(m.time_window_end) if m.time_window_end else vrp.HORIZON)
            if m.time_window_start or m.time_window_end else None,
            demand=(_up(m.weight_kg), _up(m.volume_m3), m.items or 0),
            priority=m.priority,
        )
        for i, m in enumerate(setting.missions)
    ]  # fmt: skip
    vehicles = []
    for fleet in setting.fleet:
        closing = [t for t in (setting.end.closing_time if setting.end else None,
                               fleet.driver.shift_end if fleet.driver else None)
                   if t is not None]  # fmt: skip
        v = fleet.vehicle
        vehicles.append(
            vrp.Vehicle(
                start=start, end=end,
                capacity=(_down(v.capacity_weight_kg), _down(v.capacity_volume_m3), v.capacity_items)
                if v else (None, None, None),
                shift=(0, _seconds(min(closing)) if closing else vrp.HORIZON),
                start_time=_seconds(route_start(setting, fleet)),
            )
        )  # fmt: skip
    return vrp.Problem(matrix.distances, matrix.durations, jobs_, vehicles, setting.time_limit)


async def solve(setting: Setting) -> tuple[vrp.Solution, MatrixProvider]:
    provider = default_provider()
    problem = replace(problem_of(setting, provider), time_limit_seconds=solve_seconds(setting))
    # The solver holds a CPU for its whole time limit: in a process of its own, so this one keeps
    # serving (a thread would still hold this interpreter's lock). Measured here, in the process
    # that serves the metrics.
    with metrics.solver_run(setting.engine) as run:
        solution = await processes.run(vrp.solve, problem, setting.engine)
        run.unassigned = len(solution.dropped)
    return solution, provider


def solve_seconds(setting: Setting) -> float:
    """How long the solver searches: small runs stop sooner (the requested limit is a ceiling), so
    a preview of a few stops answers at once."""
    return min(setting.time_limit, 0.5 + 0.05 * len(setting.missions))


def to_plan(setting: Setting, solution: vrp.Solution, provider: MatrixProvider) -> list[PlannedRouteOut]:
    start = (setting.start.latitude, setting.start.longitude) if setting.start else None
    end = (setting.end.latitude, setting.end.longitude) if setting.end else None
    planned = []
    for route in solution.routes:
        fleet = setting.fleet[route.vehicle]
        stops = [setting.missions[j] for j in route.jobs]
        timing = plan_timing(
            setting.day, setting.branch.timezone, route_start(setting, fleet), start, end,
            [StopInput((m.latitude, m.longitude), m.service_duration_seconds, m.time_window_start,
                       m.time_window_end) for m in stops],
            provider,
        )  # fmt: skip
        planned.append(
            PlannedRouteOut(
                vehicle_id=fleet.vehicle.id if fleet.vehicle else None,
                driver_id=fleet.driver.id if fleet.driver else None,
                start_depot_id=setting.start.id if setting.start else None,
                end_depot_id=setting.end.id if setting.end else None,
                start_time=route_start(setting, fleet),
                stops=[
                    PlannedStopOut(
                        mission_id=m.id, sequence=n, eta=t.eta, etd=t.etd,
                        distance_from_previous_meters=t.distance_from_previous_meters,
                        duration_from_previous_seconds=t.duration_from_previous_seconds,
                    )
                    for n, (m, t) in enumerate(zip(stops, timing.stops, strict=True), start=1)
                ],
                total_distance_meters=timing.total_distance_meters,
                total_duration_seconds=timing.total_duration_seconds,
                load=LoadOut(
                    weight_kg=round(sum(m.weight_kg or 0 for m in stops), 3),
                    volume_m3=round(sum(m.volume_m3 or 0 for m in stops), 3),
                    items=sum(m.items or 0 for m in stops),
                ),
            )
        )  # fmt: skip
    return planned


def unassigned(setting: Setting, solution: vrp.Solution) -> list[UnassignedOut]:
    return [
        UnassignedOut(mission_id=setting.missions[j].id, reason=UnassignedReason(reason))
        for j, reason in sorted(solution.dropped.items())
    ]


# --- reading the setting ------------------------------------------------------------------------


async def _depots(uow: UnitOfWork, branch: Branch, options: PlanOptions) -> tuple[Depot | None, Depot | None]:
    repo = Repository(Depot)
    found: dict[str, Depot | None] = {}
    for field, value in (("startDepotId", options.start_depot_id), ("endDepotId", options.end_depot_id)):
        depot = await repo.reference(uow, value, field) if value is not None else None
        if depot is not None and depot.branch_id != branch.id:
            raise Conflict(f"{field} names a depot of another branch.", {"field": field})
        found[field] = depot
    start = found["startDepotId"]
    if start is None and options.start_depot_id is None and options.end_depot_id is None:
        start = await uow.scalar(
            select(Depot)
            .where(col(Depot.company_id) == uow.company_id, col(Depot.branch_id) == branch.id)
            .order_by(col(Depot.created_at), col(Depot.id))
            .limit(1)
        )
    return start, found["endDepotId"] or start


async def _drivers(
    uow: UnitOfWork, vehicles: Sequence[Vehicle], day: dt.date, tz: str
) -> dict[uuid.UUID, Driver]:
    """The driver each vehicle is assigned to at the start of `day` (branch time), when that driver
    is active and has no route that day."""
    if not vehicles:
        return {}
    from zoneinfo import ZoneInfo

    noon = dt.datetime.combine(day, dt.time(12), ZoneInfo(tz))
    rows = (
        await uow.execute(
            select(col(VehicleDriverAssignment.vehicle_id), Driver)
            .join(Driver, col(Driver.id) == VehicleDriverAssignment.driver_id)
            .where(
                col(VehicleDriverAssignment.company_id) == uow.company_id,
                col(VehicleDriverAssignment.vehicle_id).in_([v.id for v in vehicles]),
                col(VehicleDriverAssignment.starts_at) <= noon,
                (col(VehicleDriverAssignment.ends_at).is_(None))
                | (col(VehicleDriverAssignment.ends_at) > noon),
                col(Driver.status) == "active",
                ~select(col(Route.id))
                .where(col(Route.driver_id) == Driver.id, col(Route.date) == day)
                .exists(),
            )
        )
    ).all()
    return {row[0]: row[1] for row in rows}


async def plan_setting(uow: UnitOfWork, data: PlanRoutes) -> Setting:
    branch = await Repository(Branch).reference(uow, data.branch_id, "branchId")
    start, end = await _depots(uow, branch, data)
    if data.vehicle_ids is not None:
        vehicles = [await Repository(Vehicle).reference(uow, v, f"vehicleIds[{i}]")
                    for i, v in enumerate(data.vehicle_ids)]  # fmt: skip
        for vehicle in vehicles:
            if vehicle.status != "active" or vehicle.branch_id != branch.id:
                raise Conflict(
                    "Only active vehicles of the branch can be planned.",
                    {
                        "vehicleId": str(vehicle.id),
                        "status": vehicle.status,
                        "branchId": str(vehicle.branch_id),
                    },
                )
    else:
        vehicles = await uow.scalars(
            select(Vehicle)
            .where(
                col(Vehicle.company_id) == uow.company_id, col(Vehicle.branch_id) == branch.id,
                col(Vehicle.status) == "active",
                ~select(col(Route.id))
                .where(col(Route.vehicle_id) == Vehicle.id, col(Route.date) == data.date)
                .exists(),
            )
            .order_by(col(Vehicle.created_at), col(Vehicle.id))
        )  # fmt: skip
    if data.mission_ids is not None:
        missions = await _missions(uow, data.mission_ids)
        for mission in missions:
            if mission.status != "unassigned" or mission.branch_id != branch.id or mission.date != data.date:
                raise Conflict(
                    f"Mission {mission.id} is not an unassigned mission of the branch and date.",
                    {"missionId": str(mission.id), "status": mission.status},
                )
    else:
        missions = await uow.scalars(
            select(Mission)
            .where(
                col(Mission.company_id) == uow.company_id, col(Mission.branch_id) == branch.id,
                col(Mission.date) == data.date, col(Mission.status) == "unassigned",
            )
            .order_by(col(Mission.created_at), col(Mission.id))
        )  # fmt: skip
    drivers = await _drivers(uow, vehicles, data.date, branch.timezone)
    fleet = [Fleet(v, drivers.get(v.id)) for v in vehicles]
    return Setting(
        branch, data.date, missions, fleet, start, end, data.start_time, data.time_limit_seconds,
        engine_of(data),
    )  # fmt: skip


def engine_of(options: PlanOptions) -> str:
    return options.engine.value if options.engine else get_settings().optimizer_engine


async def _missions(uow: UnitOfWork, ids: Sequence[uuid.UUID]) -> list[Mission]:
    rows = {
        m.id: m
        for m in await uow.scalars(
            select(Mission).where(col(Mission.company_id) == uow.company_id, col(Mission.id).in_(list(ids)))
        )
    }
    missing = [
        {"field": f"missionIds[{i}]", "issue": "does not name a mission of your company"}
        for i, mission_id in enumerate(ids)
        if mission_id not in rows
    ]
    if missing:
        raise ValidationFailed("missionIds names missions that do not exist.", missing)
    return [rows[i] for i in ids]


# --- previews -------------------------------------------------------------------------------------


async def _answer(uow: UnitOfWork, setting: Setting) -> RoutePlanOut:
    solution, provider = await solve(setting)
    routes = to_plan(setting, solution, provider)
    by_id = {m.id: m for m in setting.missions}
    required = sum(1 for r in routes for s in r.stops if not by_id[s.mission_id].credit_charged)
    return RoutePlanOut(
        routes=routes, unassigned=unassigned(setting, solution),
        credits_required=required, credits_remaining=await credit_service.balance(uow),
    )  # fmt: skip


async def plan(uow: UnitOfWork, data: PlanRoutes) -> RoutePlanOut:
    """Preview routes for a branch and day: persists nothing and charges nothing."""
    return await _answer(uow, await plan_setting(uow, data))


async def plan_mission_route(uow: UnitOfWork, data: PlanMissionRoute) -> RoutePlanOut:
    """The best order of the given missions as one route (one vehicle, or none: no limits)."""
    missions = await _missions(uow, data.mission_ids)
    first = missions[0]
    for mission in missions:
        if mission.branch_id != first.branch_id or mission.date != first.date:
            raise Conflict(
                "plan-route takes missions of one branch and date.",
                {
                    "missionId": str(mission.id),
                    "date": mission.date.isoformat(),
                    "branchId": str(mission.branch_id),
                },
            )
        if mission.status in FINISHED:
            raise Conflict(f"Mission {mission.id} is {mission.status}.", {"missionId": str(mission.id)})
    branch = await uow.scalar(select(Branch).where(col(Branch.id) == first.branch_id))
    vehicle = None
    if data.vehicle_id is not None:
        vehicle = await Repository(Vehicle).reference(uow, data.vehicle_id, "vehicleId")
        if vehicle.branch_id != branch.id:
            raise Conflict("The vehicle belongs to another branch than the missions.", {"field": "vehicleId"})
    start, end = await _depots(uow, branch, data)
    drivers = await _drivers(uow, [vehicle] if vehicle else [], first.date, branch.timezone)
    fleet = [Fleet(vehicle, drivers.get(vehicle.id) if vehicle else None)]
    setting = Setting(
        branch, first.date, missions, fleet, start, end, data.start_time, data.time_limit_seconds,
        engine_of(data),
    )  # fmt: skip
    return await _answer(uow, setting)
