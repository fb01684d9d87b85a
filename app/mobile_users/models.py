from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import DateTime, UniqueConstraint
from sqlmodel import Field

from app.core.models import TenantColumns, company_key, same_company_reference


class MobileUser(TenantColumns, table=True):
    """A driver's app account. Sign-in is by phone or email before any company is known, so both
    are unique across the platform (stored normalised: email lower-case, phone without spaces)."""

    __tablename__ = "mobile_user"
    __table_args__ = (
        UniqueConstraint("email", name="uq_mobile_user_email"),
        UniqueConstraint("phone", name="uq_mobile_user_phone"),
        company_key("mobile_user"),
        same_company_reference("mobile_user", "driver_id", "driver", ondelete="CASCADE"),
    )

    driver_id: uuid.UUID = Field(unique=True)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=320)
    password_hash: str = Field(max_length=255)
    status: str = Field(default="active", max_length=16)
    last_login_at: dt.datetime | None = Field(default=None, sa_type=DateTime(timezone=True))  # type: ignore[call-overload]


class Device(TenantColumns, table=True):
    __tablename__ = "device"
    __table_args__ = (
        UniqueConstraint("mobile_user_id", "device_id", name="uq_device_mobile_user_device"),
        same_company_reference("device", "mobile_user_id", "mobile_user", ondelete="CASCADE"),
    )

    mobile_user_id: uuid.UUID = Field(index=True)
    # The app's installation id: registering the same phone again updates its row.
    device_id: str = Field(max_length=200)
    platform: str = Field(max_length=16)
    model: str | None = Field(default=None, max_length=200)
    app_version: str | None = Field(default=None, max_length=50)
    last_seen_at: dt.datetime = Field(sa_type=DateTime(timezone=True))  # type: ignore[call-overload]
