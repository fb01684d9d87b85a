from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import Column, DateTime, Index, LargeBinary, UniqueConstraint, inspect, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import column_property
from sqlmodel import Field, col

from app.core.clock import utcnow
from app.core.models import TenantColumns, company_key, same_company_reference
from app.routes.models import Route


class Mission(TenantColumns, table=True):
    """One delivery or pickup. While on a route it is also that route's stop: the stop's timing
    (`sequence`, `eta`, `etd`, legs) lives on the mission row."""

    __tablename__ = "mission"
    __table_args__ = (
        UniqueConstraint("company_id", "external_id", name="uq_mission_external_id"),
        Index("ix_mission_company_date", "company_id", "date"),
        Index("ix_mission_route_sequence", "route_id", "sequence"),
        # Lists and exports page by (created_at, id) within a company.
        Index("ix_mission_company_created", "company_id", "created_at", "id"),
        company_key("mission"),
        same_company_reference("mission", "branch_id", "branch"),
        same_company_reference("mission", "route_id", "route"),
        # Reports' failure reasons and failures section: the period's failed missions only.
        Index("ix_mission_failed", "company_id", "date", postgresql_where=text("status = 'failed'")),
    )

    external_id: str | None = Field(default=None, max_length=255)
    branch_id: uuid.UUID = Field(index=True)
    type: str = Field(default="delivery", max_length=16)
    date: dt.date
    customer_name: str | None = Field(default=None, max_length=200)
    customer_phone: str | None = Field(default=None, max_length=40)
    customer_email: str | None = Field(default=None, max_length=320)
    address: str | None = Field(default=None, max_length=500)
    latitude: float
    longitude: float
    time_window_start: dt.time | None = None
    time_window_end: dt.time | None = None
    service_duration_seconds: int = 300
    priority: int = 0
    weight_kg: float | None = None
    volume_m3: float | None = None
    items: int | None = None
    notes: str | None = Field(default=None, max_length=2000)
    proof_required: bool = True

    status: str = Field(default="unassigned", max_length=16, index=True)
    route_id: uuid.UUID | None = None
    sequence: int | None = None
    eta: dt.datetime | None = Field(default=None, sa_type=DateTime(timezone=True))  # type: ignore[call-overload]
    etd: dt.datetime | None = Field(default=None, sa_type=DateTime(timezone=True))  # type: ignore[call-overload]
    distance_from_previous_meters: int | None = None
    duration_from_previous_seconds: int | None = None
    failure_reason: str | None = Field(default=None, max_length=500)
    # Credits are charged once per mission, the first time it is scheduled (see app/credits).
    credit_charged: bool = False
    started_at: dt.datetime | None = Field(default=None, sa_type=DateTime(timezone=True))  # type: ignore[call-overload]
    finished_at: dt.datetime | None = Field(default=None, sa_type=DateTime(timezone=True))  # type: ignore[call-overload]

    # Proof of delivery: a 5-digit code, stored only as a keyed hash.
    proof_code_hash: bytes | None = Field(default=None, sa_type=LargeBinary)  # type: ignore[call-overload]
    proof_sent_to: str | None = Field(default=None, max_length=320)
    proof_sms_status: str = Field(default="not_sent", max_length=16)
    proof_sent_at: dt.datetime | None = Field(default=None, sa_type=DateTime(timezone=True))  # type: ignore[call-overload]
    proof_expires_at: dt.datetime | None = Field(default=None, sa_type=DateTime(timezone=True))  # type: ignore[call-overload]
    proof_attempts: int = 0
    proof_max_attempts: int = 5
    proof_verified_at: dt.datetime | None = Field(default=None, sa_type=DateTime(timezone=True))  # type: ignore[call-overload]

    if TYPE_CHECKING:
        # Read-only, mapped below through the route; declared here only so the checker knows them.
        driver_id: ClassVar[uuid.UUID | None]
        vehicle_id: ClassVar[uuid.UUID | None]


# Who drives a mission is its route's driver: read through the route, never copied, so assigning a
# driver to a route can never leave missions pointing at the old one. Not expired by a flush (that
# would force a lazy load under asyncio); dispatch keeps loaded missions in step (events.follow_route).
inspect(Mission).add_property(
    "driver_id",
    column_property(
        select(col(Route.driver_id)).where(col(Route.id) == Mission.route_id).scalar_subquery(),
        expire_on_flush=False,
    ),
)
inspect(Mission).add_property(
    "vehicle_id",
    column_property(
        select(col(Route.vehicle_id)).where(col(Route.id) == Mission.route_id).scalar_subquery(),
        expire_on_flush=False,
    ),
)


class MissionExecution(TenantColumns, table=True):
    """Something that happened to a mission in the field (started, delivered, failed, proof
    verified, cancelled): the raw material of route timelines."""

    __tablename__ = "mission_execution"
    __table_args__ = (
        Index("ix_mission_execution_route", "company_id", "route_id", "at"),
        same_company_reference("mission_execution", "mission_id", "mission", ondelete="CASCADE"),
        same_company_reference("mission_execution", "route_id", "route", ondelete="SET NULL"),
    )

    mission_id: uuid.UUID = Field(index=True)
    route_id: uuid.UUID | None = None
    kind: str = Field(max_length=32)
    at: dt.datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))  # type: ignore[call-overload]
    latitude: float | None = None
    longitude: float | None = None
    source: str = Field(max_length=16)
    actor_type: str = Field(max_length=16)
    actor_id: uuid.UUID | None = None
    actor_name: str = Field(max_length=255)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
