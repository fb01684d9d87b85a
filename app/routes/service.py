"""Routes: a vehicle's ordered day of work. Records, driver and vehicle assignment, stop order and
delete; putting missions on and taking them off goes through `dispatch`, which also charges credits.

Every answer and event shows a route with its stops (`RouteView`). Mutations start from the route
row-locked (`locked`), the lock order of `dispatch`: route, then missions, then driver/vehicle."""

from __future__ import annotations

import builtins
import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlmodel import col

from app.branches.models import Branch
from app.branches.service import register_branch_dependant
from app.core import history, outbox
from app.core.clock import utcnow
from app.core.db import UnitOfWork
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.pagination import Page
from app.core.principal import own_driver_id
from app.core.repository import Repository, branch_and_day_filters, parse_uuid
from app.core.schemas import ListQuery, to_public
from app.core.service import ResourceService
from app.depots.models import Depot
from app.depots.service import DEPOT_DEPENDANTS
from app.drivers.models import Driver
from app.drivers.service import register_driver_dependant
from app.missions import events
from app.missions.models import Mission
from app.routes import dispatch
from app.routes.models import Route
from app.routes.schemas import (
    AddMissions,
    AssignDriver,
    AssignVehicle,
    ReorderMissions,
    RouteCreate,
    RouteOut,
    RouteQuery,
    RouteStatus,
    RouteView,
)
from app.vehicles.models import Vehicle
from app.vehicles.service import register_vehicle_dependant

register_branch_dependant("routes", Route)
DEPOT_DEPENDANTS.append(("routes", Route, ("start_depot_id", "end_depot_id")))
# A completed route keeps its driver and vehicle for the record; only open ones block a delete
# (migration 0004 lets the database null the reference when one of them goes).
register_vehicle_dependant("routes", Route, "vehicle_id", Route.status != RouteStatus.COMPLETED.value)
register_driver_dependant("routes", Route, "driver_id", Route.status != RouteStatus.COMPLETED.value)

# column -> (public field, model, noun)
FLEET: dict[str, tuple[str, type[Driver] | type[Vehicle], str]] = {
    "driver_id": ("driverId", Driver, "driver"),
    "vehicle_id": ("vehicleId", Vehicle, "vehicle"),
}
UNFINISHED = "scheduled"


async def stops_by_route(uow: UnitOfWork, route_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Mission]]:
    """The stops of many routes in one query (lists, GraphQL connections)."""
    groups: dict[uuid.UUID, list[Mission]] = {i: [] for i in route_ids}
    if not route_ids:
        return groups
    rows = await uow.scalars(
        select(Mission)
        .where(col(Mission.company_id) == uow.company_id, col(Mission.route_id).in_(list(route_ids)))
        .order_by(col(Mission.route_id), col(Mission.sequence), col(Mission.created_at), col(Mission.id))
    )
    for mission in rows:
        groups[mission.route_id].append(mission)
    return groups


