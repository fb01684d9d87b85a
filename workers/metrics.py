"""A worker's metrics: its own counters (deliveries, solves, database pools; app/core/metrics.py) plus
the Dramatiq queues, read from Redis as they are scraped, served on WORKER_METRICS_PORT."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import current_millis, dq_name, q_name, xq_name
from dramatiq.middleware import Middleware
from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from app.core.logging import get_logger
from app.core.metrics_http import MetricsListener
from app.settings import get_settings

log = get_logger("rouptimize.metrics")

MESSAGES = Counter(
    "rouptimize_worker_messages",
    "Messages this worker ran, by actor and outcome (ok, error, skipped).",
    ["actor", "outcome"],
)
MESSAGE_DURATION = Histogram(
    "rouptimize_worker_message_duration_seconds",
    "Time an actor took over one message.",
    ["actor"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)


class MessageMetrics(Middleware):
    """Counts and times the messages each actor runs (actor names are the code's own, bounded)."""

    def __init__(self) -> None:
        self._started = threading.local()  # a worker thread runs one message at a time

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        self._started.at = time.perf_counter()

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: Any,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        started = getattr(self._started, "at", None)
        MESSAGES.labels(message.actor_name, "ok" if exception is None else "error").inc()
        if started is not None:
            MESSAGE_DURATION.labels(message.actor_name).observe(time.perf_counter() - started)

    def after_skip_message(self, broker: dramatiq.Broker, message: Any) -> None:
        MESSAGES.labels(message.actor_name, "skipped").inc()


class QueueCollector(Collector):
    """Messages waiting in each declared queue (ready to run, delayed, dead) and the age of the oldest
    one ready to run. A few Redis calls per queue, made by the scrape's thread.

    The Redis broker keeps a queue as a list of message ids (`<ns>:<queue>`, oldest first) beside a
    hash of the messages (`.msgs`); delayed ones in `<queue>.DQ`, dead ones in the sorted set
    `<queue>.XQ`. Delayed messages a worker has fetched wait in its memory and are not counted."""

    def __init__(self, broker: RedisBroker) -> None:
        self.broker = broker

    def collect(self) -> Iterable[Metric]:
        depth = GaugeMetricFamily(
            "rouptimize_dramatiq_queue_messages",
            "Messages in a Dramatiq queue: ready (waiting for a worker), delayed or dead.",
            labels=["queue", "state"],
        )
        age = GaugeMetricFamily(
            "rouptimize_dramatiq_oldest_message_age_seconds",
            "How long the oldest message ready to run has waited (0 when the queue is empty).",
            labels=["queue"],
        )
        queues = sorted(q for q in self.broker.get_declared_queues() if q == q_name(q))
        try:
            readings = [self._read(queue) for queue in queues]
        except Exception:  # Redis away: say nothing rather than zeros
            log.warning("queue_metrics_unavailable")
            return
        for queue, (ready, delayed, dead, waited) in zip(queues, readings, strict=True):
            depth.add_metric([queue, "ready"], ready)
            depth.add_metric([queue, "delayed"], delayed)
            depth.add_metric([queue, "dead"], dead)
            age.add_metric([queue], waited)
        yield depth
        yield age

    def _read(self, queue: str) -> tuple[int, int, int, float]:
        key = f"{self.broker.namespace}:{queue}"
        client = self.broker.client
        pipe = client.pipeline(transaction=False)
        pipe.llen(key)
        pipe.llen(f"{self.broker.namespace}:{dq_name(queue)}")
        pipe.zcard(f"{self.broker.namespace}:{xq_name(queue)}")
        pipe.lindex(key, 0)
        ready, delayed, dead, oldest_id = pipe.execute()
        return int(ready), int(delayed), int(dead), self._age(key, oldest_id)

    def _age(self, key: str, message_id: bytes | None) -> float:
        if message_id is None:
            return 0.0
        encoded = self.broker.client.hget(f"{key}.msgs", message_id)
        if encoded is None:  # taken by a worker meanwhile
            return 0.0
        message = json.loads(encoded)
        # A delayed message became ready at its eta, not when it was sent.
        since = max(int(message.get("message_timestamp", 0)), int(message.get("options", {}).get("eta", 0)))
        return max(0.0, (current_millis() - since) / 1000)


def serve(broker: dramatiq.Broker) -> MetricsListener | None:
    """Start this worker's listener when WORKER_METRICS_PORT is set."""
    settings = get_settings()
    if settings.worker_metrics_port is None:
        return None
    broker.add_middleware(MessageMetrics())
    if isinstance(broker, RedisBroker):
        REGISTRY.register(QueueCollector(broker))
    return MetricsListener(settings.metrics_host, settings.worker_metrics_port).start()
