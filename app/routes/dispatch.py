"""Putting missions on routes and taking them off: the one place where missions move between
`unassigned` and `scheduled`, credits are charged, stops are renumbered and timing is recomputed.

Lock order is route, then missions by id, so concurrent dispatch operations queue rather than
deadlock."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from app.branches.models import Branch
from app.core import history, outbox
from app.core.clock import utcnow
from app.core.db import UnitOfWork
from app.core.errors import Conflict, ValidationFailed
from app.core.schemas import to_public
from app.credits.service import credit_service
from app.depots.models import Depot
from app.missions import events
from app.missions.models import Mission
from app.missions.status import ROUTE_DONE
from app.optimization.matrix import MatrixProvider, default_provider
from app.routes.models import Route
from app.routes.schemas import RouteOut, RouteStatus, RouteView
from app.routes.timing import DEFAULT_START, StopInput, plan_timing
from app.vehicles.models import Vehicle


async def stops_of(uow: UnitOfWork, route: Route) -> list[Mission]:
    return await uow.scalars(
        select(Mission)
        .where(col(Mission.company_id) == uow.company_id, col(Mission.route_id) == route.id)
        .order_by(col(Mission.sequence), col(Mission.created_at), col(Mission.id))
    )


async def lock_route(uow: UnitOfWork, route_id: uuid.UUID) -> Route:
    """Row-lock the route and re-read it: what another transaction committed while this one waited
    for the lock (a driver, a status) must not be overwritten with the stale copy in the session."""
    await uow.flush()
    route = await uow.scalar(
        select(Route)
        .where(col(Route.company_id) == uow.company_id, col(Route.id) == route_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert route is not None
    return route


async def lock_missions(uow: UnitOfWork, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Mission]:
    rows = await uow.scalars(
        select(Mission)
        .where(col(Mission.company_id) == uow.company_id, col(Mission.id).in_(list(ids)))
        .order_by(col(Mission.id))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {m.id: m for m in rows}


def route_snapshot(route: Route, stops: list[Mission]) -> dict[str, Any]:
    return to_public(RouteOut, RouteView(route, stops))


def check_placeable(route: Route, missions: Sequence[Mission]) -> None:
    """Missions joining a route must be unassigned and of the route's branch and date."""
    for mission in missions:
        problem = None
        if mission.status != "unassigned":
            problem = f"is {mission.status}, not unassigned"
        elif mission.branch_id != route.branch_id:
            problem = "belongs to another branch than the route"
        elif mission.date != route.date:
            problem = f"is dated {mission.date}, the route {route.date}"
        if problem:
            raise Conflict(
                f"Mission {mission.id} {problem}.",
                {"missionId": str(mission.id), "status": mission.status, "routeId": str(route.id)},
            )


# (public dimension, mission load field, vehicle capacity field)
CAPACITIES = (
    ("weightKg", "weight_kg", "capacity_weight_kg"),
    ("volumeM3", "volume_m3", "capacity_volume_m3"),
    ("items", "items", "capacity_items"),
)


def check_capacity(vehicle: Vehicle, missions: Sequence[Mission]) -> None:
    """The summed load of `missions` fits the vehicle (null capacity = unlimited, null load = 0);
    else 409 with the first dimension that overflows."""
    for dimension, load_field, capacity_field in CAPACITIES:
        capacity = getattr(vehicle, capacity_field)
        if capacity is None:
            continue
        load = sum(getattr(m, load_field) or 0 for m in missions)
        if load > capacity + 1e-9:
            load = round(load, 3) if isinstance(load, float) else load
            raise Conflict(
                f"The route's {dimension} load {load} exceeds the vehicle's capacity {capacity}.",
                {"dimension": dimension, "load": load, "capacity": capacity, "vehicleId": str(vehicle.id)},
            )


def insert_at(
    stops: list[Mission], new: Sequence[Mission], position: int | None, field: str = "position"
) -> None:
    """Insert `new` before the stop now at 1-based `position` (default: at the end)."""
    if position is None:
        stops.extend(new)
        return
    if not 1 <= position <= len(stops) + 1:
        raise ValidationFailed.field(field, f"must be between 1 and {len(stops) + 1}")
    stops[position - 1 : position - 1] = list(new)


