"""What an admin does after an outage: deliver one event again, replay a time range of events, and
send a signed test event to see that a receiver works."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, text
from sqlmodel import col

from app.core import jsonutil
from app.core.clock import utcnow
from app.core.db import UnitOfWork, unit_of_work
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.outbox import WebhookEvent, new_event_id
from app.core.principal import Principal
from app.webhooks import delivery as deliveries
from app.webhooks.models import HISTORY, WebhookDelivery, WebhookEndpoint
from app.webhooks.schemas import EndpointStatus, ReplayOut, ReplayRequest


def _enabled(endpoint: WebhookEndpoint) -> None:
    if endpoint.status != EndpointStatus.ENABLED:
        raise Conflict(
            "The endpoint is disabled; enable it first.",
            {"status": endpoint.status, "disabledReason": endpoint.disabled_reason},
        )


async def redeliver(uow: UnitOfWork, endpoint: WebhookEndpoint, delivery_id: Any) -> WebhookDelivery:
    """Plan one more attempt of a delivery's event to its endpoint, due now: the new attempt."""
    try:
        parsed = uuid.UUID(str(delivery_id))
    except ValueError:
        parsed = None
    earlier = await uow.scalar(
        select(WebhookDelivery).where(
            col(WebhookDelivery.company_id) == uow.company_id,
            col(WebhookDelivery.endpoint_id) == endpoint.id,
            col(WebhookDelivery.id) == parsed,
        )
    ) if parsed else None  # fmt: skip
    if earlier is None:
        raise NotFound(f"No delivery with id {delivery_id} to this endpoint.")
    _enabled(endpoint)
    event = await uow.scalar(select(WebhookEvent).where(WebhookEvent.id == earlier.event_id))
    if event is None:
        raise Conflict("The event is older than 30 days and no longer kept.", {"eventId": earlier.event_id})
    attempt = await deliveries.next_attempt_number(uow, endpoint.id, event.id)
    # A test event stays a test: tried once, saying nothing of the endpoint's health.
    trigger = "test" if earlier.trigger == "test" else "redeliver"
    planned = deliveries.plan(uow, endpoint.id, event.id, event.type, attempt, utcnow(), trigger)
    await uow.flush()
    deliveries.send_after_commit(uow, [planned])
    return planned


async def replay(uow: UnitOfWork, endpoint: WebhookEndpoint, data: ReplayRequest) -> ReplayOut:
    """Plan a delivery, due now, of every event created in [from, to) that the endpoint subscribes
    to (narrowed by `eventTypes`), oldest first."""
    now = utcnow()
    if data.from_ < now - HISTORY:
        raise ValidationFailed.field("from", "must be within the last 30 days")
    if data.to <= data.from_:
        raise ValidationFailed.field("to", "must be after from")
    _enabled(endpoint)
    # Empty means every type, for the endpoint's subscription and for the request alike.
    subscribed, wanted = set(endpoint.event_types), set(data.event_types or [])
    types = sorted(subscribed & wanted if subscribed and wanted else subscribed | wanted)
    if subscribed and wanted and not types:
        return ReplayOut(queued=0)
    # One statement: each event's next attempt number for this endpoint, computed in the database.
    rows = await uow.execute(
        text(
            """INSERT INTO webhook_delivery (id, company_id, created_at, updated_at, endpoint_id, event_id,
                   event_type, attempt, status, trigger, due_at)
               SELECT gen_random_uuid(), e.company_id, :now, :now, :endpoint, e.id, e.type,
                   COALESCE((SELECT max(d.attempt) FROM webhook_delivery d
                             WHERE d.endpoint_id = :endpoint AND d.event_id = e.id), 0) + 1,
                   'pending', 'replay', :now
               FROM webhook_event e
               WHERE e.company_id = :company AND e.created_at >= :from AND e.created_at < :to
                 AND e.type <> :test AND (cardinality(CAST(:types AS text[])) = 0 OR e.type = ANY(:types))
               ORDER BY e.id
               RETURNING id"""
        ),
        {"now": now, "endpoint": endpoint.id, "company": uow.company_id, "from": data.from_, "to": data.to,
         "test": deliveries.TEST_EVENT, "types": types},
    )  # fmt: skip
    planned = [deliveries.Planned(row.id, now) for row in rows.all()]
    deliveries.send_after_commit(uow, planned)
    return ReplayOut(queued=len(planned))


async def send_test(uow: UnitOfWork, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Send a signed `webhook_endpoint.test` event to the endpoint now and answer the attempt. The
    event and the attempt are committed first and the answer recorded after, each in a short
    transaction of its own: nothing is held while the receiver answers. A test is one attempt."""
    _enabled(endpoint)
    principal = Principal.system(uow.company_id)
    now = utcnow()
    event_id = new_event_id()
    payload = {
        "id": event_id, "type": deliveries.TEST_EVENT, "timestamp": jsonutil.iso_z(now),
        "companyId": str(uow.company_id), "resourceType": "webhook_endpoint", "resourceId": str(endpoint.id),
        "data": {"endpointId": str(endpoint.id), "url": endpoint.url,
                 "message": "A test event from Rouptimize: your endpoint receives and verifies deliveries."},
    }  # fmt: skip
    async with unit_of_work(principal) as own:
        event = WebhookEvent(
            id=event_id, company_id=uow.company_id, type=deliveries.TEST_EVENT,
            resource_type="webhook_endpoint", resource_id=endpoint.id, payload=payload, created_at=now,
            status="dispatched",
        )  # fmt: skip
        own.add(event)
        await own.flush()
        attempt = deliveries.plan(own, endpoint.id, event.id, event.type, 1, now, "test")
        await own.flush()
        attempt_id = attempt.id
    await deliveries.deliver(uow.company_id, [attempt_id])  # type: ignore[arg-type]
    made = await uow.scalar(
        select(WebhookDelivery)
        .where(col(WebhookDelivery.id) == attempt_id)
        .execution_options(populate_existing=True)
    )
    assert made is not None
    return made
