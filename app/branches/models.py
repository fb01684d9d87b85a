from __future__ import annotations

from sqlalchemy import UniqueConstraint
from sqlmodel import Field

from app.core.models import TenantColumns, company_key


class Branch(TenantColumns, table=True):
    __tablename__ = "branch"
    __table_args__ = (
        UniqueConstraint("company_id", "external_id", name="uq_branch_external_id"),
        company_key("branch"),
    )

    external_id: str | None = Field(default=None, max_length=255)
    name: str = Field(max_length=200)
    address: str | None = Field(default=None, max_length=500)
    latitude: float | None = None
    longitude: float | None = None
    timezone: str = Field(default="UTC", max_length=64)
    phone: str | None = Field(default=None, max_length=40)
