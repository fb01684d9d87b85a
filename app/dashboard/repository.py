"""Dashboard reads: a handful of grouped statements per request, scoped to the caller's company."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import and_, distinct, func, or_, select
from sqlalchemy.sql import Select
from sqlmodel import col

from app.branches.models import Branch
from app.companies.models import Company
from app.core.db import UnitOfWork
from app.core.history import ChangeRecord
from app.core.pagination import decode_cursor, encode_cursor
from app.drivers.models import Driver
from app.reports import repository as reports
from app.routes.models import Route
from app.vehicles.models import Vehicle


async def timezones(uow: UnitOfWork, branch_id: uuid.UUID | None) -> list[str]:
    """The distinct time zones of the branch (or of all the company's branches); at most two."""
    statement: Select[*tuple[Any, ...]] = (
        select(col(Branch.timezone).label("tz")).distinct().where(col(Branch.company_id) == uow.company_id)
    )
    if branch_id is not None:
        statement = statement.where(col(Branch.id) == branch_id)
    return [row["tz"] for row in await uow.fetch(statement.limit(2))]


async def missions_by_status(uow: UnitOfWork, day: dt.date, branch_id: uuid.UUID | None) -> dict[str, int]:
    """The day's missions by current status (from the rollups)."""
    rows = await reports.missions_by_day(uow, day, day, branch_id)
    return {status: rows[0][status] for status in reports.MISSION_STATUSES} if rows else {}


async def routes_of_day(uow: UnitOfWork, day: dt.date, branch_id: uuid.UUID | None) -> Any:
    """Routes by status plus the distinct drivers and vehicles on them, in one row."""
    statement = select(
        *[reports.count_if(col(Route.status) == s).label(s) for s in reports.ROUTE_STATUSES],
        func.count().label("total"),
        func.count(distinct(col(Route.driver_id))).label("drivers"),
        func.count(distinct(col(Route.vehicle_id))).label("vehicles"),
    ).where(*reports.route_scope(uow, day, day, branch_id))
    return (await uow.fetch(statement))[0]


async def fleet(uow: UnitOfWork, branch_id: uuid.UUID | None) -> Any:
    """Driver and vehicle totals (all and active) and the company's credit balance, in one row."""

    def tally(model: Any, active: bool) -> Any:
        where = [model.company_id == uow.company_id]
        if branch_id is not None:
            where.append(model.branch_id == branch_id)
        if active:
            where.append(model.status == "active")
        return select(func.count()).select_from(model).where(*where).scalar_subquery()

    statement = select(
        tally(Driver, False).label("drivers"),
        tally(Driver, True).label("active_drivers"),
        tally(Vehicle, False).label("vehicles"),
        tally(Vehicle, True).label("active_vehicles"),
        select(col(Company.credits_balance))
        .where(col(Company.id) == uow.company_id)
        .scalar_subquery()
        .label("credits"),
    )
    return (await uow.fetch(statement))[0]


async def activity(
    uow: UnitOfWork, limit: int, cursor: str | None, resource_type: str | None
) -> tuple[list[Any], str | None]:
    """Newest first, keyset over (at, id) descending: stable while new changes arrive."""
    statement = select(ChangeRecord).where(col(ChangeRecord.company_id) == uow.company_id)
    if resource_type is not None:
        statement = statement.where(col(ChangeRecord.resource_type) == resource_type)
    if cursor:
        at, last = decode_cursor(cursor)
        statement = statement.where(
            or_(col(ChangeRecord.at) < at, and_(col(ChangeRecord.at) == at, col(ChangeRecord.id) < last))
        )
    statement = statement.order_by(col(ChangeRecord.at).desc(), col(ChangeRecord.id).desc()).limit(limit + 1)
    rows = await uow.scalars(statement)
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1].at, rows[-1].id) if more and rows else None


async def deliveries_by_hour(uow: UnitOfWork, *scope: Any) -> dict[int, int]:
    """Delivered/proofed missions of the period by the branch-local hour they finished."""
    return await reports.finish_hours(uow, *scope)
