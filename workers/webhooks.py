"""Webhook actors: fan an event out into planned attempts, make one attempt, and sweep up what a
lost message left behind (app/webhooks/delivery.py holds the rules)."""

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
from app.webhooks.delivery import DELIVER_ACTOR
from workers.broker import actor
from workers.schedule import every

log = get_logger("rouptimize.webhooks")
SWEEP_EVERY_SECONDS = 30
SWEEP_BUDGET_SECONDS = 25  # under the period, so runs do not pile up
SWEEP_PAGE = 500


FAN_OUT_BATCH = 500  # events planned per transaction


@actor(DISPATCH_ACTOR, queue_name=QUEUE, max_retries=5)
async def dispatch(company_id: str, event_id: str) -> None:
    await fan_out(company_id, [event_id])


@actor(DISPATCH_MANY_ACTOR, queue_name=QUEUE, max_retries=5)
async def dispatch_many(company_id: str, event_ids: list[str]) -> None:
    for first in range(0, len(event_ids), FAN_OUT_BATCH):
        await fan_out(company_id, event_ids[first : first + FAN_OUT_BATCH])


async def fan_out(company_id: str, event_ids: list[str]) -> None:
    # The planned attempts go out as messages once this commits (delivery.fan_out arranges it).
    async with unit_of_work(Principal.system(uuid.UUID(company_id))) as uow:
        await delivery.fan_out(uow, event_ids)


@actor(DELIVER_ACTOR, queue_name=QUEUE, max_retries=0)
async def deliver(company_id: str, delivery_ids: list[str]) -> None:
    # Retries are planned attempts in the database, not Dramatiq retries: each attempt has its row,
    # and a lost message only waits for the sweep.
    await delivery.deliver(uuid.UUID(company_id), [uuid.UUID(i) for i in delivery_ids])


# On the maintenance queue: a backlog of deliveries must not hold up the sweep that feeds them.
@actor("webhook.sweep", queue_name="maintenance", max_retries=0)
async def sweep() -> None:
    """Re-send what a lost message left behind (a crash, Redis away): fan-outs of pending events,
    and attempts due (or whose sender died) with no message on its way."""
    resent = await resend_pending()
    due = await resend_due()
    if resent or due:
        log.info("webhook_sweep", events=resent, deliveries=due)


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
                await fan_out(str(row.company_id), [row.id])
            except Exception:  # one event's trouble must not hold up the ones behind it
                log.exception("webhook_sweep_failed", event_id=row.id)
        # Short page: drained. Nothing new: the rest is locked by a fan-out under way, or failing.
        if len(rows) < page or not fresh:
            break
    return len(seen)


async def resend_due(page: int = SWEEP_PAGE) -> int:
    """Send a message for every attempt due for `webhook_sweep_after_seconds` (its own message is
    lost) or whose lease ran out (its sender died), a page at a time until none is left."""
    grace = get_settings().webhook_sweep_after_seconds
    sent = 0
    deadline = time.monotonic() + SWEEP_BUDGET_SECONDS
    while time.monotonic() < deadline:
        now = utcnow()
        async with unit_of_work(Principal.system(None)) as uow:
            rows = (
                await uow.execute(
                    text("select id, company_id from due_webhook_deliveries(:due, :lease, :n)"),
                    {"due": now - dt.timedelta(seconds=grace), "lease": now, "n": page},
                )
            ).all()
        by_company: dict[uuid.UUID, list[uuid.UUID]] = {}
        for row in rows:
            by_company.setdefault(row.company_id, []).append(row.id)
        for company_id, ids in by_company.items():
            async with unit_of_work(Principal.system(company_id)) as uow:
                await delivery.nudge(uow, ids)
            for first in range(0, len(ids), delivery.MESSAGE_BATCH):
                batch = [str(i) for i in ids[first : first + delivery.MESSAGE_BATCH]]
                jobs.send(DELIVER_ACTOR, str(company_id), batch, queue_name=QUEUE)
        sent += len(rows)
        if len(rows) < page:
            break
    return sent


every(SWEEP_EVERY_SECONDS, sweep)
