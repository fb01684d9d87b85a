from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import DateTime, UniqueConstraint
from sqlmodel import Field

from app.core.models import TenantColumns, same_company_reference

# Exclusion constraints created by revision 0002 (alembic neither reflects nor compares them):
# no two assignments of one vehicle, or of one driver, overlap in [starts_at, ends_at).
VEHICLE_OVERLAP = "ex_vehicle_driver_assignment_vehicle_overlap"
DRIVER_OVERLAP = "ex_vehicle_driver_assignment_driver_overlap"


class VehicleDriverAssignment(TenantColumns, table=True):
    __tablename__ = "vehicle_driver_assignment"
    __table_args__ = (
        UniqueConstraint("company_id", "external_id", name="uq_vehicle_driver_assignment_external_id"),
        same_company_reference("vehicle_driver_assignment", "vehicle_id", "vehicle"),
        same_company_reference("vehicle_driver_assignment", "driver_id", "driver"),
    )

    external_id: str | None = Field(default=None, max_length=255)
    vehicle_id: uuid.UUID = Field(index=True)
    driver_id: uuid.UUID = Field(index=True)
    starts_at: dt.datetime = Field(sa_type=DateTime(timezone=True))  # type: ignore[call-overload]
    # null = open-ended.
    ends_at: dt.datetime | None = Field(default=None, sa_type=DateTime(timezone=True))  # type: ignore[call-overload]
