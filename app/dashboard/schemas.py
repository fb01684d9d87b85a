"""Dashboard shapes: today's counters, the company's latest changes, and chart series."""

from __future__ import annotations

import datetime as dt
import enum
import uuid

from pydantic import Field, ValidationInfo, field_validator, model_validator

from app.core.schemas import OutModel, QueryModel, field_error
from app.missions.schemas import ActorOut, ChangeOut
from app.reports.schemas import MissionStatusCounts, RouteStatusCounts, check_range


class StatsQuery(QueryModel):
    date: dt.date | None = Field(None, description="The day; default: today in the branch's time zone.")
    branch_id: uuid.UUID | None = Field(None, description="Only this branch.")


class FleetCounts(OutModel):
    total: int
    active: int
    on_route: int = Field(description="Distinct ones on a route of the day.")


class StatsOut(OutModel):
    date: dt.date
    branch_id: uuid.UUID | None
    missions: MissionStatusCounts
    missions_total: int
    routes: RouteStatusCounts
    routes_total: int
    drivers: FleetCounts
    vehicles: FleetCounts
    credits_remaining: int


class ResourceType(enum.StrEnum):
    MISSION = "mission"
    ROUTE = "route"
    DRIVER = "driver"
    VEHICLE = "vehicle"
    BRANCH = "branch"
    DEPOT = "depot"
    MOBILE_USER = "mobile_user"
    VEHICLE_DRIVER_ASSIGNMENT = "vehicle_driver_assignment"


class ActivityQuery(QueryModel):
    limit: int = Field(50, ge=1, le=200, description="Page size, 1..200.")
    cursor: str | None = Field(None, description="Opaque cursor from `pagination.nextCursor`.")
    resource_type: ResourceType | None = Field(None, description="Only changes of this kind of record.")


class ActivityOut(OutModel):
    id: uuid.UUID
    at: dt.datetime
    resource_type: str
    resource_id: uuid.UUID
    action: str
    source: str
    actor: ActorOut
    changes: list[ChangeOut]


class ChartsQuery(QueryModel):
    date_from: dt.date | None = Field(None, description="First day; with dateTo, instead of `days`.")
    date_to: dt.date | None = Field(
        None, description="Last day, inclusive (at most 366 days after dateFrom)."
    )
    days: int | None = Field(
        None, ge=7, le=90, description="The last `days` days up to today (7..90; default 7)."
    )
    branch_id: uuid.UUID | None = Field(None, description="Only this branch.")

    # Field validators rather than a model validator, so a refusal names its parameter.
    @field_validator("date_to")
    @classmethod
    def _range(cls, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        return None if value is None else check_range(info.data.get("date_from"), value)

    @field_validator("days")
    @classmethod
    def _one_way(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is not None and info.data.get("date_from") is not None:
            raise ValueError("give either days or dateFrom/dateTo, not both")
        return value

    @model_validator(mode="after")
    def _together(self) -> ChartsQuery:
        if (self.date_from is None) != (self.date_to is None):
            missing = "dateTo" if self.date_to is None else "dateFrom"
            raise field_error((missing,), "dateFrom and dateTo go together")
        return self


class MissionsDayOut(MissionStatusCounts):
    date: dt.date
    total: int


class HourOut(OutModel):
    hour: int = Field(description="0..23, branch-local.")
    delivered: int


class DistanceDayOut(OutModel):
    date: dt.date
    routes: int
    distance_meters: int
    duration_seconds: int


class ChartsOut(OutModel):
    date_from: dt.date
    date_to: dt.date
    branch_id: uuid.UUID | None
    missions_per_day: list[MissionsDayOut]
    deliveries_per_hour: list[HourOut]
    distance_per_day: list[DistanceDayOut]
