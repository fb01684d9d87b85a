"""Report shapes: a period of missions and routes, summed (overview) or row by row (details)."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from pydantic import Field, RootModel, ValidationInfo, field_validator

from app.core.schemas import OutModel, QueryModel

# A year and a day: a leap year's whole span fits; longer ranges are refused, not clamped.
MAX_RANGE_DAYS = 366


class Section(enum.StrEnum):
    MISSIONS = "missions"
    ROUTES = "routes"
    DRIVERS = "drivers"
    VEHICLES = "vehicles"
    FAILURES = "failures"
    PROOF = "proof"


def check_range(date_from: dt.date | None, date_to: dt.date) -> dt.date:
    if date_from is None:
        return date_to
    if date_to < date_from:
        raise ValueError("must not be before dateFrom")
    if (date_to - date_from).days + 1 > MAX_RANGE_DAYS:
        raise ValueError(f"the range may span at most {MAX_RANGE_DAYS} days")
    return date_to


class ReportQuery(QueryModel):
    date_from: dt.date = Field(description="First day of the period (YYYY-MM-DD), by mission/route date.")
    date_to: dt.date = Field(description=f"Last day of the period, inclusive; at most {MAX_RANGE_DAYS} days.")
    branch_id: uuid.UUID | None = Field(None, description="Only this branch.")

    @field_validator("date_to")
    @classmethod
    def _range(cls, value: dt.date, info: ValidationInfo) -> dt.date:
        return check_range(info.data.get("date_from"), value)


class ReportDetailsQuery(ReportQuery):
    limit: int = Field(50, ge=1, le=200, description="Page size, 1..200.")
    cursor: str | None = Field(None, description="Opaque cursor from `pagination.nextCursor`.")


# --- overview -----------------------------------------------------------------------------------


class MissionStatusCounts(OutModel):
    unassigned: int = 0
    scheduled: int = 0
    in_progress: int = 0
    delivered: int = 0
    proofed: int = 0
    failed: int = 0
    cancelled: int = 0


class RouteStatusCounts(OutModel):
    planned: int = 0
    assigned: int = 0
    in_progress: int = 0
    completed: int = 0


class PeriodOut(OutModel):
    date_from: dt.date
    date_to: dt.date
    days: int
    branch_id: uuid.UUID | None


class MissionTotals(OutModel):
    total: int
    by_status: MissionStatusCounts
    delivered: int = Field(description="Delivered or proofed.")
    completion_rate: float | None = Field(description="delivered / (delivered + failed); null when 0/0.")


class OnTimeOut(OutModel):
    evaluated: int = Field(description="Delivered/proofed missions that have a time window.")
    on_time: int
    early: int
    late: int
    without_window: int = Field(description="Delivered/proofed missions without a time window (not rated).")
    rate: float | None = Field(description="onTime / evaluated, 0..1; null when nothing was evaluated.")


class FailureReasonCount(OutModel):
    reason: str
    count: int


class FailuresOut(OutModel):
    total: int
    reasons: list[FailureReasonCount]


class ProofTotalsOut(OutModel):
    required: int = Field(description="Delivered or proofed missions that need proof.")
    proofed: int
    pending: int
    rate: float | None


class RouteTotals(OutModel):
    total: int
    by_status: RouteStatusCounts
    completed: int
    total_distance_meters: int
    total_duration_seconds: int


class CreditsOut(OutModel):
    consumed: int
    refunded: int
    net: int


class DayOut(OutModel):
    date: dt.date
    missions: int
    delivered: int
    failed: int
    cancelled: int
    on_time: int
    routes: int
    distance_meters: int
    duration_seconds: int


class OverviewOut(OutModel):
    period: PeriodOut
    missions: MissionTotals
    on_time: OnTimeOut
    failures: FailuresOut
    proof: ProofTotalsOut
    routes: RouteTotals
    credits: CreditsOut
    daily: list[DayOut]


# --- detail rows --------------------------------------------------------------------------------


class MissionRow(OutModel):
    id: uuid.UUID
    external_id: str | None
    date: dt.date
    branch_id: uuid.UUID
    status: str
    route_id: uuid.UUID | None
    driver_id: uuid.UUID | None
    vehicle_id: uuid.UUID | None
    customer_name: str | None
    time_window_start: dt.time | None
    time_window_end: dt.time | None
    finished_at: dt.datetime | None
    on_time: bool | None
    failure_reason: str | None
    proof_required: bool
    proof_verified_at: dt.datetime | None


class RouteRow(OutModel):
    id: uuid.UUID
    external_id: str | None
    name: str
    date: dt.date
    branch_id: uuid.UUID
    status: str
    driver_id: uuid.UUID | None
    vehicle_id: uuid.UUID | None
    stops: int
    delivered: int
    failed: int
    total_distance_meters: int
    total_duration_seconds: int
    started_at: dt.datetime | None
    completed_at: dt.datetime | None


class DriverRow(OutModel):
    driver_id: uuid.UUID
    name: str
    branch_id: uuid.UUID
    status: str
    routes: int
    completed_routes: int
    missions: int
    delivered: int
    failed: int
    on_time: int
    evaluated: int
    on_time_rate: float | None
    distance_meters: int
    duration_seconds: int


class VehicleRow(OutModel):
    vehicle_id: uuid.UUID
    name: str
    plate_number: str | None
    branch_id: uuid.UUID
    status: str
    routes: int
    stops: int
    distance_meters: int
    duration_seconds: int
    load_weight_kg: float
    load_volume_m3: float
    load_items: int
    capacity_weight_kg: float | None
    capacity_volume_m3: float | None
    capacity_items: int | None
    weight_utilization: float | None
    volume_utilization: float | None
    items_utilization: float | None


class FailureRow(OutModel):
    mission_id: uuid.UUID
    external_id: str | None
    date: dt.date
    branch_id: uuid.UUID
    route_id: uuid.UUID | None
    driver_id: uuid.UUID | None
    customer_name: str | None
    address: str | None
    failure_reason: str | None
    failed_at: dt.datetime | None


class ProofRow(OutModel):
    mission_id: uuid.UUID
    external_id: str | None
    date: dt.date
    branch_id: uuid.UUID
    route_id: uuid.UUID | None
    driver_id: uuid.UUID | None
    status: str
    proofed: bool
    delivered_at: dt.datetime | None
    verified_at: dt.datetime | None
    attempts: int
    max_attempts: int
    sms_status: str


ROW_MODELS: dict[Section, type[OutModel]] = {
    Section.MISSIONS: MissionRow,
    Section.ROUTES: RouteRow,
    Section.DRIVERS: DriverRow,
    Section.VEHICLES: VehicleRow,
    Section.FAILURES: FailureRow,
    Section.PROOF: ProofRow,
}


class ReportRow(RootModel[MissionRow | RouteRow | DriverRow | VehicleRow | FailureRow | ProofRow]):
    """One row of a details section; which shape depends on the section (see the description)."""


def ratio(part: int | float, whole: int | float) -> float | None:
    return round(part / whole, 4) if whole else None


def counts(model: type[Any], rows: dict[str, int]) -> Any:
    return model(**{k: v for k, v in rows.items() if k in model.model_fields})
