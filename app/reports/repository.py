"""Report aggregates in SQL: one statement per figure group, whatever the size of the period.

Every statement starts from the caller's company (RLS checks it again). Time windows are
branch-local `HH:MM` on the mission's date, so "on time" compares the finish converted to the
branch's time zone with `date + window` (PostgreSQL: date + time = timestamp).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import Integer, and_, case, cast, func, literal, or_, select
from sqlalchemy.sql import ColumnElement, Select
from sqlmodel import col

from app.branches.models import Branch
from app.core.db import UnitOfWork
from app.core.pagination import decode_cursor, encode_cursor
from app.credits.models import CreditLedgerEntry
from app.drivers.models import Driver
from app.missions.models import Mission
from app.routes.models import Route
from app.vehicles.models import Vehicle

MISSION_STATUSES = ("unassigned", "scheduled", "in_progress", "delivered", "proofed", "failed", "cancelled")
ROUTE_STATUSES = ("planned", "assigned", "in_progress", "completed")
DONE = ("delivered", "proofed")
MISSION_COLUMNS = (
    "external_id", "date", "branch_id", "status", "route_id", "customer_name", "address",
    "time_window_start", "time_window_end", "finished_at", "failure_reason", "proof_required",
    "proof_verified_at", "proof_attempts", "proof_max_attempts", "proof_sms_status",
)  # fmt: skip
ROUTE_COLUMNS = (
    "external_id", "name", "date", "branch_id", "status", "driver_id", "vehicle_id", "total_distance_meters",
    "total_duration_seconds", "started_at", "completed_at",
)  # fmt: skip
VEHICLE_COLUMNS = (
    "name", "plate_number", "branch_id", "status", "capacity_weight_kg", "capacity_volume_m3",
    "capacity_items",
)  # fmt: skip

# A mission proofed straight from in_progress has no finished_at; its proof time is its finish.
finish = func.coalesce(Mission.finished_at, Mission.proof_verified_at)
local_finish = func.timezone(Branch.timezone, finish)
completed = and_(col(Mission.status).in_(DONE), finish.is_not(None))
has_window = or_(col(Mission.time_window_start).is_not(None), col(Mission.time_window_end).is_not(None))
early = and_(
    completed,
    col(Mission.time_window_start).is_not(None),
    local_finish < col(Mission.date).op("+")(Mission.time_window_start),
)
late = and_(
    completed,
    col(Mission.time_window_end).is_not(None),
    local_finish > col(Mission.date).op("+")(Mission.time_window_end),
)
evaluated = and_(completed, has_window)
on_time = and_(evaluated, ~early, ~late)


def count_if(condition: ColumnElement[bool]) -> Any:
    return func.count().filter(condition)


def period_scope(
    model: Any, uow: UnitOfWork, date_from: dt.date, date_to: dt.date, branch_id: uuid.UUID | None
) -> list[Any]:
    """The company's dated records of `model` (missions, routes) in the period, of one branch if given."""
    where = [model.company_id == uow.company_id, model.date.between(date_from, date_to)]
    if branch_id is not None:
        where.append(model.branch_id == branch_id)
    return where


def mission_scope(
    uow: UnitOfWork, date_from: dt.date, date_to: dt.date, branch_id: uuid.UUID | None
) -> list[Any]:
    return period_scope(Mission, uow, date_from, date_to, branch_id)


def route_scope(
    uow: UnitOfWork, date_from: dt.date, date_to: dt.date, branch_id: uuid.UUID | None
) -> list[Any]:
    return period_scope(Route, uow, date_from, date_to, branch_id)


def _with_branch(statement: Select[*tuple[Any, ...]]) -> Select[*tuple[Any, ...]]:
    return statement.join(Branch, col(Branch.id) == Mission.branch_id)


async def missions_by_day(uow: UnitOfWork, *scope: Any) -> list[Any]:
    """Per mission date: count per status, on-time figures and proof figures."""
    columns = [count_if(col(Mission.status) == s).label(s) for s in MISSION_STATUSES]
    statement = _with_branch(
        select(
            col(Mission.date).label("date"),
            func.count().label("total"),
            *columns,
            count_if(evaluated).label("evaluated"),
            count_if(on_time).label("on_time"),
            count_if(early).label("early"),
            count_if(late).label("late"),
            count_if(and_(completed, ~has_window)).label("without_window"),
            count_if(and_(col(Mission.status).in_(DONE), col(Mission.proof_required))).label(
                "proof_required"
            ),
            count_if(and_(col(Mission.status) == "proofed", col(Mission.proof_required))).label("proof_done"),
        ).where(*mission_scope(uow, *scope))
    )
    return await uow.fetch(statement.group_by(col(Mission.date)).order_by(col(Mission.date)))


async def routes_by_day(uow: UnitOfWork, *scope: Any) -> list[Any]:
    statement = select(
        col(Route.date).label("date"),
        func.count().label("total"),
        *[count_if(col(Route.status) == s).label(s) for s in ROUTE_STATUSES],
        func.coalesce(func.sum(Route.total_distance_meters), 0).label("distance"),
        func.coalesce(func.sum(Route.total_duration_seconds), 0).label("duration"),
    ).where(*route_scope(uow, *scope))
    return await uow.fetch(statement.group_by(col(Route.date)).order_by(col(Route.date)))


