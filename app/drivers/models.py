from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import DateTime, LargeBinary, UniqueConstraint
from sqlmodel import Field

from app.core.models import TenantColumns, company_key, same_company_reference


class Driver(TenantColumns, table=True):
    __tablename__ = "driver"
    __table_args__ = (
        UniqueConstraint("company_id", "external_id", name="uq_driver_external_id"),
        company_key("driver"),
        same_company_reference("driver", "branch_id", "branch"),
    )

    external_id: str | None = Field(default=None, max_length=255)
    branch_id: uuid.UUID = Field(index=True)
    first_name: str = Field(max_length=200)
    last_name: str = Field(max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=320)
    status: str = Field(default="active", max_length=16)
    shift_start: dt.time | None = None
    shift_end: dt.time | None = None
    # Set when an invite is accepted. No foreign key: mobile_user already points here, and a
    # cycle would make both tables' creation and deletion order-dependent.
    mobile_user_id: uuid.UUID | None = None


class DriverInvite(TenantColumns, table=True):
    """The one open invite of a driver (a new one replaces it); removed when accepted."""

    __tablename__ = "driver_invite"
    __table_args__ = (same_company_reference("driver_invite", "driver_id", "driver", ondelete="CASCADE"),)

    driver_id: uuid.UUID = Field(unique=True)
    # HMAC of the code under the deployment's secret, like API tokens: the code is shown once.
    code_hash: bytes = Field(sa_type=LargeBinary, unique=True)  # type: ignore[call-overload]
    sent_to: str | None = Field(default=None, max_length=320)
    expires_at: dt.datetime = Field(sa_type=DateTime(timezone=True))  # type: ignore[call-overload]
