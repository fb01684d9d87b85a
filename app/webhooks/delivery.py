"""Webhook delivery: fan an event out to the company's endpoints, and make one attempt to deliver
it to one endpoint, recording the attempt and deciding whether to retry."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import dataclass

import httpx
from sqlalchemy import select, update

from app.core import jsonutil
from app.core.clock import utcnow
from app.core.db import UnitOfWork
from app.core.outbox import WebhookEvent
from app.settings import get_settings
from app.webhooks.models import WebhookDelivery, WebhookEndpoint
from app.webhooks.service import active_secrets
from app.webhooks.signing import signature_header

USER_AGENT = "Rouptimize-Webhooks/1.0"


@dataclass(frozen=True)
class Outcome:
    status: str  # succeeded | retrying | failed | skipped
    retry_in_seconds: int | None = None


def backoff_seconds(attempt: int) -> int:
    """Exponential: base, 2 x base, 4 x base ... capped at an hour."""
    return int(min(3600, get_settings().webhook_retry_base_seconds * 2 ** (attempt - 1)))


def subscribed(endpoint: WebhookEndpoint, event_type: str) -> bool:
    return endpoint.status == "enabled" and (not endpoint.event_types or event_type in endpoint.event_types)


async def fan_out(uow: UnitOfWork, event_id: str) -> list[uuid.UUID]:
    """The endpoints that should receive `event_id`; marks the event dispatched (once)."""
    event = await uow.scalar(
        select(WebhookEvent)
        .where(WebhookEvent.company_id == uow.company_id, WebhookEvent.id == event_id)
        .with_for_update(skip_locked=True)
    )
    if event is None or event.status != "pending":
        return []  # already fanned out (a sweeper and the after-commit send may race)
    endpoints = await uow.scalars(select(WebhookEndpoint).where(WebhookEndpoint.company_id == uow.company_id))
    targets = [e.id for e in endpoints if subscribed(e, event.type)]
    await uow.execute(update(WebhookEvent).where(WebhookEvent.id == event_id).values(status="dispatched"))
    return targets


def _classify(status_code: int | None) -> str:
    if status_code is not None and 200 <= status_code < 300:
        return "succeeded"
    # A receiver that rejects the request outright will reject it again; timeouts and rate limits
    # are worth another try.
    if status_code is not None and 400 <= status_code < 500 and status_code not in (408, 429):
        return "failed"
    return "retrying"


async def attempt(uow: UnitOfWork, event_id: str, endpoint_id: uuid.UUID, number: int) -> Outcome:
    event = await uow.scalar(
        select(WebhookEvent).where(WebhookEvent.company_id == uow.company_id, WebhookEvent.id == event_id)
    )
    endpoint = await uow.scalar(
        select(WebhookEndpoint).where(
            WebhookEndpoint.company_id == uow.company_id, WebhookEndpoint.id == endpoint_id
        )
    )
    if event is None or endpoint is None or endpoint.status != "enabled":
        return Outcome("skipped")
    settings = get_settings()
    body = jsonutil.dumps(event.payload)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Rouptimize-Signature": signature_header(active_secrets(endpoint), body),
        "X-Rouptimize-Event-Id": event.id,
        "X-Rouptimize-Event-Type": event.type,
    }
    started = time.perf_counter()
    status_code: int | None = None
    error: str | None = None
    try:
        async with httpx.AsyncClient(
            timeout=settings.webhook_timeout_seconds, follow_redirects=False
        ) as client:
            response = await client.post(endpoint.url, content=body, headers=headers)
        status_code = response.status_code
        if not 200 <= status_code < 300:
            error = f"HTTP {status_code}"
    except httpx.TimeoutException:
        error = "timed out"
    except httpx.HTTPError as exc:
        error = type(exc).__name__
    duration_ms = int((time.perf_counter() - started) * 1000)
    status = _classify(status_code)
    if status == "retrying" and number >= settings.webhook_max_attempts:
        status = "failed"
    retry_in = backoff_seconds(number) if status == "retrying" else None
    uow.add(
        WebhookDelivery(
            company_id=uow.company_id,
            endpoint_id=endpoint.id,
            event_id=event.id,
            event_type=event.type,
            attempt=number,
            status=status,
            response_status=status_code,
            error=error,
            duration_ms=duration_ms,
            next_retry_at=utcnow() + dt.timedelta(seconds=retry_in) if retry_in is not None else None,
        )
    )
    return Outcome(status, retry_in)
