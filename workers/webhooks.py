"""Webhook actors: fan an event out to its endpoints, deliver to one endpoint with exponential
backoff (one delivery row per attempt), and sweep up events whose fan-out never ran."""

from __future__ import annotations

import datetime as dt
import time
import uuid

from sqlalchemy import text

from app.core import jobs
from app.core.clock import utcnow
from app.core.db import unit_of_work
from app.core.logging import get_logger
from app.core.outbox import DISPATCH_ACTOR, DISPATCH_MANY_ACTOR, QUEUE
from app.core.principal import Principal
from app.settings import get_settings
from app.webhooks import delivery
from workers.broker import actor
from workers.schedule import every

log = get_logger("rouptimize.webhooks")
DELIVER_ACTOR = "webhook.deliver"
SWEEP_EVERY_SECONDS = 30
SWEEP_BUDGET_SECONDS = 25  # under the period, so runs do not pile up
SWEEP_PAGE = 500


@actor(DISPATCH_ACTOR, queue_name=QUEUE, max_retries=5)
async def dispatch(company_id: str, event_id: str) -> None:
    await fan_out(company_id, event_id)


@actor(DISPATCH_MANY_ACTOR, queue_name=QUEUE, max_retries=5)
async def dispatch_many(company_id: str, event_ids: list[str]) -> None:
    for event_id in event_ids:
        await fan_out(company_id, event_id)


async def fan_out(company_id: str, event_id: str) -> None:
    async with unit_of_work(Principal.system(uuid.UUID(company_id))) as uow:
        targets = await delivery.fan_out(uow, event_id)
    for endpoint_id in targets:
        jobs.send(DELIVER_ACTOR, company_id, event_id, str(endpoint_id), 1, queue_name=QUEUE)


@actor(DELIVER_ACTOR, queue_name=QUEUE, max_retries=0)
async def deliver(company_id: str, event_id: str, endpoint_id: str, attempt: int) -> None:
    # Retries are our own re-sends with a delay, not Dramatiq's, so each attempt has its number
    # and its delivery row, and permanent failures are never retried.
    async with unit_of_work(Principal.system(uuid.UUID(company_id))) as uow:
        outcome = await delivery.attempt(uow, event_id, uuid.UUID(endpoint_id), attempt)
    log.info(
        "webhook_attempt", event_id=event_id, endpoint_id=endpoint_id, attempt=attempt, status=outcome.status
    )
    if outcome.retry_in_seconds is not None:
        jobs.send(
            DELIVER_ACTOR, company_id, event_id, endpoint_id, attempt + 1,
            queue_name=QUEUE, delay_ms=outcome.retry_in_seconds * 1000,
        )  # fmt: skip


# On the maintenance queue: a backlog of deliveries must not hold up the sweep that feeds them.
@actor("webhook.sweep", queue_name="maintenance", max_retries=0)
async def sweep() -> None:
    """Re-send fan-outs lost between a commit and its enqueue (a crash, Redis away)."""
    resent = await resend_pending()
    if resent:
        log.info("webhook_sweep", resent=resent)


async def resend_pending(page: int = SWEEP_PAGE, budget_seconds: float = SWEEP_BUDGET_SECONDS) -> int:
    """Fan out the events still pending after `webhook_sweep_after_seconds`, oldest first, page after
    page until none is left, a page brings nothing new, or the budget is spent: one page per run
    would let the thousands of events of a lost bulk import trail behind by minutes. Answers how
    many it handled."""
    older_than = get_settings().webhook_sweep_after_seconds
    deadline = time.monotonic() + budget_seconds
    seen: set[str] = set()
    while time.monotonic() < deadline:
        async with unit_of_work(Principal.system(None)) as uow:
            rows = (
                await uow.execute(
                    text("select id, company_id from pending_webhook_events(:before, :n)"),
                    {"before": utcnow() - dt.timedelta(seconds=older_than), "n": page},
                )
            ).all()
        fresh = [row for row in rows if row.id not in seen]
        # Fanned out here rather than re-queued: a backlog can never pile up faster than it drains.
        for row in fresh:
            seen.add(row.id)
            try:
                await fan_out(str(row.company_id), row.id)
            except Exception:  # one event's trouble must not hold up the ones behind it
                log.exception("webhook_sweep_failed", event_id=row.id)
        # Short page: drained. Nothing new: the rest is locked by a fan-out under way, or failing.
        if len(rows) < page or not fresh:
            break
    return len(seen)


every(SWEEP_EVERY_SECONDS, sweep)
