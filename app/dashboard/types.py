from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import strawberry
from pydantic import BaseModel, ValidationError
from strawberry.experimental.pydantic import type as pydantic_type

from app.core.envelope import validation_failed
from app.dashboard import schemas
from app.dashboard.service import dashboard_service
from app.graphql.context import Info
from app.graphql.inputs import graphql_enum
from app.graphql.mutations import query
from app.graphql.relay import Connection, connection, page_query
from app.missions.types import FieldChange, HistoryActor
from app.reports.types import MissionStatusCounts, RouteStatusCounts  # noqa: F401  (registers nested types)

ResourceTypeEnum = graphql_enum(schemas.ResourceType)


def _validated(model: type[BaseModel], values: dict[str, Any]) -> Any:
    """Arguments through the REST query model, so both surfaces refuse the same values alike."""
    try:
        return model.model_validate({k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        raise validation_failed(exc) from None


@pydantic_type(model=schemas.FleetCounts, all_fields=True)
class FleetCounts:
    pass


@pydantic_type(model=schemas.StatsOut, all_fields=True, description="Counters of one day.")
class DashboardStats:
    pass


@strawberry.type(description="One change of any record of the company.")
class ActivityEntry:
    id: uuid.UUID
    at: dt.datetime
    resource_type: str
    resource_id: uuid.UUID
    action: str
    source: str
    actor: HistoryActor
    changes: list[FieldChange]


def as_activity(entry: schemas.ActivityOut) -> ActivityEntry:
    return ActivityEntry(
        id=entry.id, at=entry.at, resource_type=entry.resource_type, resource_id=entry.resource_id,
        action=entry.action, source=entry.source,
        actor=HistoryActor(type=entry.actor.type, id=entry.actor.id, name=entry.actor.name),
        changes=[FieldChange(field=c.field, from_=c.from_, to=c.to) for c in entry.changes],
    )  # fmt: skip


@pydantic_type(model=schemas.MissionsDayOut, all_fields=True)
class MissionsDay:
    pass


@pydantic_type(model=schemas.HourOut, all_fields=True)
class DeliveriesHour:
    pass


@pydantic_type(model=schemas.DistanceDayOut, all_fields=True)
class DistanceDay:
    pass


@pydantic_type(model=schemas.ChartsOut, all_fields=True, description="Series for the dashboard's charts.")
class DashboardCharts:
    pass


@strawberry.type
class DashboardQueries:
    @query(description="Counters of a day (default: today in the branch's time zone).")
    async def dashboard_stats(
        self, info: Info, date: dt.date | None = None, branch_id: uuid.UUID | None = None
    ) -> DashboardStats:
        params = _validated(schemas.StatsQuery, {"date": date, "branchId": branch_id})
        stats = await dashboard_service.stats(info.context.uow, params)
        return DashboardStats.from_pydantic(stats)  # type: ignore[attr-defined,no-any-return]

    @query(description="The company's latest changes, newest first.")
    async def dashboard_recent_activity(
        self, info: Info, first: int = 50, after: str | None = None,
        resource_type: ResourceTypeEnum | None = None,  # type: ignore[valid-type]
    ) -> Connection[ActivityEntry]:  # fmt: skip
        params = page_query(
            schemas.ActivityQuery, first=first, after=after, updated_since=None, external_id=None,
            resource_type=resource_type,
        )  # fmt: skip
        page = await dashboard_service.recent_activity(info.context.uow, params)
        return connection(page, as_activity, after=after)

    @query(description="Missions per day by status, deliveries per hour, distance per day.")
    async def dashboard_charts(
        self, info: Info, date_from: dt.date | None = None, date_to: dt.date | None = None,
        days: int | None = None, branch_id: uuid.UUID | None = None,
    ) -> DashboardCharts:  # fmt: skip
        params = _validated(
            schemas.ChartsQuery,
            {"dateFrom": date_from, "dateTo": date_to, "days": days, "branchId": branch_id},
        )
        charts = await dashboard_service.charts(info.context.uow, params)
        return DashboardCharts.from_pydantic(charts)  # type: ignore[attr-defined,no-any-return]
