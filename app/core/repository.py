"""Tenant-scoped data access. Every query starts from `base()`, already filtered by company."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from functools import cache
from typing import Any, Generic, TypeVar

from pydantic.alias_generators import to_camel
from sqlalchemy import BindParameter, and_, bindparam, func, or_, select, text
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.sql import ColumnElement, Select

from app.core.db import UnitOfWork
from app.core.errors import NotFound, ValidationFailed
from app.core.pagination import Page, decode_cursor, encode_cursor
from app.core.rows import Row

M = TypeVar("M", bound=Any)


def parse_uuid(value: Any) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError):
        return None


class Repository(Generic[M]):
    def __init__(self, model: type[M]) -> None:
        self.model = model

    def base(self, uow: UnitOfWork) -> Select[Any]:
        return select(self.model).where(self.model.company_id == uow.company_id)

    async def get(self, uow: UnitOfWork, record_id: Any, *, for_update: bool = False) -> M | None:
        parsed = parse_uuid(record_id)
        if parsed is None:
            return None
        statement = self.base(uow).where(self.model.id == parsed)
        if for_update:
            statement = statement.with_for_update()
        return await uow.scalar(statement)

    async def get_or_404(self, uow: UnitOfWork, record_id: Any, *, for_update: bool = False) -> M:
        record = await self.get(uow, record_id, for_update=for_update)
        if record is None:
            raise NotFound(f"No {self.model.__tablename__.replace('_', ' ')} with id {record_id}.")
        return record

    async def reference(self, uow: UnitOfWork, record_id: Any, field: str) -> M:
        """A record named inside a body or query: unknown, malformed or foreign ids are all a 422."""
        record = await self.get(uow, record_id)
        if record is None:
            raise ValidationFailed.field(field, "does not name a record of your company")
        return record

    async def by_ids(self, uow: UnitOfWork, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, M]:
        if not ids:
            return {}
        rows = await uow.scalars(self.base(uow).where(self.model.id.in_(list(set(ids)))))
        return {row.id: row for row in rows}

    async def by_external_id(self, uow: UnitOfWork, external_id: str) -> M | None:
        return await uow.scalar(self.base(uow).where(self.model.external_id == external_id))

    async def count_where(self, uow: UnitOfWork, *where: ColumnElement[bool]) -> list[uuid.UUID]:
        rows = await uow.scalars(select(self.model.id).where(self.model.company_id == uow.company_id, *where))
        return list(rows)

    async def page(
        self, uow: UnitOfWork, query: Any, filters: Sequence[ColumnElement[bool]] = ()
    ) -> Page[Any]:
        """One keyset page. Items are read-only records (attribute access, like the model), fetched
        without ORM identity tracking: list pages are the hottest read path."""
        await check_filter_references(uow, query)
        model = self.model
        params: dict[str, Any] = {"company_id": uow.company_id, "limit": query.limit + 1}
        since = getattr(query, "updated_since", None)
        if since is not None:
            params["since"] = since if since.tzinfo else since.replace(tzinfo=dt.UTC)
        external_id = getattr(query, "external_id", None)
        if external_id is not None and hasattr(model, "external_id"):
            params["external_id"] = external_id
        if query.cursor:
            params["after_created_at"], params["after_id"] = decode_cursor(query.cursor)
        shape = frozenset(params)
        if filters:
            records = await uow.fetch(_page_statement(model, shape, tuple(filters)), params)
        else:
            # The same few shapes serve every unfiltered list: compiled once each.
            # Classes are hashable; mypy does not see it (python/mypy#11470).
            records = await uow.fetch_compiled(*_compiled_page(model, shape), params)  # type: ignore[arg-type]
        rows = [Row(record) for record in records]
        has_more = len(rows) > query.limit
        rows = rows[: query.limit]
        cursor = encode_cursor(rows[-1].created_at, rows[-1].id) if has_more and rows else None
        return Page(items=rows, next_cursor=cursor, has_more=has_more, limit=query.limit)

    async def count(self, uow: UnitOfWork, query: Any, filters: Sequence[ColumnElement[bool]] = ()) -> int:
        """How many records the list `query` pages through (its filters, not its cursor)."""
        model = self.model
        statement = (
            select(func.count()).select_from(model).where(model.company_id == uow.company_id, *filters)
        )
        since = getattr(query, "updated_since", None)
        if since is not None:
            statement = statement.where(
                model.updated_at >= (since if since.tzinfo else since.replace(tzinfo=dt.UTC))
            )
        external_id = getattr(query, "external_id", None)
        if external_id is not None and hasattr(model, "external_id"):
            statement = statement.where(model.external_id == external_id)
        return int(await uow.scalar(statement) or 0)


# List filters that name a record, and the table of that record.
_FILTER_TABLES = {
    "branch_id": "branch", "route_id": "route", "driver_id": "driver", "vehicle_id": "vehicle",
    "depot_id": "depot", "mission_id": "mission",
}  # fmt: skip


async def check_filter_references(uow: UnitOfWork, query: Any) -> None:
    """An id in a list's filters that names nothing of the caller's company (missing, or another
    company's) is a 422 on that parameter, as ids in bodies are: not an empty page that reads as
    "no such records yet"."""
    for field, table in _FILTER_TABLES.items():
        value = getattr(query, field, None)
        if value is None:
            continue
        found = await uow.scalar(
            text(f"select 1 from {table} where company_id = :company and id = :id"),  # noqa: S608 (fixed names)
            {"company": uow.company_id, "id": value},
        )
        if found is None:
            raise ValidationFailed.field(to_camel(field), "does not name a record of your company")


def _page_statement(model: type[Any], shape: frozenset[str], filters: tuple[Any, ...] = ()) -> Select[Any]:
    """The keyset page query with named parameters for the values `page` supplies."""
    # Classes are hashable; mypy does not see it (python/mypy#11470).
    statement = select(*_columns(model)).where(model.company_id == bindparam("company_id"), *filters)  # type: ignore[arg-type]
    if "since" in shape:
        statement = statement.where(model.updated_at >= bindparam("since"))
    if "external_id" in shape:
        statement = statement.where(model.external_id == bindparam("external_id"))
    if "after_id" in shape:
        created_at: BindParameter[Any] = bindparam("after_created_at")
        statement = statement.where(
            or_(
                model.created_at > created_at,
                and_(model.created_at == created_at, model.id > bindparam("after_id")),
            )
        )
    return statement.order_by(model.created_at, model.id).limit(bindparam("limit"))


@cache
def _compiled_page(model: type[Any], shape: frozenset[str]) -> tuple[str, tuple[str, ...]]:
    compiled = _page_statement(model, shape).compile(dialect=asyncpg_dialect())
    return compiled.string, tuple(compiled.positiontup or ())


@cache
def _columns(model: type[Any]) -> tuple[Any, ...]:
    """Every mapped column of `model` (column properties included), labelled by attribute name."""
    return tuple(getattr(model, prop.key).label(prop.key) for prop in model.__mapper__.column_attrs)


def branch_and_day_filters(model: Any, query: Any) -> list[Any]:
    """The `branchId`, `date`, `dateFrom` and `dateTo` clauses of the lists of dated, per-branch
    records (missions, routes): `model` has `branch_id` and `date`, `query` the four filters."""
    clauses: list[Any] = []
    if query.branch_id:
        clauses.append(model.branch_id == query.branch_id)
    if query.date:
        clauses.append(model.date == query.date)
    if query.date_from:
        clauses.append(model.date >= query.date_from)
    if query.date_to:
        clauses.append(model.date <= query.date_to)
    return clauses
