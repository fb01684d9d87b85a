from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import UniqueConstraint
from sqlmodel import Field

from app.core.models import TenantColumns, company_key, same_company_reference


class Depot(TenantColumns, table=True):
    __tablename__ = "depot"
    __table_args__ = (
        UniqueConstraint("company_id", "external_id", name="uq_depot_external_id"),
        company_key("depot"),
        same_company_reference("depot", "branch_id", "branch"),
    )

    external_id: str | None = Field(default=None, max_length=255)
    branch_id: uuid.UUID = Field(index=True)
    name: str = Field(max_length=200)
    address: str | None = Field(default=None, max_length=500)
    latitude: float
    longitude: float
    opening_time: dt.time | None = None
    closing_time: dt.time | None = None