async def failure_reasons(uow: UnitOfWork, *scope: Any, top: int = 20) -> list[Any]:
    reason = func.coalesce(func.nullif(func.btrim(Mission.failure_reason), ""), "unspecified").label("reason")
    statement = (
        select(reason, func.count().label("count"))
        .where(*mission_scope(uow, *scope), col(Mission.status) == "failed")
        .group_by(reason)
        .order_by(func.count().desc(), reason)
        .limit(top)
    )
    return await uow.fetch(statement)


async def credits(uow: UnitOfWork, *scope: Any) -> dict[str, int]:
    """Ledger movements of the period's missions, by kind (credits are charged per mission)."""
    statement: Select[*tuple[Any, ...]] = (
        select(col(CreditLedgerEntry.kind).label("kind"), func.sum(CreditLedgerEntry.amount).label("amount"))
        .join(Mission, col(Mission.id) == CreditLedgerEntry.mission_id)
        .where(col(CreditLedgerEntry.company_id) == uow.company_id, *mission_scope(uow, *scope))
        .group_by(CreditLedgerEntry.kind)
    )
    return {row["kind"]: int(row["amount"]) for row in await uow.fetch(statement)}


# --- detail rows --------------------------------------------------------------------------------


def _keyset(
    statement: Select[*tuple[Any, ...]], created: Any, ident: Any, cursor: str | None, limit: int
) -> Select[*tuple[Any, ...]]:
    if cursor:
        at, last = decode_cursor(cursor)
        statement = statement.where(or_(created > at, and_(created == at, ident > last)))
    return statement.order_by(created, ident).limit(limit + 1)


