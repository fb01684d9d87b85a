"""Sending background work from the API process. Messages go out by actor name (the `app` package
never imports `workers`), and only after the transaction that asked for them has committed."""

from __future__ import annotations

from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker

from app.core.logging import get_logger

log = get_logger("rouptimize.jobs")
_broker: dramatiq.Broker | None = None


def configure(redis_url: str | None) -> None:
    global _broker
    _broker = RedisBroker(url=redis_url) if redis_url else None  # type: ignore[no-untyped-call]


def close() -> None:
    global _broker
    if isinstance(_broker, RedisBroker):
        _broker.client.connection_pool.disconnect()
    _broker = None


def send(actor_name: str, *args: Any, queue_name: str = "default", delay_ms: int | None = None) -> bool:
    """Enqueue `actor_name(*args)`. Without a broker (admin commands) or when Redis is down this
    only logs: the periodic sweeper re-sends whatever is left pending."""
    if _broker is None:
        return False
    message: dramatiq.Message[Any] = dramatiq.Message(
        queue_name=queue_name, actor_name=actor_name, args=args, kwargs={}, options={}
    )
    try:
        _broker.enqueue(message, delay=delay_ms)
    except Exception:
        log.warning("job_enqueue_failed", actor=actor_name)
        return False
    return True
