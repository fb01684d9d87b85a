"""GET /missions/export: every matching mission as flat rows, streamed as JSON or CSV.

The response body is produced after the request's own transaction has ended, so the stream opens
its own unit of work with the caller's principal (row-level security applies as usual) and reads
keyset batches of `BATCH` rows: memory stays flat whatever the number of missions."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import and_, func, inspect, or_, select
from sqlmodel import col
from starlette.responses import StreamingResponse

from app.core import jsonutil
from app.core.db import UnitOfWork, unit_of_work
from app.drivers.models import Driver
from app.missions.models import Mission
from app.missions.schemas import ExportFormat, MissionExportQuery
from app.routes.models import Route
from app.vehicles.models import Vehicle

BATCH = 2000

# (column name, SQL expression), in output order: the mission's fields, its proof flattened,
# then the names a spreadsheet reader wants next to the ids.
_m = Mission.__table__.c  # type: ignore[attr-defined]
COLUMNS: list[tuple[str, Any]] = [
    ("id", _m.id), ("externalId", _m.external_id), ("branchId", _m.branch_id), ("type", _m.type),
    ("date", _m.date), ("status", _m.status), ("customerName", _m.customer_name),
    ("customerPhone", _m.customer_phone), ("customerEmail", _m.customer_email), ("address", _m.address),
    ("latitude", _m.latitude), ("longitude", _m.longitude), ("timeWindowStart", _m.time_window_start),
    ("timeWindowEnd", _m.time_window_end), ("serviceDurationSeconds", _m.service_duration_seconds),
    ("priority", _m.priority), ("weightKg", _m.weight_kg), ("volumeM3", _m.volume_m3), ("items", _m["items"]),
    ("notes", _m.notes), ("proofRequired", _m.proof_required), ("proofedAt", _m.proof_verified_at),
    ("failureReason", _m.failure_reason), ("routeId", _m.route_id), ("routeName", Route.name),
    ("sequence", _m.sequence), ("eta", _m.eta), ("etd", _m.etd), ("driverId", Route.driver_id),
    # null, not "", for a mission on no route (concat_ws of nulls is the empty string)
    ("driverName", func.nullif(func.concat_ws(" ", Driver.first_name, Driver.last_name), "")),
    ("vehicleId", Route.vehicle_id), ("vehicleName", Vehicle.name),
    ("createdAt", _m.created_at), ("updatedAt", _m.updated_at),
]  # fmt: skip
HEADER = [name for name, _ in COLUMNS]


def wants_csv(query: MissionExportQuery, accept: str) -> bool:
    if query.format is not None:
        return query.format == ExportFormat.CSV
    return "text/csv" in accept.lower()


def _statement(uow: UnitOfWork, where: list[Any]) -> Any:
    return (
        select(*(expression.label(name) for name, expression in COLUMNS))
        .select_from(inspect(Mission).local_table)
        .outerjoin(Route, Route.id == _m.route_id)
        .outerjoin(Driver, col(Driver.id) == Route.driver_id)
        .outerjoin(Vehicle, col(Vehicle.id) == Route.vehicle_id)
        .where(_m.company_id == uow.company_id, *where)
        .order_by(_m.created_at, _m.id)
        .limit(BATCH)
    )


async def rows(uow: UnitOfWork, where: list[Any]) -> AsyncIterator[list[Any]]:
    """Batches of result rows in (createdAt, id) order, each batch one keyset query."""
    after: tuple[dt.datetime, Any] | None = None
    while True:
        clauses = list(where)
        if after is not None:
            clauses.append(or_(_m.created_at > after[0], and_(_m.created_at == after[0], _m.id > after[1])))
        batch = (await uow.execute(_statement(uow, clauses))).all()
        if batch:
            yield batch
        if len(batch) < BATCH:
            return
        after = (batch[-1].createdAt, batch[-1].id)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?[0-9 ().-]+")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return jsonutil.iso_z(value)
    if isinstance(value, dt.time):
        return jsonutil.hhmm(value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(value):
        # A spreadsheet would run it as a formula (CSV injection): shown as text instead. Numbers
        # and phone numbers (+90 555 ...) stay as they are: they compute nothing.
        return "'" + value
    return value if isinstance(value, int | float | str) else str(value)


def _drain(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    return data


def _where(uow: UnitOfWork, query: MissionExportQuery) -> list[Any]:
    from app.missions.service import conditions

    where = conditions(uow, query)
    if query.updated_since is not None:
        since = query.updated_since
        where.append(_m.updated_at >= (since if since.tzinfo else since.replace(tzinfo=dt.UTC)))
    if query.external_id is not None:
        where.append(_m.external_id == query.external_id)
    return where


def stream(uow: UnitOfWork, query: MissionExportQuery, accept: str) -> StreamingResponse:
    """The streamed answer; filters are checked now, rows are read while the body is sent."""
    principal, source = uow.principal, uow.source
    where = _where(uow, query)
    as_csv = wants_csv(query, accept)

    async def body() -> AsyncIterator[bytes]:
        async with unit_of_work(principal, source) as reader:
            if as_csv:
                buffer = io.StringIO()
                writer = csv.writer(buffer, lineterminator="\r\n")
                writer.writerow(HEADER)
                async for batch in rows(reader, where):
                    writer.writerows([_cell(v) for v in row] for row in batch)
                    yield _drain(buffer)
                if buffer.tell():
                    yield _drain(buffer)  # the header alone, when nothing matched
                return
            yield b'{"data":['
            first = True
            async for batch in rows(reader, where):
                chunk = b",".join(jsonutil.dumps(dict(zip(HEADER, row, strict=True))) for row in batch)
                yield chunk if first else b"," + chunk
                first = False
            yield b"]}"

    if as_csv:
        return StreamingResponse(
            body(), media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="missions.csv"'},
        )  # fmt: skip
    return StreamingResponse(body(), media_type="application/json")
