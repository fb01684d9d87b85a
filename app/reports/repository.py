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
from app.drivers.models import Driver
from app.missions.models import Mission
from app.reports import models as rollups
from app.reports.models import report_day, report_route
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


def _day_scope(date_from: dt.date, date_to: dt.date, branch_id: uuid.UUID | None) -> list[Any]:
    """The company's rollup days of the period, of one branch if given."""
    where: list[Any] = [report_day.c.date.between(date_from, date_to)]
    if branch_id is not None:
        where.append(report_day.c.branch_id == branch_id)
    return where


def _summed_days(uow: UnitOfWork, scope: tuple[Any, ...], columns: dict[str, str]) -> Select[Any]:
    """Per date of the period, the sum over branches of each rollup column (as its label)."""
    return (
        select(
            report_day.c.date.label("date"),
            *[
                cast(func.sum(report_day.c[column]), Integer).label(label)
                for label, column in columns.items()
            ],
        )
        .where(report_day.c.company_id == uow.company_id, *_day_scope(*scope))
        .group_by(report_day.c.date)
        .order_by(report_day.c.date)
    )


# Mission figures per date, as the report services name them: the rollup columns of report_day.
MISSION_DAY = {"total": "missions", **{name: name for name in rollups.MISSION_FIGURES[1:]}}
ROUTE_DAY = {
    "total": "routes",
    **{status: f"routes_{status}" for status in ROUTE_STATUSES},
    "distance": "route_distance",
    "duration": "route_duration",
}


async def missions_by_day(uow: UnitOfWork, *scope: Any) -> list[Any]:
    """Per mission date: count per status, on-time figures and proof figures (from the rollups)."""
    return await uow.fetch(_summed_days(uow, scope, MISSION_DAY))


async def routes_by_day(uow: UnitOfWork, *scope: Any) -> list[Any]:
    """Per route date: count per status, planned distance and duration (from the rollups)."""
    return await uow.fetch(_summed_days(uow, scope, ROUTE_DAY))


async def finish_hours(uow: UnitOfWork, *scope: Any) -> dict[int, int]:
    """Completed missions of the period by the branch-local hour they finished (from the rollups)."""
    statement = select(
        *[cast(func.coalesce(func.sum(report_day.c[name]), 0), Integer).label(name) for name in rollups.HOURS]
    ).where(report_day.c.company_id == uow.company_id, *_day_scope(*scope))
    row = (await uow.fetch(statement))[0]
    return {hour: row[name] for hour, name in enumerate(rollups.HOURS)}


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
    statement = select(
        func.coalesce(func.sum(report_day.c.credits_consumed), 0).label("consume"),
        func.coalesce(func.sum(report_day.c.credits_refunded), 0).label("refund"),
    ).where(report_day.c.company_id == uow.company_id, *_day_scope(*scope))
    return {kind: int(amount) for kind, amount in dict((await uow.fetch(statement))[0]).items()}


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
    stops = report_route
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


def _page_of(
    model: Any, uow: UnitOfWork, branch_id: uuid.UUID | None, cursor: str | None, limit: int, *columns: Any
) -> Any:
    """One keyset page of the company's (or branch's) drivers or vehicles, as a subquery: the
    period's figures are then read for those rows only."""
    where = [model.company_id == uow.company_id]
    if branch_id is not None:
        where.append(model.branch_id == branch_id)
    statement = select(col(model.created_at).label("_created"), col(model.id).label("_id"), *columns).where(
        *where
    )
    return _keyset(statement, model.created_at, model.id, cursor, limit).subquery("listed")


def _routes_of(uow: UnitOfWork, column: Any, listed: Any, date_from: dt.date, date_to: dt.date) -> list[Any]:
    """A listed driver's or vehicle's routes of the period (ix_route_driver_date / _vehicle_date)."""
    return [
        col(Route.company_id) == uow.company_id,
        column == listed.c._id,
        col(Route.date).between(date_from, date_to),
    ]


