"""Missions: create, change, delete, status moves through PATCH, reassignment and proof codes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select
from sqlmodel import col

from app.branches.models import Branch
from app.branches.service import register_branch_dependant
from app.core import history, outbox
from app.core.clock import utcnow
from app.core.db import UnitOfWork
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.models import new_id
from app.core.pagination import Page, decode_cursor, encode_cursor
from app.core.principal import own_driver_id
from app.core.repository import Repository, branch_and_day_filters
from app.core.schemas import ListQuery
from app.core.service import ResourceService
from app.credits.service import credit_service
from app.drivers.models import Driver
from app.missions import events, lifecycle, proof
from app.missions.models import Mission
from app.missions.schemas import (
    DistributionOut,
    DistributionQuery,
    DistributionRouteOut,
    DriverSummaryOut,
    HistoryQuery,
    MissionCreate,
    MissionOut,
    MissionQuery,
    MissionReassign,
    MissionSummaryOut,
    MissionUpdate,
    RouteSummaryOut,
    VehicleSummaryOut,
)
from app.missions.schemas import MissionStatus as S
from app.missions.status import FINAL
from app.routes import dispatch
from app.routes.models import Route
from app.vehicles.models import Vehicle

register_branch_dependant("missions", Mission)

# Fields that move the stop on its route: changing them recomputes the route's timing.
TIMING_FIELDS = frozenset(
    {"latitude", "longitude", "time_window_start", "time_window_end", "service_duration_seconds"}
)
# What may still change on a finished mission: integrators' bookkeeping, never the job itself.
EDITABLE_WHEN_FINAL = frozenset({"external_id", "notes"})


@dataclass
class CreatedMission:
    """A mission with the proof code made for it, which only this answer reveals."""

    mission: Mission
    proof_code: str | None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.mission, name)


def conditions(uow: UnitOfWork, query: Any) -> list[Any]:
    """The WHERE clauses of a mission list or export (the list pages by its cursor on top)."""
    clauses = branch_and_day_filters(Mission, query)
    if query.status:
        clauses.append(col(Mission.status).in_([s.value for s in query.status]))
    if query.route_id:
        clauses.append(Mission.route_id == query.route_id)
    if query.driver_id:
        clauses.append(
            col(Mission.route_id).in_(
                select(col(Route.id)).where(
                    col(Route.company_id) == uow.company_id, col(Route.driver_id) == query.driver_id
                )
            )
        )
    return clauses


class MissionService(ResourceService[Mission]):
    model = Mission
    out = MissionOut
    resource_type = "mission"
    event_prefix = "mission"

    def __init__(self) -> None:
        super().__init__()
        self.branches = Repository(Branch)
        self.routes = Repository(Route)

    def snapshot(self, record: Mission) -> dict[str, Any]:
        return events.snapshot(record)

    async def list(self, uow: UnitOfWork, query: ListQuery) -> Page[Mission]:
        return await self.repo.page(uow, query, conditions(uow, query))

    # --- create --------------------------------------------------------------------------------
    async def create(self, uow: UnitOfWork, data: MissionCreate, **extra: Any) -> CreatedMission:  # type: ignore[override]
        """A new unassigned mission; one needing proof gets its 5-digit code, revealed only here."""
        branch = await self.branches.reference(uow, data.branch_id, "branchId")
        mission_id = new_id()
        code = proof.new_code() if data.proof_required else None
        values = {**data.model_dump(), **extra}
        sent_to = data.customer_phone or data.customer_email
        values.update(proof.fields(mission_id, code, data.date, branch.timezone, sent_to))
        record = Mission(id=mission_id, company_id=uow.company_id, **values)
        await self.insert(uow, record)
        events.follow_route(record, None, None)
        snapshot = self.snapshot(record)
        history.record_change(uow, self.resource_type, record.id, "created", history.creation(snapshot))
        await self.emit(uow, "created", record.id, snapshot)
        return CreatedMission(record, code)

    # --- update --------------------------------------------------------------------------------
    async def update(self, uow: UnitOfWork, record: Mission, data: MissionUpdate) -> Mission:  # type: ignore[override]
        """Field changes, then the status move if one is asked. A finished mission keeps its job
        fields; a mission on a route keeps its branch and date (take it off first)."""
        changes = data.changes()
        target = changes.pop("status", None)
        failure_reason = changes.pop("failure_reason", None)
        if failure_reason is not None and target != S.FAILED:
            raise ValidationFailed.field("failureReason", 'is only accepted with status "failed"')
        record = await self._lock(uow, record)
        if changes:
            await self.check_update(uow, record, changes)
            route_timing = record.route_id is not None and bool(TIMING_FIELDS & changes.keys())
            record = await self.apply(
                uow, record, {**changes, **await self._proof_changes(uow, record, changes)}
            )
            if route_timing and record.route_id is not None:
                route = await dispatch.lock_route(uow, record.route_id)
                await dispatch.recompute(uow, route)
        if target is not None and target != record.status:
            # The same status again is an integrator re-sending its state: nothing to do.
            await lifecycle.move(uow, record, S(target), failure_reason=failure_reason, via_patch=True)
        return record

    async def check_update(self, uow: UnitOfWork, record: Mission, changes: dict[str, Any]) -> None:
        finished = S(record.status) in FINAL or (record.status == S.DELIVERED and not record.proof_required)
        locked = sorted(set(changes) - EDITABLE_WHEN_FINAL)
        if finished and locked:
            raise Conflict(
                f"A {record.status} mission is finished; only externalId and notes may change.",
                {"status": record.status, "fields": [_camel(f) for f in locked]},
            )
        if record.route_id is not None and {"branch_id", "date"} & changes.keys():
            moved = [f for f in ("branch_id", "date") if f in changes and changes[f] != getattr(record, f)]
            if moved:
                raise Conflict(
                    "A mission on a route keeps its branch and date; take it off the route first "
                    "(POST /missions/:id/reassign with routeId null).",
                    {"routeId": str(record.route_id), "fields": [_camel(f) for f in moved]},
                )
        if "branch_id" in changes:
            await self.branches.reference(uow, changes["branch_id"], "branchId")
        start = changes.get("time_window_start", record.time_window_start)
        end = changes.get("time_window_end", record.time_window_end)
        if start is not None and end is not None and start >= end:
            if "time_window_end" in changes or "time_window_start" not in changes:
                raise ValidationFailed.field("timeWindowEnd", "must be after timeWindowStart")
            raise ValidationFailed.field("timeWindowStart", "must be before timeWindowEnd")

    async def _proof_changes(
        self, uow: UnitOfWork, record: Mission, changes: dict[str, Any]
    ) -> dict[str, Any]:
        """Keep an unverified code's expiry and recipient in step with the mission."""
        if record.proof_code_hash is None or record.proof_verified_at is not None:
            return {}
        extra: dict[str, Any] = {}
        if {"date", "branch_id"} & changes.keys():
            branch = await self.branches.reference(
                uow, changes.get("branch_id", record.branch_id), "branchId"
            )
            extra["proof_expires_at"] = proof.expires_at(changes.get("date", record.date), branch.timezone)
        if {"customer_phone", "customer_email"} & changes.keys() and record.proof_sent_at is None:
            extra["proof_sent_to"] = changes.get("customer_phone", record.customer_phone) or changes.get(
                "customer_email", record.customer_email
            )
        return extra

    # --- delete --------------------------------------------------------------------------------
    async def delete(self, uow: UnitOfWork, record: Mission) -> None:
        """Refused while the driver is at it; a mission on a route leaves it first, and one that
        was charged but never started gets its credit back, as a cancellation would."""
        record = await self._lock(uow, record)
        if record.status == S.IN_PROGRESS:
            raise Conflict(
                "An in-progress mission cannot be deleted; report it delivered, failed or cancelled first.",
                {"status": record.status},
            )
        snapshot = self.snapshot(record)
        route = await dispatch.take_off(uow, record) if record.route_id else None
        if record.credit_charged and record.started_at is None:
            await credit_service.refund(uow, record.id, "deleted before start")
        await uow.delete(record)
        if route is not None:
            await dispatch.refresh_status(uow, route)
        history.record_change(uow, self.resource_type, record.id, "deleted", [])
        await self.emit(uow, "deleted", record.id, snapshot)

    # --- actions -------------------------------------------------------------------------------
    async def verify_proof(self, uow: UnitOfWork, record: Mission, code: str) -> Mission:
        return await proof.verify(uow, record, code)

    async def regenerate_proof(self, uow: UnitOfWork, record: Mission) -> CreatedMission:
        """A fresh code with fresh attempts (the old one stops working); only while it can still
        be used, i.e. before the mission is proofed or finished."""
        record = await self._lock(uow, record)
        if not record.proof_required or S(record.status) in FINAL:
            raise Conflict(
                "Only a mission that needs proof and is not finished can get a new code.",
                {"status": record.status, "proofRequired": record.proof_required},
            )
        branch = await self.branches.reference(uow, record.branch_id, "branchId")
        code = proof.new_code()
        values = proof.fields(record.id, code, record.date, branch.timezone,
                              record.customer_phone or record.customer_email)  # fmt: skip
        before = self.snapshot(record)
        for name, value in values.items():
            setattr(record, name, value)
        record.proof_verified_at = None
        record.updated_at = utcnow()
        await uow.flush()
        after = self.snapshot(record)
        changes = [{"field": "proofCode", "from": None, "to": "regenerated"}, *history.diff(before, after)]
        history.record_change(uow, self.resource_type, record.id, "updated", changes)
        await self.emit(uow, "updated", record.id, after)
        return CreatedMission(record, code)

    async def reassign(self, uow: UnitOfWork, record: Mission, body: MissionReassign) -> Mission:
        """Move a mission to a route (at `position`, default last) or off its route (`routeId`
        null). A first scheduling charges its credit; moving between routes does not."""
        target = await self.routes.reference(uow, body.route_id, "routeId") if body.route_id else None
        record = await self._lock(uow, record, target.id if target else None)
        if target is None and body.position is not None:
            raise ValidationFailed.field("position", "is only accepted with a routeId")
        if target is None and record.route_id is None:
            return record  # already off any route: nothing to do
        if record.status not in (S.UNASSIGNED, S.SCHEDULED):
            raise Conflict(
                f"A {record.status} mission cannot be reassigned; only unassigned and scheduled ones can.",
                {"status": record.status, "allowedStatuses": [S.UNASSIGNED.value, S.SCHEDULED.value]},
            )
        if target is not None and target.status == "completed":
            raise Conflict("A completed route can no longer be changed.", {"routeId": str(target.id)})
        before, previous = self.snapshot(record), record.status
        old_route = await dispatch.take_off(uow, record)
        record.status = S.UNASSIGNED.value
        if target is not None:
            await dispatch.place(uow, target, [record], body.position, record=False)
        if old_route is not None and (target is None or old_route.id != target.id):
            await dispatch.refresh_status(uow, old_route)
        # Both routes' stops were renumbered and re-timed: their subscribers hear it as a reorder.
        for route in {r.id: r for r in (old_route, target) if r is not None}.values():
            stops = await dispatch.stops_of(uow, route)
            await outbox.record_event(
                uow, "route.reordered", "route", route.id, dispatch.route_snapshot(route, stops)
            )
        after = self.snapshot(record)
        changes = [c for c in history.diff(before, after) if c["field"] != "status"]
        if record.status != previous:
            await events.status_changed(uow, record, previous, action="reassigned", extra=changes)
        else:
            history.record_change(uow, self.resource_type, record.id, "reassigned", changes)
            await self.emit(uow, "updated", record.id, after)
        return record

    # --- the driver app: only the missions on the signed-in driver's own routes -------------
    async def driver_missions(self, uow: UnitOfWork, query: MissionQuery) -> Page[Mission]:
        """The missions on the calling driver's routes, with the list's day, status and route
        filters; a `routeId` that is not one of the driver's routes is refused like an unknown one."""
        driver_id = own_driver_id(uow.principal)
        if query.route_id is not None:
            route = await self.routes.get(uow, query.route_id)
            if route is None or route.driver_id != driver_id:
                raise ValidationFailed.field("routeId", "does not name a route of yours")
        return await self.repo.page(uow, query, [*conditions(uow, query), _on_routes_of(uow, driver_id)])

    async def driver_mission(self, uow: UnitOfWork, mission_id: Any) -> Mission:
        """A mission on one of the calling driver's routes; any other is as missing as an unknown id."""
        record = await self.repo.get(uow, mission_id)
        if record is None or not _drives(record, own_driver_id(uow.principal)):
            raise NotFound(f"No mission with id {mission_id}.")
        return record

    async def _drivers_mission(self, uow: UnitOfWork, mission_id: uuid.UUID) -> Mission:
        """The mission, locked, when the calling driver's route holds it (404 otherwise)."""
        record = await self._lock(uow, await self.driver_mission(uow, mission_id))
        # Read again under the lock: a dispatcher may have moved it off the route meanwhile.
        if not _drives(record, own_driver_id(uow.principal)):
            raise NotFound(f"No mission with id {mission_id}.")
        return record

    async def driver_verify_proof(self, uow: UnitOfWork, mission_id: uuid.UUID, code: str) -> Mission:
        """The driver types in the customer's code at the door: same rules as the API's verify."""
        return await self.verify_proof(uow, await self._drivers_mission(uow, mission_id), code)

    async def driver_move(
        self, uow: UnitOfWork, mission_id: uuid.UUID, target: S, *, reason: str | None = None,
        latitude: float | None = None, longitude: float | None = None,
    ) -> Mission:  # fmt: skip
        """The driver app's start / deliver / fail: only the driver whose route holds the mission."""
        if reason is not None and not 1 <= len(reason.strip()) <= 500:
            raise ValidationFailed.field("reason", "must be 1..500 characters")
        for name, value, bound in (("latitude", latitude, 90), ("longitude", longitude, 180)):
            if value is not None and not -bound <= value <= bound:
                raise ValidationFailed.field(name, f"must be between -{bound} and {bound}")
        record = await self._drivers_mission(uow, mission_id)
        return await lifecycle.move(
            uow,
            record,
            target,
            failure_reason=reason.strip() if reason else None,
            latitude=latitude,
            longitude=longitude,
        )

    async def history(self, uow: UnitOfWork, record: Mission, query: HistoryQuery) -> Page[Any]:
        """The mission's history, newest first, in keyset pages over (at, id) descending."""
        entry = history.ChangeRecord
        statement = select(entry).where(
            col(entry.company_id) == uow.company_id, col(entry.resource_type) == self.resource_type,
            col(entry.resource_id) == record.id,
        )  # fmt: skip
        if query.cursor:
            at, last_id = decode_cursor(query.cursor)
            statement = statement.where(
                or_(col(entry.at) < at, and_(col(entry.at) == at, col(entry.id) < last_id))
            )
        rows = await uow.scalars(
            statement.order_by(col(entry.at).desc(), col(entry.id).desc()).limit(query.limit + 1)
        )
        has_more = len(rows) > query.limit
        rows = rows[: query.limit]
        cursor = encode_cursor(rows[-1].at, rows[-1].id) if has_more and rows else None
        return Page(
            items=rows, next_cursor=cursor, has_more=has_more, limit=query.limit,
            cursor_at=lambda i: encode_cursor(rows[i].at, rows[i].id),
        )  # fmt: skip

    async def distribution(self, uow: UnitOfWork, query: DistributionQuery) -> DistributionOut:
        """A branch's day for the dispatcher's map: its routes (with driver and vehicle) and their
        stops, plus the unassigned missions. Four queries, whatever the size of the day."""
        await self.branches.reference(uow, query.branch_id, "branchId")
        routes = await uow.scalars(
            select(Route)
            .where(
                col(Route.company_id) == uow.company_id,
                col(Route.branch_id) == query.branch_id,
                col(Route.date) == query.date,
            )
            .order_by(col(Route.created_at), col(Route.id))
        )
        # Only the columns the map shows, as plain rows: a busy day holds thousands of missions.
        shown = [getattr(Mission, field) for field in MissionSummaryOut.model_fields]
        missions = await uow.fetch(
            select(col(Mission.route_id), *shown)
            .where(col(Mission.company_id) == uow.company_id, col(Mission.branch_id) == query.branch_id,
                   col(Mission.date) == query.date,
                   or_(col(Mission.route_id).is_not(None), col(Mission.status) == S.UNASSIGNED.value))
            .order_by(col(Mission.sequence), col(Mission.created_at), col(Mission.id))
        )  # fmt: skip
        drivers = await Repository(Driver).by_ids(uow, [r.driver_id for r in routes if r.driver_id])
        vehicles = await Repository(Vehicle).by_ids(uow, [r.vehicle_id for r in routes if r.vehicle_id])
        stops: dict[uuid.UUID | None, list[Any]] = {}
        for mission in missions:
            stops.setdefault(mission["route_id"], []).append(mission)

        def compact(group: list[Any]) -> list[MissionSummaryOut]:
            return [MissionSummaryOut.model_validate(dict(m)) for m in group]

        return DistributionOut(
            date=query.date,
            branch_id=query.branch_id,
            routes=[
                DistributionRouteOut(
                    route=RouteSummaryOut.model_validate(route, from_attributes=True),
                    driver=DriverSummaryOut.model_validate(drivers[route.driver_id], from_attributes=True)
                    if route.driver_id in drivers else None,
                    vehicle=VehicleSummaryOut.model_validate(vehicles[route.vehicle_id], from_attributes=True)
                    if route.vehicle_id in vehicles else None,
                    missions=compact(stops.get(route.id, [])),
                )
                for route in routes
            ],
            unassigned=compact([m for m in stops.get(None, []) if m["status"] == S.UNASSIGNED]),
        )  # fmt: skip

    async def _lock(self, uow: UnitOfWork, record: Mission, also_route: uuid.UUID | None = None) -> Mission:
        """The mission row locked for this transaction, freshly read. Its route (and `also_route`)
        are locked first: dispatch locks routes before missions, so the orders never cross."""
        for route_id in sorted({r for r in (record.route_id, also_route) if r is not None}):
            await dispatch.lock_route(uow, route_id)
        locked = await uow.scalar(
            select(Mission)
            .where(col(Mission.company_id) == uow.company_id, col(Mission.id) == record.id)
            .with_for_update(of=Mission)
            .execution_options(populate_existing=True)
        )
        if locked is None:
            raise ValidationFailed.field("id", "the mission no longer exists")
        return locked  # type: ignore[no-any-return]


def _drives(record: Mission, driver_id: uuid.UUID) -> bool:
    return record.route_id is not None and record.driver_id == driver_id


def _on_routes_of(uow: UnitOfWork, driver_id: uuid.UUID) -> Any:
    return col(Mission.route_id).in_(
        select(col(Route.id)).where(
            col(Route.company_id) == uow.company_id, col(Route.driver_id) == driver_id
        )
    )


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


mission_service = MissionService()
