from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import Column, DateTime, Index, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from app.core.models import TenantColumns, company_key, same_company_reference

# Events and delivery attempts are kept this long: the events feed, replays and the cleanup agree.
HISTORY = dt.timedelta(days=30)


class WebhookEndpoint(TenantColumns, table=True):
    __tablename__ = "webhook_endpoint"
    __table_args__ = (company_key("webhook_endpoint"),)

    url: str = Field(max_length=2048)
    description: str | None = Field(default=None, max_length=500)
    # Event types delivered to this endpoint; empty means every type.
    event_types: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    status: str = Field(default="enabled", max_length=16)
    disabled_reason: str | None = Field(default=None, max_length=16)  # gone | failing | manual
    # The first failed attempt since the last success: failing this long disables the endpoint.
    failing_since: dt.datetime | None = Field(default=None, sa_type=DateTime(timezone=True))  # type: ignore[call-overload]
    # Signing secrets, encrypted at rest: [{"id", "sealed", "createdAt", "expiresAt"}]. More than
    # one while a rotation is in progress; every unexpired one signs each delivery.
    secrets: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))


class WebhookDelivery(TenantColumns, table=True):
    """One attempt to deliver one event to one endpoint, planned (`pending`, due at `due_at`), in
    flight (`sending`, leased until `lease_until`) or made (`succeeded`, `retrying`: the next attempt
    is planned, `failed`: no more attempts, `cancelled`: the endpoint was disabled first)."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        Index("ix_webhook_delivery_endpoint_created", "endpoint_id", "created_at"),
        # The sweeper's question: which planned attempts are due, which leases ran out.
        Index(
            "ix_webhook_delivery_planned", "due_at", postgresql_where=text("status IN ('pending', 'sending')")
        ),
        same_company_reference("webhook_delivery", "endpoint_id", "webhook_endpoint", ondelete="CASCADE"),
    )

    endpoint_id: uuid.UUID
    event_id: str = Field(max_length=40, index=True)
    event_type: str = Field(max_length=64)
    attempt: int
    status: str = Field(max_length=16)
    trigger: str = Field(default="event", max_length=16)  # event | redeliver | replay | test
    due_at: dt.datetime = Field(sa_type=DateTime(timezone=True))  # type: ignore[call-overload]
    sent_at: dt.datetime | None = Field(default=None, sa_type=DateTime(timezone=True))  # type: ignore[call-overload]
    lease_until: dt.datetime | None = Field(default=None, sa_type=DateTime(timezone=True))  # type: ignore[call-overload]
    response_status: int | None = None
    response_excerpt: str | None = Field(default=None, max_length=1024)
    error: str | None = Field(default=None, max_length=500)
    duration_ms: int | None = None
    next_attempt_at: dt.datetime | None = Field(default=None, sa_type=DateTime(timezone=True))  # type: ignore[call-overload]