async def driver_rows(uow: UnitOfWork, scope: tuple[Any, ...], cursor: str | None, limit: int) -> Any:
    """Drivers of the company (or branch) with the period's work on their routes: routes and
    planned distance from the routes, missions from the routes' current stops (report_route)."""
    date_from, date_to, branch_id = scope
    listed = _page_of(
        Driver, uow, branch_id, cursor, limit,
        col(Driver.first_name), col(Driver.last_name), col(Driver.branch_id), col(Driver.status),
    )  # fmt: skip
    work = (
        select(
            func.count().label("routes"),
            count_if(col(Route.status) == "completed").label("completed_routes"),
            func.sum(Route.total_distance_meters).label("distance"),
            func.sum(Route.total_duration_seconds).label("duration"),
            *[
                func.sum(report_route.c[name]).label(name)
                for name in ("stops", "delivered", "failed", "on_time", "evaluated")
            ],
        )
        .select_from(Route)
        .outerjoin(report_route, report_route.c.route_id == Route.id)
        .where(*_routes_of(uow, col(Route.driver_id), listed, date_from, date_to))
        .lateral("work")
    )
    zero = literal(0)
    statement: Select[*tuple[Any, ...]] = (
        select(
            *[c for c in listed.c],
            work.c.routes,
            work.c.completed_routes,
            cast(func.coalesce(work.c.distance, zero), Integer).label("distance"),
            cast(func.coalesce(work.c.duration, zero), Integer).label("duration"),
            cast(func.coalesce(work.c.stops, zero), Integer).label("missions"),
            *[
                cast(func.coalesce(work.c[name], zero), Integer).label(name)
                for name in ("delivered", "failed", "on_time", "evaluated")
            ],
        )  # fmt: skip
        .select_from(listed)
        .outerjoin(work, literal(True))
        .order_by(listed.c._created, listed.c._id)
    )
    return await page(uow, statement, limit)


async def vehicle_rows(uow: UnitOfWork, scope: tuple[Any, ...], cursor: str | None, limit: int) -> Any:
    """Vehicles with the period's routes; utilisation is the mean, over its routes, of each route's
    summed mission load (report_route) against the vehicle's capacity (null where the capacity is
    unlimited)."""
    date_from, date_to, branch_id = scope
    listed = _page_of(
        Vehicle, uow, branch_id, cursor, limit, *[getattr(Vehicle, name) for name in VEHICLE_COLUMNS]
    )
    load = report_route

    def share(amount: Any, capacity: Any) -> Any:
        return func.avg(func.coalesce(amount, 0) / func.nullif(capacity, 0))

    per_vehicle = (
        select(
            func.count().label("routes"),
            func.sum(func.coalesce(load.c.stops, 0)).label("stops"),
            func.sum(Route.total_distance_meters).label("distance"),
            func.sum(Route.total_duration_seconds).label("duration"),
            func.sum(func.coalesce(load.c.weight, 0)).label("weight"),
            func.sum(func.coalesce(load.c.volume, 0)).label("volume"),
            func.sum(func.coalesce(load.c["items"], 0)).label("item_count"),
            share(load.c.weight, listed.c.capacity_weight_kg).label("weight_share"),
            share(load.c.volume, listed.c.capacity_volume_m3).label("volume_share"),
            share(load.c["items"], listed.c.capacity_items).label("items_share"),
        )
        .select_from(Route)
        .outerjoin(load, load.c.route_id == Route.id)
        .where(*_routes_of(uow, col(Route.vehicle_id), listed, date_from, date_to))
        .lateral("per_vehicle")
    )
    statement = (
        select(*[c for c in listed.c], *[c for c in per_vehicle.c])
        .select_from(listed)
        .outerjoin(per_vehicle, literal(True))
        .order_by(listed.c._created, listed.c._id)
    )
    return await page(uow, statement, limit)
