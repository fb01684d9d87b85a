from __future__ import annotations

import uuid

from sqlalchemy import UniqueConstraint
from sqlmodel import Field

from app.core.models import TenantColumns, company_key, same_company_reference


class Vehicle(TenantColumns, table=True):
    __tablename__ = "vehicle"
    __table_args__ = (
        UniqueConstraint("company_id", "external_id", name="uq_vehicle_external_id"),
        company_key("vehicle"),
        same_company_reference("vehicle", "branch_id", "branch"),
    )

    external_id: str | None = Field(default=None, max_length=255)
    branch_id: uuid.UUID = Field(index=True)
    name: str = Field(max_length=200)
    plate_number: str | None = Field(default=None, max_length=32)
    type: str = Field(max_length=16)
    status: str = Field(default="active", max_length=16)
    # null = unlimited in that dimension.
    capacity_weight_kg: float | None = None
    capacity_volume_m3: float | None = None
    capacity_items: int | None = None
    cost_per_km: float | None = None
