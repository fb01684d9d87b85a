from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import strawberry
from pydantic import ValidationError
from strawberry.experimental.pydantic import type as pydantic_type

from app.core.envelope import validation_failed
from app.graphql.context import Info
from app.graphql.crud import argument, dynamic_field
from app.graphql.mutations import query
from app.graphql.relay import Connection, connection, page_query
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


@pydantic_type(model=schemas.ProofTotalsOut, all_fields=True)
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
    return connection(page, convert.from_pydantic, after=after)


@strawberry.type
class ReportQueries:
    @query(description="A period's delivery figures (see GET /api/v1/reports/overview).")
    async def report_overview(
        self, info: Info, date_from: dt.date, date_to: dt.date, branch_id: uuid.UUID | None = None
    ) -> ReportOverview:
        overview = await report_service.overview(info.context.uow, period(date_from, date_to, branch_id))
        return ReportOverview.from_pydantic(overview)  # type: ignore[attr-defined,no-any-return]


# One paged query per details section, with the same arguments as GET /reports/details/:section.
SECTIONS: tuple[tuple[str, schemas.Section, Any, str], ...] = (
    ("report_missions", schemas.Section.MISSIONS, ReportMissionRow,
     "The period's missions, with on-time flags."),
    ("report_routes", schemas.Section.ROUTES, ReportRouteRow,
     "The period's routes with stop, delivered and failed counts."),
    ("report_drivers", schemas.Section.DRIVERS, ReportDriverRow,
     "Every driver with the period's routes, missions and on-time figures."),
    ("report_vehicles", schemas.Section.VEHICLES, ReportVehicleRow,
     "Every vehicle with the period's routes, load and utilisation against capacity."),
    ("report_failures", schemas.Section.FAILURES, ReportFailureRow,
     "The period's failed missions with their reasons."),
    ("report_proof", schemas.Section.PROOF, ReportProofRow,
     "The period's delivered missions that need proof, and whether they have it."),
)  # fmt: skip


def _section_field(section: schemas.Section, row_type: Any, description: str) -> Any:
    async def rows(self: Any, info: Info, first: int = 50, after: str | None = None, **period: Any) -> Any:
        return await _rows(info, section, row_type, first, after, **period)

    params = [
        argument("date_from", dt.date), argument("date_to", dt.date),
        argument("branch_id", uuid.UUID | None, None), argument("first", int, 50),
        argument("after", str | None, None),
    ]  # fmt: skip
    return dynamic_field(rows, params, Connection[row_type], query(description=description))


ReportSectionQueries = strawberry.type(
    type(
        "ReportSectionQueries", (), {name: _section_field(sec, row, doc) for name, sec, row, doc in SECTIONS}
    )
)
