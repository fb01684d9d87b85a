"""Transactional outbox: domain events are rows written in the same transaction as the change,
so a committed change always has its event and a rolled-back one never does. Delivery reads them."""

from __future__ import annotations

import datetime as dt
import uuid
from functools import partial
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, String, text
from sqlmodel import Field, SQLModel

from app.core import jobs, jsonutil
from app.core.clock import utcnow
from app.core.db import UnitOfWork
from app.core.models import new_id

EVENT_TYPES = frozenset(
    {
        "mission.created", "mission.updated", "mission.deleted", "mission.status_changed",
        "route.created", "route.optimized", "route.assigned", "route.reordered", "route.deleted",
        "route.completed", "driver.created", "driver.updated", "driver.deleted",
        "vehicle.created", "vehicle.updated", "vehicle.deleted",
        "vehicle_driver_assignment.created", "vehicle_driver_assignment.updated",
        "vehicle_driver_assignment.deleted",
    }
)  # fmt: skip


# Implemented in workers/webhooks.py; named here because the app sends by name.
DISPATCH_ACTOR = "webhook.dispatch"
DISPATCH_MANY_ACTOR = "webhook.dispatch_many"
QUEUE = "webhooks"


class WebhookEvent(SQLModel, table=True):
    __tablename__ = "webhook_event"
    # The sweeper's question: which events are still pending, oldest first.
    __table_args__ = (
        Index("ix_webhook_event_pending", "created_at", postgresql_where=text("status = 'pending'")),
        # The events feed: a company's events in id (= time) order.
        Index("ix_webhook_event_company_id_id", "company_id", "id"),
    )

    id: str = Field(primary_key=True, max_length=40)
    company_id: uuid.UUID = Field(foreign_key="company.id", index=True, ondelete="CASCADE")
    type: str = Field(sa_column=Column(String(64), nullable=False))
    resource_type: str = Field(max_length=64)
    resource_id: uuid.UUID
    # `json`, not `jsonb`: sent whole, never searched, and kept exactly as written.
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))  # type: ignore[call-overload]
    status: str = Field(default="pending", max_length=16)


def new_event_id() -> str:
    return "evt_" + new_id().hex


async def record_event(
    uow: UnitOfWork, event_type: str, resource_type: str, resource_id: uuid.UUID, data: dict[str, Any]
) -> WebhookEvent:
    """Write one webhook event for the change being made in this unit of work."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type}")
    now = utcnow()
    event_id = new_event_id()
    payload = {
        "id": event_id,
        "type": event_type,
        "timestamp": jsonutil.iso_z(now),
        "companyId": str(uow.company_id),
        "resourceType": resource_type,
        "resourceId": str(resource_id),
        # Normalised through JSON once so the stored body is exactly what receivers get.
        "data": jsonutil.loads(jsonutil.dumps(data)),
    }
    event = WebhookEvent(
        id=event_id,
        company_id=uow.company_id,
        type=event_type,
        resource_type=resource_type,
        resource_id=resource_id,
        payload=payload,
        created_at=now,
    )
    uow.add(event)
    announce(uow, [event_id])
    return event


def announce(uow: UnitOfWork, event_ids: list[str]) -> None:
    """After commit, hand the events to webhook delivery (a rolled-back change sends nothing).
    All the events of one transaction go out as one message, however many there are."""
    if not uow.announced_events:
        company_id = str(uow.company_id)
        uow.after_commit.append(partial(_send, company_id, uow.announced_events))
    uow.announced_events.extend(event_ids)


def _send(company_id: str, event_ids: list[str]) -> None:
    if len(event_ids) == 1:
        jobs.send(DISPATCH_ACTOR, company_id, event_ids[0], queue_name=QUEUE)
    elif event_ids:
        jobs.send(DISPATCH_MANY_ACTOR, company_id, list(event_ids), queue_name=QUEUE)
