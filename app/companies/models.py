from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import DateTime, Index, text
from sqlmodel import Field, SQLModel

from app.core.clock import utcnow
from app.core.models import TenantColumns, new_id


class Company(SQLModel, table=True):
    __tablename__ = "company"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    name: str = Field(max_length=200)
    # Running balance of the credit ledger, kept on the row so a conditional UPDATE can charge it
    # atomically: two concurrent requests can never overspend.
    credits_balance: int = Field(default=0)
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))  # type: ignore[call-overload]
    updated_at: dt.datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))  # type: ignore[call-overload]


class WebUser(TenantColumns, table=True):
    __tablename__ = "web_user"
    __table_args__ = (Index("ux_web_user_email_lower", text("lower(email)"), unique=True),)

    # Login is by email alone, so an email names one user across the platform (unique index on lower()).
    email: str = Field(max_length=320)
    name: str = Field(default="", max_length=200)
    password_hash: str = Field(max_length=255)
    role: str = Field(max_length=16)  # admin | dispatcher | viewer
