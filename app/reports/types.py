from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import strawberry
from pydantic import ValidationError
from strawberry.experimental.pydantic import type as pydantic_type

from app.core.envelope import validation_failed
from app.graphql.context import Info
from app.graphql.mutations import query
from app.graphql.relay import Connection, page_query
from app.reports import schemas
from app.reports.service import report_service


@pydantic_type(model=schemas.MissionStatusCounts, all_fields=True)
class MissionStatusCounts:
    pass


@pydantic_type(model=schemas.RouteStatusCounts, all_fields=True)
class RouteStatusCounts:
    pass


@pydantic_type(model=schemas.PeriodOut, all_fields=True)
class ReportPeriod:
    pass


@pydantic_type(model=schemas.MissionTotals, all_fields=True)
class ReportMissions:
    pass


@pydantic_type(model=schemas.OnTimeOut, all_fields=True)
class ReportOnTime:
    pass


@pydantic_type(model=schemas.FailureReasonCount, all_fields=True)
class FailureReasonCount:
    pass


@pydantic_type(model=schemas.FailuresOut, all_fields=True)
class ReportFailures:
    pass


@pydantic_type(model=schemas.ProofOut, all_fields=True)
class ReportProof:
    pass


@pydantic_type(model=schemas.RouteTotals, all_fields=True)
class ReportRoutes:
    pass


@pydantic_type(model=schemas.CreditsOut, all_fields=True)
class ReportCredits:
    pass


@pydantic_type(model=schemas.DayOut, all_fields=True)
class ReportDay:
    pass


@pydantic_type(model=schemas.OverviewOut, all_fields=True, description="A period's delivery figures.")
class ReportOverview:
    pass


@pydantic_type(model=schemas.MissionRow, all_fields=True)
class ReportMissionRow:
    pass


@pydantic_type(model=schemas.RouteRow, all_fields=True)
class ReportRouteRow:
    pass


@pydantic_type(model=schemas.DriverRow, all_fields=True)
class ReportDriverRow:
    pass


@pydantic_type(model=schemas.VehicleRow, all_fields=True)
class ReportVehicleRow:
    pass


@pydantic_type(model=schemas.FailureRow, all_fields=True)
class ReportFailureRow:
    pass


@pydantic_type(model=schemas.ProofRow, all_fields=True)
class ReportProofRow:
    pass


def period(date_from: dt.date, date_to: dt.date, branch_id: uuid.UUID | None) -> schemas.ReportQuery:
    """Arguments through the REST query model, so both surfaces refuse the same ranges alike."""
    try:
        return schemas.ReportQuery.model_validate(
            {"dateFrom": date_from.isoformat(), "dateTo": date_to.isoformat(), "branchId": branch_id}
        )
    except ValidationError as exc:
        raise validation_failed(exc) from None


async def _rows(
    info: Info, section: schemas.Section, convert: Any, first: int, after: str | None, **args: Any
) -> Any:
    checked = period(**args)
    params = page_query(
        schemas.ReportDetailsQuery, first=first, after=after, updated_since=None, external_id=None,
        date_from=checked.date_from, date_to=checked.date_to, branch_id=checked.branch_id,
    )  # fmt: skip
    page = await report_service.details(info.context.uow, section.value, params)
    items = [convert.from_pydantic(row) for row in page.items]
    return Connection(items=items, next_cursor=page.next_cursor, has_more=page.has_more)


@strawberry.type
class ReportQueries:
    @query(description="A period's delivery figures (see GET /api/v1/reports/overview).")
    async def report_overview(
        self, info: Info, date_from: dt.date, date_to: dt.date, branch_id: uuid.UUID | None = None
    ) -> ReportOverview:
        overview = await report_service.overview(info.context.uow, period(date_from, date_to, branch_id))
        return ReportOverview.from_pydantic(overview)  # type: ignore[attr-defined,no-any-return]

    @query(description="The period's missions, with on-time flags.")
    async def report_missions(
        self, info: Info, date_from: dt.date, date_to: dt.date, branch_id: uuid.UUID | None = None,
        first: int = 50, after: str | None = None,
    ) -> Connection[ReportMissionRow]:  # fmt: skip
        return await _rows(info, schemas.Section.MISSIONS, ReportMissionRow, first, after,
                           date_from=date_from, date_to=date_to, branch_id=branch_id)  # fmt: skip

    @query(description="The period's routes with stop, delivered and failed counts.")
    async def report_routes(
        self, info: Info, date_from: dt.date, date_to: dt.date, branch_id: uuid.UUID | None = None,
        first: int = 50, after: str | None = None,
    ) -> Connection[ReportRouteRow]:  # fmt: skip
        return await _rows(info, schemas.Section.ROUTES, ReportRouteRow, first, after,
                           date_from=date_from, date_to=date_to, branch_id=branch_id)  # fmt: skip

    @query(description="Every driver with the period's routes, missions and on-time figures.")
    async def report_drivers(
        self, info: Info, date_from: dt.date, date_to: dt.date, branch_id: uuid.UUID | None = None,
        first: int = 50, after: str | None = None,
    ) -> Connection[ReportDriverRow]:  # fmt: skip
        return await _rows(info, schemas.Section.DRIVERS, ReportDriverRow, first, after,
                           date_from=date_from, date_to=date_to, branch_id=branch_id)  # fmt: skip

    @query(description="Every vehicle with the period's routes, load and utilisation against capacity.")
    async def report_vehicles(
        self, info: Info, date_from: dt.date, date_to: dt.date, branch_id: uuid.UUID | None = None,
        first: int = 50, after: str | None = None,
    ) -> Connection[ReportVehicleRow]:  # fmt: skip
        return await _rows(info, schemas.Section.VEHICLES, ReportVehicleRow, first, after,
                           date_from=date_from, date_to=date_to, branch_id=branch_id)  # fmt: skip

    @query(description="The period's failed missions with their reasons.")
    async def report_failures(
        self, info: Info, date_from: dt.date, date_to: dt.date, branch_id: uuid.UUID | None = None,
        first: int = 50, after: str | None = None,
    ) -> Connection[ReportFailureRow]:  # fmt: skip
        return await _rows(info, schemas.Section.FAILURES, ReportFailureRow, first, after,
                           date_from=date_from, date_to=date_to, branch_id=branch_id)  # fmt: skip

    @query(description="The period's delivered missions that need proof, and whether they have it.")
    async def report_proof(
        self, info: Info, date_from: dt.date, date_to: dt.date, branch_id: uuid.UUID | None = None,
        first: int = 50, after: str | None = None,
    ) -> Connection[ReportProofRow]:  # fmt: skip
        return await _rows(info, schemas.Section.PROOF, ReportProofRow, first, after,
                           date_from=date_from, date_to=date_to, branch_id=branch_id)  # fmt: skip