class RouteService(ResourceService[Route]):
    model = Route
    out = RouteOut
    resource_type = "route"
    event_prefix = "route"

    def __init__(self) -> None:
        super().__init__()
        self.branches = Repository(Branch)
        self.depots = Repository(Depot)

    def snapshot(self, record: Any) -> dict[str, Any]:
        assert isinstance(record, RouteView)
        return to_public(RouteOut, record)

    # --- reads ---------------------------------------------------------------------------
    async def get(self, uow: UnitOfWork, record_id: Any) -> RouteView:  # type: ignore[override]
        route = await self.repo.get_or_404(uow, record_id)
        return RouteView(route, await dispatch.stops_of(uow, route))

    async def locked(self, uow: UnitOfWork, record_id: Any) -> Route:
        """The route for a change: 404 as `get`, row-locked and freshly read."""
        parsed = parse_uuid(record_id)
        if parsed is not None and await self.repo.get(uow, parsed) is not None:
            return await dispatch.lock_route(uow, parsed)
        raise NotFound(f"No route with id {record_id}.")

    async def list(self, uow: UnitOfWork, query: ListQuery) -> Page[RouteView]:  # type: ignore[override]
        return await self._views(uow, await self.repo.page(uow, query, self.filters(query)))

    async def _views(self, uow: UnitOfWork, page: Page[Any]) -> Page[RouteView]:
        stops = await stops_by_route(uow, [r.id for r in page.items])
        views = [RouteView(r, stops[r.id]) for r in page.items]
        return Page(
            items=views, next_cursor=page.next_cursor, has_more=page.has_more, limit=page.limit,
            cursor_at=page.cursor,
        )  # fmt: skip

    # --- the driver app: the signed-in driver's own routes, nobody else's ------------------
    async def driver_routes(self, uow: UnitOfWork, query: RouteQuery) -> Page[RouteView]:
        """The calling driver's routes, with the list's day and status filters."""
        driven = col(Route.driver_id) == own_driver_id(uow.principal)
        return await self._views(uow, await self.repo.page(uow, query, [*self.filters(query), driven]))

    async def driver_route(self, uow: UnitOfWork, record_id: Any) -> RouteView:
        """One of the calling driver's routes; another driver's is as missing as an unknown id."""
        route = await self.repo.get(uow, record_id)
        if route is None or route.driver_id != own_driver_id(uow.principal):
            raise NotFound(f"No route with id {record_id}.")
        return RouteView(route, await dispatch.stops_of(uow, route))

    def filters(self, query: ListQuery) -> builtins.list[Any]:
        assert isinstance(query, RouteQuery)
        clauses = branch_and_day_filters(Route, query)
        if query.status:
            clauses.append(col(Route.status).in_([s.value for s in query.status]))
        if query.driver_id:
            clauses.append(Route.driver_id == query.driver_id)
        if query.vehicle_id:
            clauses.append(Route.vehicle_id == query.vehicle_id)
        return clauses

    # --- create --------------------------------------------------------------------------
    async def create(self, uow: UnitOfWork, data: RouteCreate, **extra: Any) -> RouteView:  # type: ignore[override]
        """A route, optionally with missions (in the given order), driver and vehicle. References
        are checked first (422), then the state rules (409), then credits (402); a refusal at any
        point leaves nothing behind, the route included."""
        branch = await self.branches.reference(uow, data.branch_id, "branchId")
        depots = {
            field: await self.depots.reference(uow, value, field)
            for field, value in (("startDepotId", data.start_depot_id), ("endDepotId", data.end_depot_id))
            if value is not None
        }
        fleet: dict[str, Any] = {}
        for column, value in (("driver_id", data.driver_id), ("vehicle_id", data.vehicle_id)):
            if value is not None:
                field, model, _ = FLEET[column]
                fleet[column] = await Repository(model).reference(uow, value, field)
        missions = await self._lock_missions(uow, data.mission_ids)
        for field, depot in depots.items():
            if depot.branch_id != branch.id:
                raise Conflict(
                    f"{field} names a depot of another branch.",
                    {"field": field, "branchId": str(depot.branch_id), "routeBranchId": str(branch.id)},
                )
        route = Route(
            company_id=uow.company_id,
            external_id=data.external_id,
            branch_id=branch.id,
            date=data.date,
            name=data.name or await self._default_name(uow, branch.id, data.date),
            start_depot_id=data.start_depot_id,
            end_depot_id=data.end_depot_id,
            start_time=data.start_time,
        )
        dispatch.check_placeable(route, missions)
        for column, record in fleet.items():
            await self._check_fleet(uow, route, column, record.id)
            setattr(route, column, record.id)
        if "vehicle_id" in fleet:
            dispatch.check_capacity(fleet["vehicle_id"], missions)
        route.status = dispatch.status_for(route, []).value
        await self.insert(uow, route)

        async def announce(stops: list[Mission]) -> None:
            snapshot = self.snapshot(RouteView(route, stops))
            history.record_change(uow, "route", route.id, "created", history.creation(snapshot))
            await self.emit(uow, "created", route.id, snapshot)

        if missions:
            stops = await dispatch.place(uow, route, missions, on_placed=announce)
        else:
            stops = []
            await announce(stops)
        return RouteView(route, stops)

    async def _default_name(self, uow: UnitOfWork, branch_id: uuid.UUID, day: dt.date) -> str:
        count = await uow.scalar(
            select(func.count())
            .select_from(Route)
            .where(
                col(Route.company_id) == uow.company_id,
                col(Route.branch_id) == branch_id,
                col(Route.date) == day,
            )
        )
        return f"Route {int(count or 0) + 1} {day.isoformat()}"

    async def _lock_missions(self, uow: UnitOfWork, ids: Sequence[uuid.UUID]) -> builtins.list[Mission]:
        """The missions named in a body, locked, in the body's order; unknown ids are 422s."""
        if not ids:
            return []
        found = await dispatch.lock_missions(uow, ids)
        missing = [
            {"field": f"missionIds[{i}]", "issue": "does not name a mission of your company"}
            for i, mission_id in enumerate(ids)
            if mission_id not in found
        ]
        if missing:
            raise ValidationFailed("missionIds names missions that do not exist.", missing)
        return [found[i] for i in ids]

    # --- driver and vehicle ----------------------------------------------------------------
    async def assign_driver(self, uow: UnitOfWork, route: Route, data: AssignDriver) -> RouteView:
        return await self._assign(uow, route, "driver_id", data.driver_id)

    async def assign_vehicle(self, uow: UnitOfWork, route: Route, data: AssignVehicle) -> RouteView:
        return await self._assign(uow, route, "vehicle_id", data.vehicle_id)

    async def _assign(self, uow: UnitOfWork, route: Route, column: str, value: uuid.UUID | None) -> RouteView:
        """Set or clear the route's driver or vehicle. With both set the route is `assigned`;
        clearing one sends a route that has not started back to `planned`."""
        field, model, _ = FLEET[column]
        record = await Repository(model).reference(uow, value, field) if value is not None else None
        stops = await dispatch.stops_of(uow, route)
        if getattr(route, column) == value:
            return RouteView(route, stops)  # nothing changes: no event, no history
        self._check_open(route)
        if record is not None:
            await self._check_fleet(uow, route, column, record.id)
            if isinstance(record, Vehicle):
                dispatch.check_capacity(record, stops)
        before = self.snapshot(RouteView(route, stops))
        now = utcnow()
        setattr(route, column, value)
        route.updated_at = now
        for mission in stops:
            # driverId/vehicleId of a mission are its route's: bump updatedAt so incremental
            # sync (`updatedSince`) picks the change up.
            mission.updated_at = now
            events.follow_route(mission, route.driver_id, route.vehicle_id)
        await uow.flush()
        await dispatch.refresh_status(uow, route, stops)
        view = RouteView(route, stops)
        after = self.snapshot(view)
        history.record_change(uow, "route", route.id, "assigned", history.diff(before, after))
        await self.emit(uow, "assigned", route.id, after)
        return view

    async def _check_fleet(self, uow: UnitOfWork, route: Route, column: str, record_id: uuid.UUID) -> None:
        """Active, of the route's branch, and on no other route that day. The row lock on the driver
        (vehicle) queues two routes racing for it; the second then sees the first's route."""
        field, model, noun = FLEET[column]
        record = await uow.scalar(
            select(model)
            .where(col(model.id) == record_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if record.status != "active":
            raise Conflict(
                f"Only an active {noun} can be assigned.", {"field": field, "status": record.status}
            )
        if record.branch_id != route.branch_id:
            raise Conflict(
                f"The {noun} belongs to another branch than the route.",
                {"field": field, "branchId": str(record.branch_id), "routeBranchId": str(route.branch_id)},
            )
        clash = await uow.scalar(
            select(col(Route.id))
            .where(
                col(Route.company_id) == uow.company_id,
                getattr(Route, column) == record_id,
                col(Route.date) == route.date,
                col(Route.id) != route.id,
            )
            .order_by(col(Route.created_at))
            .limit(1)
        )
        if clash is not None:
            raise Conflict(
                f"The {noun} already has a route on {route.date.isoformat()}.",
                {"field": field, "conflictingRouteId": str(clash)},
            )

    @staticmethod
    def _check_open(route: Route) -> None:
        if route.status == RouteStatus.COMPLETED:
            raise Conflict("A completed route can no longer be changed.", {"status": route.status})

    # --- stops -----------------------------------------------------------------------------
    async def add_missions(self, uow: UnitOfWork, route: Route, data: AddMissions) -> RouteView:
        """Schedule missions onto the route at `position` (default: the end). Each mission emits
        `mission.status_changed`; the route, whose stops changed, emits `route.reordered`."""
        count = int(
            await uow.scalar(
                select(func.count())
                .select_from(Mission)
                .where(col(Mission.company_id) == uow.company_id, col(Mission.route_id) == route.id)
            )
            or 0
        )
        if data.position is not None and data.position > count + 1:
            raise ValidationFailed.field("position", f"must be between 1 and {count + 1}")
        missions = await self._lock_missions(uow, data.mission_ids)
        self._check_open(route)
        before = self.snapshot(RouteView(route, await dispatch.stops_of(uow, route)))
        stops = await dispatch.place(uow, route, missions, data.position)
        return await self._reordered(uow, route, stops, before)

    async def reorder(self, uow: UnitOfWork, route: Route, data: ReorderMissions) -> RouteView:
        """A new stop order: exactly the route's current missions, else 422 naming what is off."""
        stops = await dispatch.stops_of(uow, route)
        current = {m.id: m for m in stops}
        wanted = set(data.mission_ids)
        issues = [
            {"field": f"missionIds[{i}]", "issue": f"mission {mission_id} is not on this route"}
            for i, mission_id in enumerate(data.mission_ids)
            if mission_id not in current
        ] + [
            {"field": "missionIds", "issue": f"is missing mission {m.id} of this route"}
            for m in stops
            if m.id not in wanted
        ]
        if issues:
            raise ValidationFailed(
                "missionIds must list exactly the route's missions, in the new order.", issues
            )
        ordered = [current[i] for i in data.mission_ids]
        if [m.id for m in ordered] == [m.id for m in stops]:
            return RouteView(route, stops)  # same order: nothing changes
        self._check_open(route)
        before = self.snapshot(RouteView(route, stops))
        await dispatch.recompute(uow, route, ordered)
        return await self._reordered(uow, route, ordered, before)

    async def _reordered(
        self, uow: UnitOfWork, route: Route, stops: builtins.list[Mission], before: dict[str, Any]
    ) -> RouteView:
        view = RouteView(route, stops)
        after = self.snapshot(view)
        changes = [{"field": "stops", "from": [s["missionId"] for s in before["stops"]],
                    "to": [s["missionId"] for s in after["stops"]]}]  # fmt: skip
        history.record_change(uow, "route", route.id, "reordered", changes)
        await self.emit(uow, "reordered", route.id, after)
        return view

    # --- delete ----------------------------------------------------------------------------
    async def delete(self, uow: UnitOfWork, record: Any) -> None:
        """Refused while a mission is in progress. Scheduled missions go back to `unassigned`
        (their credit stays spent: taking off does not refund); finished ones (delivered, proofed,
        failed) keep their status and leave the route (`routeId` null), and their executions stay."""
        route: Route = record
        stops = await dispatch.stops_of(uow, route)
        running = [str(m.id) for m in stops if m.status == "in_progress"]
        if running:
            raise Conflict(
                "A route with a mission in progress cannot be deleted.",
                {"status": "in_progress", "missionIds": running},
            )
        snapshot = self.snapshot(RouteView(route, stops))
        moved = [{"field": "routeId", "from": str(route.id), "to": None}]
        for mission in stops:
            previous = mission.status
            mission.route_id = None
            mission.sequence = None
            mission.updated_at = utcnow()
            events.follow_route(mission, None, None)
            if previous == UNFINISHED:
                mission.status = "unassigned"
                mission.eta = mission.etd = None
                mission.distance_from_previous_meters = mission.duration_from_previous_seconds = None
                await events.status_changed(uow, mission, previous, extra=moved)
            else:
                history.record_change(uow, "mission", mission.id, "reassigned", moved)
                await outbox.record_event(
                    uow, "mission.updated", "mission", mission.id, events.snapshot(mission)
                )
        await uow.flush()
        await uow.delete(route)
        history.record_change(uow, "route", route.id, "deleted", [])
        await self.emit(uow, "deleted", route.id, snapshot)


route_service = RouteService()