async def page(
    uow: UnitOfWork, statement: Select[*tuple[Any, ...]], limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """Rows of a keyset statement (which selects `_created` and `_id`) and the next cursor."""
    rows = [dict(r) for r in await uow.fetch(statement)]
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = encode_cursor(rows[-1]["_created"], rows[-1]["_id"]) if more and rows else None
    return rows, cursor


def _mission_rows(uow: UnitOfWork, scope: tuple[Any, ...], *where: Any) -> Select[*tuple[Any, ...]]:
    return (
        select(
            col(Mission.created_at).label("_created"),
            col(Mission.id).label("_id"),
            *[getattr(Mission, name) for name in MISSION_COLUMNS],
            col(Route.driver_id).label("driver_id"),
            col(Route.vehicle_id).label("vehicle_id"),
            case((evaluated, on_time), else_=None).label("on_time_flag"),
            finish.label("finish"),
        )  # fmt: skip
        .join(Branch, col(Branch.id) == Mission.branch_id)
        .outerjoin(Route, col(Route.id) == Mission.route_id)
        .where(*mission_scope(uow, *scope), *where)
    )


async def mission_rows(
    uow: UnitOfWork, scope: tuple[Any, ...], cursor: str | None, limit: int, *where: Any
) -> Any:
    statement = _keyset(_mission_rows(uow, scope, *where), Mission.created_at, Mission.id, cursor, limit)
    return await page(uow, statement, limit)


async def route_rows(uow: UnitOfWork, scope: tuple[Any, ...], cursor: str | None, limit: int) -> Any:
    stops = (
        select(
            col(Mission.route_id).label("route_id"),
            func.count().label("stops"),
            count_if(col(Mission.status).in_(DONE)).label("delivered"),
            count_if(col(Mission.status) == "failed").label("failed"),
        )
        .where(col(Mission.company_id) == uow.company_id, col(Mission.route_id).is_not(None))
        .group_by(col(Mission.route_id))
        .subquery()
    )
    statement = (
        select(
            col(Route.created_at).label("_created"),
            col(Route.id).label("_id"),
            *[getattr(Route, name) for name in ROUTE_COLUMNS],
            func.coalesce(stops.c.stops, 0).label("stops"),
            func.coalesce(stops.c.delivered, 0).label("delivered"),
            func.coalesce(stops.c.failed, 0).label("failed"),
        )  # fmt: skip
        .outerjoin(stops, stops.c.route_id == Route.id)
        .where(*route_scope(uow, *scope))
    )
    return await page(uow, _keyset(statement, Route.created_at, Route.id, cursor, limit), limit)


async def driver_rows(uow: UnitOfWork, scope: tuple[Any, ...], cursor: str | None, limit: int) -> Any:
    """Drivers of the company (or branch) with the period's work on their routes: routes and
    planned distance from the routes, missions from the routes' current stops."""
    date_from, date_to, branch_id = scope
    in_period = [col(Route.company_id) == uow.company_id, col(Route.date).between(date_from, date_to)]
    routes = (
        select(
            col(Route.driver_id).label("driver_id"),
            func.count().label("routes"),
            count_if(col(Route.status) == "completed").label("completed_routes"),
            func.sum(Route.total_distance_meters).label("distance"),
            func.sum(Route.total_duration_seconds).label("duration"),
        )
        .where(*in_period, col(Route.driver_id).is_not(None))
        .group_by(col(Route.driver_id))
        .subquery()
    )
    work = (
        select(
            col(Route.driver_id).label("driver_id"),
            func.count().label("missions"),
            count_if(col(Mission.status).in_(DONE)).label("delivered"),
            count_if(col(Mission.status) == "failed").label("failed"),
            count_if(on_time).label("on_time"),
            count_if(evaluated).label("evaluated"),
        )
        .select_from(Mission)
        .join(Route, col(Route.id) == Mission.route_id)
        .join(Branch, col(Branch.id) == Mission.branch_id)
        .where(col(Mission.company_id) == uow.company_id, *in_period, col(Route.driver_id).is_not(None))
        .group_by(col(Route.driver_id))
        .subquery()
    )
    where = [col(Driver.company_id) == uow.company_id]
    if branch_id is not None:
        where.append(col(Driver.branch_id) == branch_id)
    zero = literal(0)
    statement: Select[*tuple[Any, ...]] = (
        select(
            col(Driver.created_at).label("_created"),
            col(Driver.id).label("_id"),
            col(Driver.first_name),
            col(Driver.last_name),
            col(Driver.branch_id),
            col(Driver.status),
            func.coalesce(routes.c.routes, zero).label("routes"),
            func.coalesce(routes.c.completed_routes, zero).label("completed_routes"),
            cast(func.coalesce(routes.c.distance, zero), Integer).label("distance"),
            cast(func.coalesce(routes.c.duration, zero), Integer).label("duration"),
            func.coalesce(work.c.missions, zero).label("missions"),
            func.coalesce(work.c.delivered, zero).label("delivered"),
            func.coalesce(work.c.failed, zero).label("failed"),
            func.coalesce(work.c.on_time, zero).label("on_time"),
            func.coalesce(work.c.evaluated, zero).label("evaluated"),
        )  # fmt: skip
        .outerjoin(routes, routes.c.driver_id == Driver.id)
        .outerjoin(work, work.c.driver_id == Driver.id)
        .where(*where)
    )
    return await page(uow, _keyset(statement, Driver.created_at, Driver.id, cursor, limit), limit)


async def vehicle_rows(uow: UnitOfWork, scope: tuple[Any, ...], cursor: str | None, limit: int) -> Any:
    """Vehicles with the period's routes; utilisation is the mean, over its routes, of each route's
    summed mission load against the vehicle's capacity (null where the capacity is unlimited)."""
    date_from, date_to, branch_id = scope
    load = (
        select(
            col(Mission.route_id).label("route_id"),
            func.count().label("stops"),
            func.coalesce(func.sum(Mission.weight_kg), 0).label("weight"),
            func.coalesce(func.sum(Mission.volume_m3), 0).label("volume"),
            func.coalesce(func.sum(Mission.items), 0).label("item_count"),
        )
        .where(col(Mission.company_id) == uow.company_id, col(Mission.route_id).is_not(None))
        .group_by(col(Mission.route_id))
        .subquery()
    )

    def share(amount: Any, capacity: Any) -> Any:
        return func.avg(func.coalesce(amount, 0) / func.nullif(capacity, 0))

    per_vehicle = (
        select(
            col(Route.vehicle_id).label("vehicle_id"),
            func.count().label("routes"),
            func.sum(func.coalesce(load.c.stops, 0)).label("stops"),
            func.sum(Route.total_distance_meters).label("distance"),
            func.sum(Route.total_duration_seconds).label("duration"),
            func.sum(func.coalesce(load.c.weight, 0)).label("weight"),
            func.sum(func.coalesce(load.c.volume, 0)).label("volume"),
            func.sum(func.coalesce(load.c.item_count, 0)).label("item_count"),
            share(load.c.weight, Vehicle.capacity_weight_kg).label("weight_share"),
            share(load.c.volume, Vehicle.capacity_volume_m3).label("volume_share"),
            share(load.c.item_count, Vehicle.capacity_items).label("items_share"),
        )
        .select_from(Route)
        .join(Vehicle, col(Vehicle.id) == Route.vehicle_id)
        .outerjoin(load, load.c.route_id == Route.id)
        .where(col(Route.company_id) == uow.company_id, col(Route.date).between(date_from, date_to))
        .group_by(col(Route.vehicle_id))
        .subquery()
    )
    where = [col(Vehicle.company_id) == uow.company_id]
    if branch_id is not None:
        where.append(col(Vehicle.branch_id) == branch_id)
    statement = (
        select(
            col(Vehicle.created_at).label("_created"),
            col(Vehicle.id).label("_id"),
            *[getattr(Vehicle, name) for name in VEHICLE_COLUMNS],
            *[c for c in per_vehicle.c if c.name != "vehicle_id"],
        )  # fmt: skip
        .outerjoin(per_vehicle, per_vehicle.c.vehicle_id == Vehicle.id)
        .where(*where)
    )
    return await page(uow, _keyset(statement, Vehicle.created_at, Vehicle.id, cursor, limit), limit)
