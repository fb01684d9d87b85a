"""Housekeeping actors."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from app.core.clock import utcnow
from app.core.db import UnitOfWork, unit_of_work
from app.core.logging import get_logger
from app.core.principal import Principal
from app.settings import get_settings
from app.webhooks.models import HISTORY
from workers.broker import actor
from workers.schedule import every

log = get_logger("rouptimize.maintenance")


async def expire_idempotency_keys_older_than(uow: UnitOfWork, hours: int) -> int:
    """Delete stored idempotent responses older than `hours`; returns how many.

    `expire_idempotency_keys` is SECURITY DEFINER, so the application role reaches every company's
    keys through it without a company bound and without BYPASSRLS.
    """
    cutoff = utcnow() - dt.timedelta(hours=hours)
    deleted = await uow.scalar(text("select expire_idempotency_keys(:cutoff)"), {"cutoff": cutoff})
    return int(deleted or 0)


@actor("maintenance.expire_idempotency_keys", queue_name="maintenance", max_retries=3)
async def expire_idempotency_keys() -> None:
    async with unit_of_work(Principal.system(None)) as uow:
        deleted = await expire_idempotency_keys_older_than(uow, get_settings().idempotency_ttl_hours)
    log.info("idempotency_keys_expired", count=deleted)


every(15 * 60, expire_idempotency_keys)


@actor("maintenance.expire_webhook_history", queue_name="maintenance", max_retries=3)
async def expire_webhook_history() -> None:
    """Delivery attempts and events are kept 30 days (the events feed and replays reach that far)."""
    async with unit_of_work(Principal.system(None)) as uow:
        deleted = await expire_webhook_history_before(uow, utcnow() - HISTORY)
    log.info("webhook_history_expired", attempts=deleted)


async def expire_webhook_history_before(uow: UnitOfWork, before: dt.datetime) -> int:
    """Delete finished attempts and dispatched events created before `before`; answers how many
    attempts. Owner-side (SECURITY DEFINER), like the idempotency-key expiry."""
    deleted = await uow.scalar(text("select expire_webhook_history(:before)"), {"before": before})
    return int(deleted or 0)


every(60 * 60, expire_webhook_history)