async def place(
    uow: UnitOfWork, route: Route, missions: Sequence[Mission], position: int | None = None, *,
    action: str = "status_changed", on_placed: Callable[[list[Mission]], Awaitable[None]] | None = None,
    record: bool = True,
) -> list[Mission]:  # fmt: skip
    """Schedule `missions` onto `route` at `position`; charges a credit for each one never charged.
    Nothing changes when a position is out of range (422), a mission may not join or the route's
    vehicle would be overloaded (409), or credits run short (402). `on_placed` runs once the stops
    are recomputed and before the missions' events, so a new route is announced before its stops."""
    check_placeable(route, missions)
    stops = await stops_of(uow, route)
    insert_at(stops, missions, position)
    if route.vehicle_id is not None:
        vehicle = await uow.scalar(select(Vehicle).where(col(Vehicle.id) == route.vehicle_id))
        if vehicle is not None:
            check_capacity(vehicle, stops)
    uncharged = [m.id for m in missions if not m.credit_charged]
    await credit_service.consume(uow, uncharged, f"scheduled on route {route.name}")
    for mission in missions:
        mission.route_id = route.id
        mission.credit_charged = True
        mission.status = "scheduled"
        mission.updated_at = utcnow()
        events.follow_route(mission, route.driver_id, route.vehicle_id)
    await recompute(uow, route, stops)
    if on_placed is not None:
        await on_placed(stops)
    # record=False: the caller (reassign) records history and events with the real previous state.
    for mission in missions if record else ():
        extra = [{"field": "routeId", "from": None, "to": str(route.id)}]
        await events.status_changed(uow, mission, "unassigned", action=action, extra=extra)
    await refresh_status(uow, route, stops)
    return stops


async def take_off(uow: UnitOfWork, mission: Mission) -> Route | None:
    """Remove `mission` from its route (its status is the caller's business); recomputes the route."""
    if mission.route_id is None:
        return None
    route = await lock_route(uow, mission.route_id)
    mission.route_id = None
    mission.sequence = None
    mission.eta = mission.etd = None
    mission.distance_from_previous_meters = mission.duration_from_previous_seconds = None
    mission.updated_at = utcnow()
    events.follow_route(mission, None, None)
    stops = [m for m in await stops_of(uow, route) if m.id != mission.id]
    await uow.flush()
    await recompute(uow, route, stops)
    return route


async def recompute(
    uow: UnitOfWork, route: Route, stops: list[Mission] | None = None, provider: MatrixProvider | None = None
) -> list[Mission]:
    """Renumber the route's stops 1..n and recompute every ETA, leg and the route's totals."""
    stops = stops if stops is not None else await stops_of(uow, route)
    branch = await uow.scalar(select(Branch).where(col(Branch.id) == route.branch_id))
    depot_ids = [d for d in (route.start_depot_id, route.end_depot_id) if d]
    depots = (
        {d.id: d for d in await uow.scalars(select(Depot).where(col(Depot.id).in_(depot_ids)))}
        if depot_ids
        else {}
    )
    start = depots.get(route.start_depot_id) if route.start_depot_id else None
    end = depots.get(route.end_depot_id) if route.end_depot_id else None
    start_time = route.start_time or (start.opening_time if start and start.opening_time else DEFAULT_START)
    timing = plan_timing(
        route.date,
        branch.timezone if branch else "UTC",
        start_time,
        (start.latitude, start.longitude) if start else None,
        (end.latitude, end.longitude) if end else None,
        [StopInput((m.latitude, m.longitude), m.service_duration_seconds, m.time_window_start,
                   m.time_window_end) for m in stops],
        provider or default_provider(),
    )  # fmt: skip
    for sequence, (mission, stop) in enumerate(zip(stops, timing.stops, strict=True), start=1):
        mission.sequence = sequence
        mission.eta, mission.etd = stop.eta, stop.etd
        mission.distance_from_previous_meters = stop.distance_from_previous_meters
        mission.duration_from_previous_seconds = stop.duration_from_previous_seconds
    route.total_distance_meters = timing.total_distance_meters if stops else 0
    route.total_duration_seconds = timing.total_duration_seconds if stops else 0
    route.updated_at = utcnow()
    await uow.flush()
    return stops


def status_for(route: Route, stops: Sequence[Mission]) -> RouteStatus:
    if stops and all(m.status in ROUTE_DONE for m in stops):
        return RouteStatus.COMPLETED
    if route.started_at is not None or any(
        m.status == "in_progress" or m.status in ROUTE_DONE for m in stops
    ):
        return RouteStatus.IN_PROGRESS
    return RouteStatus.ASSIGNED if route.driver_id and route.vehicle_id else RouteStatus.PLANNED


async def refresh_status(uow: UnitOfWork, route: Route, stops: list[Mission] | None = None) -> None:
    """Route status follows its missions; `route.completed` is emitted the first time only."""
    stops = stops if stops is not None else await stops_of(uow, route)
    target = status_for(route, stops)
    if target == route.status:
        return
    previous = route.status
    route.status = target.value
    now = utcnow()
    if target == RouteStatus.IN_PROGRESS and route.started_at is None:
        route.started_at = now
    first_completion = target == RouteStatus.COMPLETED and route.completed_at is None
    if first_completion:
        route.completed_at = now
    route.updated_at = now
    await uow.flush()
    history.record_change(
        uow, "route", route.id, "status_changed", [{"field": "status", "from": previous, "to": target.value}]
    )
    if first_completion:
        await outbox.record_event(uow, "route.completed", "route", route.id, route_snapshot(route, stops))
