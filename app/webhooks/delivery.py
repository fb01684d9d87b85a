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
import dataclasses
import datetime as dt
import json
import math
import random
import uuid
from dataclasses import dataclass
from functools import partial
from typing import NamedTuple

from sqlalchemy import func, select, update
from sqlmodel import col

from app.core import jobs, metrics
from app.core.clock import utcnow
from app.core.db import UnitOfWork, unit_of_work
from app.core.logging import get_logger
from app.core.models import new_id
from app.core.outbox import QUEUE, WebhookEvent
from app.core.principal import Principal
from app.settings import get_settings
from app.webhooks import sending, signing
from app.webhooks.models import WebhookDelivery, WebhookEndpoint
from app.webhooks.schemas import DeliveryStatus, DisabledReason, EndpointStatus
from app.webhooks.service import signing_secrets

log = get_logger("rouptimize.webhooks")
DELIVER_ACTOR = "webhook.deliver"  # implemented in workers/webhooks.py
# A claimed attempt not recorded this long after its timeout ran out: its worker died.
LEASE_MARGIN = dt.timedelta(seconds=30)
# Attempts due within this long also go out as delayed messages; later ones wait for the sweep.
MESSAGE_HORIZON = dt.timedelta(hours=1)
JITTER = 0.1
MESSAGE_BATCH = 100  # planned attempts per delivery message
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


class Planned(NamedTuple):
    """A planned attempt written in SQL, as much of it as sending needs."""

    id: uuid.UUID
    due_at: dt.datetime


def send_after_commit(uow: UnitOfWork, deliveries: list[WebhookDelivery] | list[Planned]) -> None:
    """Hand planned attempts to the workers once they are committed, up to MESSAGE_BATCH to a
    message (one message claims, sends and records them together) and only attempts due at the
    same second together; those due later than MESSAGE_HORIZON are left to the sweep."""
    now = utcnow()
    by_delay: dict[int, list[WebhookDelivery | Planned]] = {}
    for delivery in deliveries:
        if delivery.due_at - now <= MESSAGE_HORIZON:
            by_delay.setdefault(max(0, math.ceil((delivery.due_at - now).total_seconds())), []).append(
                delivery
            )
    for delay, due in by_delay.items():
        for first in range(0, len(due), MESSAGE_BATCH):
            ids = [str(d.id) for d in due[first : first + MESSAGE_BATCH]]
            uow.after_commit.append(
                partial(jobs.send, DELIVER_ACTOR, str(uow.company_id), ids, queue_name=QUEUE,
                        delay_ms=delay * 1000 or None)
            )  # fmt: skip


