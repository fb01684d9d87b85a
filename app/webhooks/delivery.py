"""Webhook delivery as durable state in PostgreSQL: an event is fanned out into one planned attempt
per subscribed endpoint, and each attempt is claimed, sent and recorded in three steps, so that no
transaction is open while a receiver takes its time, and Redis messages only make things prompt.

An attempt's life: `pending` (due at `due_at`) -> `sending` (claimed; leased until `lease_until`, so
an attempt whose worker died is claimed again once the lease runs out) -> `succeeded`, `retrying`
(the next attempt is planned on the retry schedule or the receiver's `Retry-After`), `failed` (no
attempt left, or the receiver answered 410 Gone) or `cancelled` (the endpoint was disabled first).
Several workers may run at once: a claim locks the row and skips rows others hold."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import uuid
from dataclasses import dataclass
from functools import partial

from sqlalchemy import Text, cast, func, select, update

from app.core import jobs
from app.core.clock import utcnow
from app.core.db import UnitOfWork, unit_of_work
from app.core.models import new_id
from app.core.outbox import QUEUE, WebhookEvent
from app.core.principal import Principal
from app.settings import get_settings
from app.webhooks import sending, signing
from app.webhooks.models import WebhookDelivery, WebhookEndpoint
from app.webhooks.schemas import DeliveryStatus, DisabledReason, EndpointStatus
from app.webhooks.service import active_secrets

DELIVER_ACTOR = "webhook.deliver"  # implemented in workers/webhooks.py
# A claimed attempt not recorded this long after its timeout ran out: its worker died.
LEASE_MARGIN = dt.timedelta(seconds=30)
# Attempts due within this long also go out as delayed messages; later ones wait for the sweep.
MESSAGE_HORIZON = dt.timedelta(hours=1)
JITTER = 0.1
MESSAGE_BATCH = 50  # planned attempts per delivery message
CONCURRENT_SENDS = 16  # per message: one receiver is not flooded by one batch
TEST_EVENT = "webhook_endpoint.test"


def subscribed(endpoint: WebhookEndpoint, event_type: str) -> bool:
    return endpoint.status == EndpointStatus.ENABLED and (
        not endpoint.event_types or event_type in endpoint.event_types
    )


def plan(
    uow: UnitOfWork, endpoint_id: uuid.UUID, event_id: str, event_type: str, attempt: int,
    due_at: dt.datetime, trigger: str = "event",
) -> WebhookDelivery:  # fmt: skip
    delivery = WebhookDelivery(
        id=new_id(), company_id=uow.company_id, endpoint_id=endpoint_id, event_id=event_id,
        event_type=event_type, attempt=attempt, status=DeliveryStatus.PENDING.value, trigger=trigger,
        due_at=due_at,
    )  # fmt: skip
    uow.add(delivery)
    return delivery


def send_after_commit(uow: UnitOfWork, deliveries: list[WebhookDelivery]) -> None:
    """Hand planned attempts to the workers once they are committed, MESSAGE_BATCH to a message
    (one message claims, sends and records them together); those due later than MESSAGE_HORIZON
    are left to the sweep."""
    now = utcnow()
    soon = [d for d in deliveries if d.due_at - now <= MESSAGE_HORIZON]
    for first in range(0, len(soon), MESSAGE_BATCH):
        batch = soon[first : first + MESSAGE_BATCH]
        delay = max((d.due_at - now).total_seconds() for d in batch)
        ids = [str(d.id) for d in batch]
        uow.after_commit.append(
            partial(jobs.send, DELIVER_ACTOR, str(uow.company_id), ids, queue_name=QUEUE,
                    delay_ms=int(delay * 1000) if delay > 0 else None)
        )  # fmt: skip


async def fan_out(uow: UnitOfWork, event_ids: list[str]) -> list[WebhookDelivery]:
    """Plan the first attempt of each event to every endpoint subscribed to it, in one transaction
    for the batch. Each event is dispatched once: a sweep and the after-commit message may race,
    and an event locked by one of them is skipped by the other."""
    events = (
        await uow.execute(
            select(WebhookEvent.id, WebhookEvent.type)
            .where(
                WebhookEvent.company_id == uow.company_id,
                WebhookEvent.id.in_(event_ids),
                WebhookEvent.status == "pending",
            )
            .order_by(WebhookEvent.id)
            .with_for_update(skip_locked=True)
        )
    ).all()
    if not events:
        return []
    endpoints = await uow.scalars(select(WebhookEndpoint).where(WebhookEndpoint.company_id == uow.company_id))
    now = utcnow()
    planned = [
        plan(uow, endpoint.id, event.id, event.type, 1, now)
        for event in events
        for endpoint in endpoints
        if subscribed(endpoint, event.type)
    ]
    await uow.execute(
        update(WebhookEvent)
        .where(WebhookEvent.id.in_([event.id for event in events]))
        .values(status="dispatched")
        .execution_options(synchronize_session=False)
    )
    await uow.flush()
    send_after_commit(uow, planned)
    return planned


@dataclass(frozen=True)
class Claimed:
    """What sending an attempt needs, read while claiming it."""

    delivery_id: uuid.UUID
    url: str
    body: bytes
    headers: dict[str, str]


async def claim(uow: UnitOfWork, delivery_ids: list[uuid.UUID]) -> list[Claimed]:
    """Take the due attempts among `delivery_ids` for sending (pending and due, or sending with the
    lease run out); attempts not due or held by another worker are left, and those whose endpoint
    is disabled are cancelled. Attempts, endpoints and events are read in one statement."""
    now = utcnow()
    rows = (
        await uow.execute(
            # The payload as stored text: it is sent byte for byte, never parsed and written again.
            select(WebhookDelivery, WebhookEndpoint, cast(WebhookEvent.payload, Text))
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id, isouter=True)
            .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id, isouter=True)
            .where(WebhookDelivery.company_id == uow.company_id, WebhookDelivery.id.in_(delivery_ids))
            .order_by(WebhookDelivery.id)
            .with_for_update(of=WebhookDelivery, skip_locked=True)
        )
    ).all()
    lease_until = now + dt.timedelta(seconds=get_settings().webhook_timeout_seconds) + LEASE_MARGIN
    claimed = []
    signing_secrets: dict[uuid.UUID, list[str]] = {}  # unsealed once per endpoint, not per attempt
    for delivery, endpoint, payload in rows:
        if not _due(delivery, now):
            continue
        delivery.updated_at = now
        if endpoint is None or payload is None or endpoint.status != EndpointStatus.ENABLED:
            delivery.status = DeliveryStatus.CANCELLED.value
            delivery.error = (
                "The endpoint was disabled before this attempt." if payload else "The event expired."
            )
            continue
        delivery.status, delivery.sent_at, delivery.lease_until = (
            DeliveryStatus.SENDING.value,
            now,
            lease_until,
        )
        body = payload.encode()
        if endpoint.id not in signing_secrets:
            signing_secrets[endpoint.id] = active_secrets(endpoint, now)
        headers = signing.delivery_headers(
            delivery.event_id, delivery.event_type, body, signing_secrets[endpoint.id]
        )
        claimed.append(Claimed(delivery.id, endpoint.url, body, headers))
    return claimed


def _due(delivery: WebhookDelivery, now: dt.datetime) -> bool:
    if delivery.status == DeliveryStatus.PENDING:
        return delivery.due_at <= now
    return delivery.status == DeliveryStatus.SENDING and (delivery.lease_until or now) < now


async def record(uow: UnitOfWork, delivery_id: uuid.UUID, answer: sending.Answer) -> WebhookDelivery | None:
    """Record one answer (see record_many): the next attempt planned, if any."""
    planned = await record_many(uow, [(delivery_id, answer)])
    return planned[0] if planned else None


async def record_many(
    uow: UnitOfWork, answers: list[tuple[uuid.UUID, sending.Answer]]
) -> list[WebhookDelivery]:
    """Record the answers to sent attempts and decide what follows each: the next attempt planned
    (answered), or nothing. Endpoints learn whether they are failing, and are disabled at a 410 or
    after WEBHOOK_DISABLE_AFTER_SECONDS without a success. One read and one write for the batch."""
    rows = await uow.scalars(
        select(WebhookDelivery)
        .where(
            WebhookDelivery.id.in_([delivery_id for delivery_id, _ in answers]),
            WebhookDelivery.status == DeliveryStatus.SENDING.value,
        )
        .order_by(WebhookDelivery.id)
        .with_for_update()
    )
    # Not `sending` any more: recorded already (a second claim after a lease ran out) or gone.
    sent = {row.id: row for row in rows}
    now = utcnow()
    healthy: set[uuid.UUID] = set()
    planned: list[WebhookDelivery] = []
    for delivery_id, answer in answers:
        delivery = sent.get(delivery_id)
        if delivery is None:
            continue
        delivery.response_status, delivery.duration_ms = answer.status_code, answer.duration_ms
        delivery.response_excerpt, delivery.error = answer.excerpt, answer.error
        delivery.lease_until, delivery.updated_at = None, now
        code = answer.status_code
        succeeded = code is not None and 200 <= code < 300
        delivery.status = (DeliveryStatus.SUCCEEDED if succeeded else DeliveryStatus.FAILED).value
        if delivery.trigger == "test":
            continue  # one attempt, whose sender sees the answer at once; it says nothing of the endpoint
        if succeeded:
            healthy.add(delivery.endpoint_id)
            continue
        following = await _after_failure(uow, delivery, answer, now)
        if following is not None:
            planned.append(following)
    if healthy:
        # Touches endpoints only when they were failing: every delivery to one endpoint would
        # otherwise queue on its row.
        await uow.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id.in_(healthy), WebhookEndpoint.failing_since.is_not(None))
            .values(failing_since=None)
            .execution_options(synchronize_session=False)
        )
    await uow.flush()
    send_after_commit(uow, planned)
    return planned


async def _after_failure(
    uow: UnitOfWork, delivery: WebhookDelivery, answer: sending.Answer, now: dt.datetime
) -> WebhookDelivery | None:
    """A failed attempt: disable the endpoint if the rules say so, else plan the next attempt on
    the schedule (or when the receiver asked, with Retry-After on a 429 or 503)."""
    endpoint = await uow.scalar(
        select(WebhookEndpoint).where(WebhookEndpoint.id == delivery.endpoint_id).with_for_update()
    )
    if endpoint is None:
        return None
    endpoint.failing_since = endpoint.failing_since or now
    settings = get_settings()
    code = answer.status_code
    if code == 410:
        disable(endpoint, DisabledReason.GONE)
        return None
    if now - endpoint.failing_since >= dt.timedelta(seconds=settings.webhook_disable_after_seconds):
        disable(endpoint, DisabledReason.FAILING)
        return None
    delays = settings.webhook_retry_delays
    if delivery.attempt >= len(delays):
        return None
    asked = answer.retry_after_seconds if code in (429, 503) else None
    wait = (
        float(asked)
        if asked is not None
        else delays[delivery.attempt] * random.uniform(1 - JITTER, 1 + JITTER)
    )
    delivery.status = DeliveryStatus.RETRYING.value
    delivery.next_attempt_at = now + dt.timedelta(seconds=wait)
    return plan(
        uow, endpoint.id, delivery.event_id, delivery.event_type, delivery.attempt + 1,
        delivery.next_attempt_at, delivery.trigger,
    )  # fmt: skip


def disable(endpoint: WebhookEndpoint, reason: DisabledReason) -> None:
    endpoint.status, endpoint.disabled_reason = EndpointStatus.DISABLED.value, reason.value
    endpoint.updated_at = utcnow()


async def deliver(company_id: uuid.UUID, delivery_ids: list[uuid.UUID]) -> int:
    """Claim, send and record attempts, each step once for the batch: the sends run concurrently
    (up to CONCURRENT_SENDS) and no transaction is open meanwhile. Answers how many were made."""
    principal = Principal.system(company_id)
    async with unit_of_work(principal) as uow:
        claimed = await claim(uow, delivery_ids)
    if not claimed:
        return 0
    limit = asyncio.Semaphore(CONCURRENT_SENDS)

    async def send(attempt: Claimed) -> sending.Answer:
        async with limit:
            return await sending.post(attempt.url, attempt.body, attempt.headers)

    answers = await asyncio.gather(*(send(attempt) for attempt in claimed))
    async with unit_of_work(principal) as uow:
        await record_many(uow, [(a.delivery_id, answer) for a, answer in zip(claimed, answers, strict=True)])
    return len(claimed)


async def next_attempt_number(uow: UnitOfWork, endpoint_id: uuid.UUID, event_id: str) -> int:
    last = await uow.scalar(
        select(func.max(WebhookDelivery.attempt)).where(
            WebhookDelivery.company_id == uow.company_id,
            WebhookDelivery.endpoint_id == endpoint_id,
            WebhookDelivery.event_id == event_id,
        )
    )
    return int(last or 0) + 1


async def nudge(uow: UnitOfWork, delivery_ids: list[uuid.UUID]) -> None:
    """A sweep re-sends due attempts' messages: moving `due_at` keeps the next sweep from sending
    them again while these messages wait in the queue."""
    await uow.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id.in_(delivery_ids), WebhookDelivery.status == DeliveryStatus.PENDING.value)
        .values(due_at=utcnow())
        .execution_options(synchronize_session=False)
    )
