from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import DateTime, Index, UniqueConstraint
from sqlmodel import Field

from app.core.models import TenantColumns, company_key, same_company_reference


class Route(TenantColumns, table=True):
    """One vehicle's ordered day of work. Its stops are its missions, ordered by `sequence`."""

    __tablename__ = "route"
    __table_args__ = (
        UniqueConstraint("company_id", "external_id", name="uq_route_external_id"),
        company_key("route"),
        same_company_reference("route", "branch_id", "branch"),
        # SET NULL: a completed route outlives the driver or vehicle it had (open routes block the delete).
        same_company_reference("route", "driver_id", "driver", ondelete="SET NULL"),
        same_company_reference("route", "vehicle_id", "vehicle", ondelete="SET NULL"),
        same_company_reference("route", "start_depot_id", "depot"),
        same_company_reference("route", "end_depot_id", "depot"),
        # Reports: a day's or period's routes, and each listed driver's or vehicle's routes of it.
        Index("ix_route_company_date", "company_id", "date"),
        Index("ix_route_driver_date", "company_id", "driver_id", "date"),
        Index("ix_route_vehicle_date", "company_id", "vehicle_id", "date"),
    )

    external_id: str | None = Field(default=None, max_length=255)
    branch_id: uuid.UUID = Field(index=True)
    date: dt.date = Field(index=True)
    name: str = Field(max_length=200)
    status: str = Field(default="planned", max_length=16, index=True)
    driver_id: uuid.UUID | None = Field(default=None, index=True)
    vehicle_id: uuid.UUID | None = Field(default=None, index=True)
    start_depot_id: uuid.UUID | None = None
    end_depot_id: uuid.UUID | None = None
    start_time: dt.time | None = None
    total_distance_meters: int = 0
    total_duration_seconds: int = 0
    optimized_at: dt.datetime | None = Field(default=None, sa_type=DateTime(timezone=True))  # type: ignore[call-overload]
    started_at: dt.datetime | None = Field(default=None, sa_type=DateTime(timezone=True))  # type: ignore[call-overload]
    completed_at: dt.datetime | None = Field(default=None, sa_type=DateTime(timezone=True))  # type: ignore[call-overload]