async def fan_out(uow: UnitOfWork, event_ids: list[str]) -> list[WebhookDelivery]:
    """Plan the first attempt of each event to every endpoint subscribed to it, in one transaction
    for the batch. Each event is dispatched once: a sweep and the after-commit message may race,
    and an event locked by one of them is skipped by the other."""
    events = (
        await uow.execute(
            select(col(WebhookEvent.id), col(WebhookEvent.type))
            .where(
                col(WebhookEvent.company_id) == uow.company_id,
                col(WebhookEvent.id).in_(event_ids),
                col(WebhookEvent.status) == "pending",
            )
            .order_by(WebhookEvent.id)
            .with_for_update(skip_locked=True)
        )
    ).all()
    if not events:
        return []
    endpoints = await uow.scalars(
        select(WebhookEndpoint).where(col(WebhookEndpoint.company_id) == uow.company_id)
    )
    now = utcnow()
    planned = [
        plan(uow, endpoint.id, event.id, event.type, 1, now)
        for event in events
        for endpoint in endpoints
        if subscribed(endpoint, event.type)
    ]
    await uow.execute(
        update(WebhookEvent)
        .where(col(WebhookEvent.id).in_([event.id for event in events]))
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
    waited_seconds: float  # since the attempt was due (a first attempt: since its event's commit)


# One statement takes the due attempts of a batch: locks them (skipping those another worker
# holds), reads their endpoints and events, and marks each sending (or cancelled, when its endpoint
# was disabled or its event expired). The payload comes back as stored text, sent byte for byte.
_CLAIM = """
WITH due AS (
    SELECT d.id, e.id AS endpoint_id, e.url, e.secrets, e.status = 'enabled' AS enabled,
           ev.payload::text AS payload, ev.created_at AS event_created_at
    FROM webhook_delivery d
    LEFT JOIN webhook_endpoint e ON e.id = d.endpoint_id
    LEFT JOIN webhook_event ev ON ev.id = d.event_id
    WHERE d.company_id = $1 AND d.id = ANY($2::uuid[])
      AND ((d.status = 'pending' AND d.due_at <= $3) OR (d.status = 'sending' AND d.lease_until < $3))
    ORDER BY d.id
    FOR UPDATE OF d SKIP LOCKED
)
UPDATE webhook_delivery d SET
    status = CASE WHEN due.enabled AND due.payload IS NOT NULL THEN 'sending' ELSE 'cancelled' END,
    sent_at = CASE WHEN due.enabled AND due.payload IS NOT NULL THEN $3 ELSE d.sent_at END,
    lease_until = CASE WHEN due.enabled AND due.payload IS NOT NULL THEN $4::timestamptz END,
    error = CASE WHEN due.payload IS NULL THEN 'The event expired.'
                 WHEN due.enabled IS NOT TRUE THEN 'The endpoint was disabled before this attempt.'
                 ELSE d.error END,
    updated_at = $3
FROM due WHERE d.id = due.id
RETURNING d.id, d.event_id, d.event_type, d.status, due.endpoint_id, due.url, due.secrets, due.payload,
    CASE WHEN d.attempt = 1 AND d.trigger = 'event' THEN due.event_created_at ELSE d.due_at END AS due_since
"""


async def claim(uow: UnitOfWork, delivery_ids: list[uuid.UUID]) -> list[Claimed]:
    """Take the due attempts among `delivery_ids` for sending (pending and due, or sending with the
    lease run out); attempts not due or held by another worker are left, and those whose endpoint
    is disabled are cancelled. This is the hot path: one statement, no ORM."""
    now = utcnow()
    # The lease covers the whole batch: its attempts go out CONCURRENT_SENDS at a time, each within
    # the timeout, so none is claimed again while this worker still holds it.
    rounds = math.ceil(len(delivery_ids) / CONCURRENT_SENDS)
    lease_until = now + dt.timedelta(seconds=get_settings().webhook_timeout_seconds * rounds) + LEASE_MARGIN
    connection = await uow.driver_connection()
    rows = await connection.fetch(_CLAIM, uow.company_id, delivery_ids, now, lease_until)
    claimed = []
    secrets_of: dict[uuid.UUID, list[str]] = {}  # unsealed once per endpoint, not per attempt
    for row in rows:
        if row["status"] != DeliveryStatus.SENDING:
            continue
        endpoint_id = row["endpoint_id"]
        if endpoint_id not in secrets_of:
            entries = row["secrets"]
            secrets_of[endpoint_id] = signing_secrets(
                json.loads(entries) if isinstance(entries, str) else entries, now
            )
        body = row["payload"].encode()
        headers = signing.delivery_headers(row["event_id"], row["event_type"], body, secrets_of[endpoint_id])
        waited = (now - row["due_since"]).total_seconds()
        claimed.append(Claimed(row["id"], row["url"], body, headers, waited))
    return claimed


# Successful answers of a batch recorded in one statement; what the endpoints answered reads back.
_RECORD_SUCCESSES = """
UPDATE webhook_delivery d SET status = 'succeeded', response_status = v.code, duration_ms = v.ms,
    response_excerpt = v.excerpt, error = NULL, lease_until = NULL, updated_at = $1
FROM unnest($2::uuid[], $3::int[], $4::int[], $5::text[]) AS v(id, code, ms, excerpt)
WHERE d.id = v.id AND d.status = 'sending'
RETURNING d.endpoint_id, d.trigger
"""
# Touches an endpoint only when it was failing: every delivery to one endpoint would otherwise queue
# on its row.
_HEALTHY = (
    "UPDATE webhook_endpoint SET failing_since = NULL"
    " WHERE id = ANY($1::uuid[]) AND failing_since IS NOT NULL"
)


async def record_many(
    uow: UnitOfWork, answers: list[tuple[uuid.UUID, sending.Answer]]
) -> list[WebhookDelivery]:
    """Record the answers to sent attempts and decide what follows each: the next attempt planned
    (answered), or nothing. Endpoints learn whether they are failing, and are disabled at a 410 or
    after WEBHOOK_DISABLE_AFTER_SECONDS without a success. Attempts no longer `sending` were
    recorded already (a second claim after a lease ran out) and are left as they are."""
    now = utcnow()
    answers = [(i, _storable(a)) for i, a in answers]
    succeeded = [(i, a) for i, a in answers if a.status_code is not None and 200 <= a.status_code < 300]
    failed = [(i, a) for i, a in answers if not (a.status_code is not None and 200 <= a.status_code < 300)]
    if succeeded:
        connection = await uow.driver_connection()
        rows = await connection.fetch(
            _RECORD_SUCCESSES, now, [i for i, _ in succeeded], [a.status_code for _, a in succeeded],
            [a.duration_ms for _, a in succeeded], [a.excerpt for _, a in succeeded],
        )  # fmt: skip
        healthy = list({row["endpoint_id"] for row in rows if row["trigger"] != "test"})
        if healthy:
            await connection.execute(_HEALTHY, healthy)
    if not failed:
        return []
    rows = await uow.scalars(
        select(WebhookDelivery)
        .where(
            col(WebhookDelivery.id).in_([delivery_id for delivery_id, _ in failed]),
            col(WebhookDelivery.status) == DeliveryStatus.SENDING.value,
        )
        .order_by(col(WebhookDelivery.id))
        .with_for_update()
    )
    sent = {row.id: row for row in rows}
    planned: list[WebhookDelivery] = []
    for delivery_id, answer in failed:
        delivery = sent.get(delivery_id)
        if delivery is None:
            continue
        delivery.status, delivery.response_status = DeliveryStatus.FAILED.value, answer.status_code
        delivery.duration_ms, delivery.response_excerpt = answer.duration_ms, answer.excerpt
        delivery.error, delivery.lease_until, delivery.updated_at = answer.error, None, now
        if delivery.trigger == "test":
            continue  # one attempt, whose sender sees the answer at once; it says nothing of the endpoint
        following = await _after_failure(uow, delivery, answer, now)
        if following is not None:
            planned.append(following)
    await uow.flush()
    send_after_commit(uow, planned)
    return planned


def _storable(answer: sending.Answer) -> sending.Answer:
    """What a receiver sent, as PostgreSQL text can hold it (no NUL character)."""
    if "\x00" not in (answer.excerpt or "") + (answer.error or ""):
        return answer
    return dataclasses.replace(
        answer,
        excerpt=answer.excerpt.replace("\x00", "\ufffd") if answer.excerpt else answer.excerpt,
        error=answer.error.replace("\x00", "\ufffd") if answer.error else answer.error,
    )


async def _after_failure(
    uow: UnitOfWork, delivery: WebhookDelivery, answer: sending.Answer, now: dt.datetime
) -> WebhookDelivery | None:
    """A failed attempt: disable the endpoint if the rules say so, else plan the next attempt on
    the schedule (or when the receiver asked, with Retry-After on a 429 or 503)."""
    endpoint = await uow.scalar(
        select(WebhookEndpoint).where(col(WebhookEndpoint.id) == delivery.endpoint_id).with_for_update()
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
            try:
                return await sending.post(attempt.url, attempt.body, attempt.headers)
            except Exception:  # one attempt's surprise must not leave the batch unrecorded
                log.exception("webhook_send_failed", delivery_id=str(attempt.delivery_id))
                return sending.Answer(None, 0, None, "The attempt failed inside Rouptimize.", None)

    answers = await asyncio.gather(*(send(attempt) for attempt in claimed))
    for attempt, answer in zip(claimed, answers, strict=True):
        metrics.record_delivery(answer.status_code, attempt.waited_seconds)
    async with unit_of_work(principal) as uow:
        await record_many(uow, [(a.delivery_id, answer) for a, answer in zip(claimed, answers, strict=True)])
    return len(claimed)


async def next_attempt_number(uow: UnitOfWork, endpoint_id: uuid.UUID, event_id: str) -> int:
    last = await uow.scalar(
        select(func.max(WebhookDelivery.attempt)).where(
            col(WebhookDelivery.company_id) == uow.company_id,
            col(WebhookDelivery.endpoint_id) == endpoint_id,
            col(WebhookDelivery.event_id) == event_id,
        )
    )
    return int(last or 0) + 1


async def nudge(uow: UnitOfWork, delivery_ids: list[uuid.UUID]) -> None:
    """A sweep re-sends due attempts' messages: moving `due_at` keeps the next sweep from sending
    them again while these messages wait in the queue."""
    await uow.execute(
        update(WebhookDelivery)
        .where(
            col(WebhookDelivery.id).in_(delivery_ids),
            col(WebhookDelivery.status) == DeliveryStatus.PENDING.value,
        )
        .values(due_at=utcnow())
        .execution_options(synchronize_session=False)
    )
