"""The events feed: what webhooks deliver, for integrators who pull instead (or catch up after an
outage). A company's events of the last 30 days, oldest first, each exactly as delivered."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StringConstraints, WithJsonSchema
from sqlalchemy import select
from sqlmodel import col

from app.core.clock import utcnow
from app.core.db import UnitOfWork
from app.core.errors import NotFound
from app.core.outbox import EVENT_TYPES, WebhookEvent
from app.core.pagination import Page
from app.core.schemas import QueryModel
from app.settings import get_settings
from app.webhooks.delivery import TEST_EVENT
from app.webhooks.models import HISTORY

EventId = Annotated[str, StringConstraints(pattern=r"^evt_[0-9a-f]{32}$")]


def _known_types(values: list[str]) -> list[str]:
    unknown = sorted(set(values) - EVENT_TYPES)
    if unknown:
        raise ValueError(f"unknown event types: {', '.join(unknown)}")
    return values


class EventQuery(QueryModel):
    after: EventId | None = Field(None, description="Only events after this one (the last id you read).")
    types: (
        Annotated[
            list[Annotated[str, WithJsonSchema({"type": "string", "enum": sorted(EVENT_TYPES)})]],
            AfterValidator(_known_types),
        ]
        | None
    ) = Field(None, description="Repeatable: only events of these types.")
    limit: int = Field(50, ge=1, le=200, description="Page size, 1..200.")


def _kept(uow: UnitOfWork) -> Any:
    now = utcnow()
    settled = now - dt.timedelta(seconds=get_settings().events_feed_settle_seconds)
    return select(col(WebhookEvent.id), col(WebhookEvent.payload)).where(
        col(WebhookEvent.company_id) == uow.company_id,
        col(WebhookEvent.created_at) >= now - HISTORY,
        col(WebhookEvent.created_at) < settled,
        col(WebhookEvent.type) != TEST_EVENT,
    )


async def list_events(uow: UnitOfWork, query: EventQuery) -> Page[Any]:
    """Event ids grow with time, so `after` is the cursor: `pagination.nextCursor` is the last id."""
    statement = _kept(uow)
    if query.after:
        statement = statement.where(WebhookEvent.id > query.after)
    if query.types:
        statement = statement.where(col(WebhookEvent.type).in_(query.types))
    rows = (await uow.execute(statement.order_by(WebhookEvent.id).limit(query.limit + 1))).all()
    has_more = len(rows) > query.limit
    rows = rows[: query.limit]
    cursor = rows[-1].id if has_more and rows else None
    return Page(items=[row.payload for row in rows], next_cursor=cursor, has_more=has_more, limit=query.limit)


async def get_event(uow: UnitOfWork, event_id: str) -> dict[str, Any]:
    row = (await uow.execute(_kept(uow).where(WebhookEvent.id == event_id))).first()
    if row is None:
        raise NotFound(f"No event with id {event_id} in the last 30 days.")
    return dict(row.payload)
