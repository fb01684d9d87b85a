"""Prometheus metrics: the families this service exposes, and what feeds them.

Every process (the API, each worker) keeps its own values and serves them itself
(app/core/metrics_http.py): the API and the workers run their work in threads and on event loops of
one process, and solves, which run in pool processes, are recorded around the call in the process
that made it. So no multiprocess mode is needed.

Labels hold only bounded values chosen by the code (route templates, operation types, outcomes,
engines, queue names) or, for GraphQL operation names, a bounded set of the names clients send:
never a company, token, user, address or URL.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import text

from app.core import db
from app.core.clock import utcnow
from app.core.logging import get_logger

log = get_logger("rouptimize.metrics")

# Seconds: requests answer in milliseconds, exports and in-request solves take up to a minute.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
_SOLVE_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300)
_LAG_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)
REFRESH_TIMEOUT = 2.0  # seconds a scrape waits for the outbox query
_BACKLOG = text("select pending, oldest from webhook_outbox_backlog()")  # owner-side, counts only

HTTP_REQUESTS = Counter(
    "rouptimize_http_requests", "HTTP requests answered, by route template.", ["method", "route", "status"]
)
HTTP_DURATION = Histogram(
    "rouptimize_http_request_duration_seconds",
    "Time from a request's arrival until its answer was sent, by route template.",
    ["method", "route"],
    buckets=_LATENCY_BUCKETS,
)
GRAPHQL_OPERATIONS = Counter(
    "rouptimize_graphql_operations",
    "GraphQL operations run, by operation name (bounded; unnamed ones are `anonymous`) and type.",
    ["operation", "type", "outcome"],
)
RATE_LIMIT_REFUSALS = Counter(
    "rouptimize_rate_limit_refusals",
    "Requests refused with 429, by the limit they ran into.",
    ["limit"],
)
RATE_LIMIT_FAIL_OPEN = Counter(
    "rouptimize_rate_limit_fail_open",
    "Rate-limit checks let through uncounted because Redis did not answer.",
)
IDEMPOTENT_REPLAYS = Counter(
    "rouptimize_idempotent_replays",
    "Requests answered with the stored response of an earlier request with the same Idempotency-Key.",
    ["surface"],
)
WEBHOOK_DELIVERIES = Counter(
    "rouptimize_webhook_deliveries",
    "Webhook delivery attempts made, by outcome: succeeded (2xx), http_error (another status), "
    "no_response (timeout, refused connection or address).",
    ["outcome"],
)
WEBHOOK_LAG = Histogram(
    "rouptimize_webhook_delivery_lag_seconds",
    "Time from when an attempt was due (an event's first attempt: the event's commit) until it was sent.",
    buckets=_LAG_BUCKETS,
)
SOLVER_RUNS = Counter(
    "rouptimize_solver_runs", "Route optimizer runs, by engine and outcome.", ["engine", "outcome"]
)
SOLVER_DURATION = Histogram(
    "rouptimize_solver_run_duration_seconds",
    "Wall time of a route optimizer run, including the hand-over to its process.",
    ["engine"],
    buckets=_SOLVE_BUCKETS,
)
SOLVER_UNASSIGNED = Counter(
    "rouptimize_solver_unassigned_missions",
    "Missions the optimizer left out of every route (each with its reason in the answer).",
    ["engine"],
)

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED_ROUTE = "unmatched"  # no route served the path: its raw value stays out of the labels


def record_request(method: str, route: str | None, status: int, seconds: float) -> None:
    method = method if method in HTTP_METHODS else "other"
    route = route or UNMATCHED_ROUTE
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_DURATION.labels(method, route).observe(seconds)


class BoundedNames:
    """Label values clients choose (GraphQL operation names), kept to the first `limit` distinct ones
    a process sees; later newcomers count as `other`, so no client can grow the series without end.
    Names must be GraphQL names (letters, digits, `_`), at most 64 characters."""

    OTHER = "other"

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, name: str) -> str:
        if name in self._seen:
            return name
        if not _is_graphql_name(name):
            return self.OTHER
        with self._lock:
            if len(self._seen) >= self.limit:
                return self.OTHER
            self._seen.add(name)
        return name


def _is_graphql_name(name: str) -> bool:
    return (
        0 < len(name) <= 64 and name.isascii() and name.replace("_", "a").isalnum() and not name[0].isdigit()
    )


operation_names = BoundedNames(limit=200)


def record_delivery(status_code: int | None, waited_seconds: float) -> None:
    if status_code is None:
        outcome = "no_response"
    elif 200 <= status_code < 300:
        outcome = "succeeded"
    else:
        outcome = "http_error"
    WEBHOOK_DELIVERIES.labels(outcome).inc()
    WEBHOOK_LAG.observe(max(0.0, waited_seconds))


@dataclass
class SolverRun:
    unassigned: int = 0


@contextmanager
def solver_run(engine: str) -> Iterator[SolverRun]:
    """Time one solve in the process that asked for it (the solver's own process keeps no metrics);
    the caller fills in how many missions were left out."""
    run = SolverRun()
    started = time.perf_counter()
    outcome = "error"
    try:
        yield run
        outcome = "ok"
    finally:
        SOLVER_RUNS.labels(engine, outcome).inc()
        SOLVER_DURATION.labels(engine).observe(time.perf_counter() - started)
        if run.unassigned:
            SOLVER_UNASSIGNED.labels(engine).inc(run.unassigned)


def bearer_matches(authorization: str | None, token: str) -> bool:
    """`Authorization: Bearer <token>`, compared in constant time."""
    scheme, _, supplied = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(supplied.strip().encode(), token.encode())


class PoolCollector(Collector):
    """Database connections of this process, in use and idle, read from the pools as scraped."""

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily(
            "rouptimize_db_pool_connections",
            "Database connections held by this process's pools, by pool, client library and state.",
            labels=["pool", "client", "state"],
        )
        for usage in db.pool_usage():
            family.add_metric([usage.pool, usage.client, "in_use"], usage.in_use)
            family.add_metric([usage.pool, usage.client, "idle"], usage.idle)
        yield family


class OutboxCollector(Collector):
    """The outbox backlog: events committed but not yet fanned out to webhook endpoints. Read by one
    cheap query (`refresh`, awaited before each scrape of the API); a process that never refreshed
    (a worker) or whose last query failed exposes nothing rather than a stale value."""

    def __init__(self) -> None:
        self.pending: int | None = None
        self.oldest_age_seconds = 0.0

    async def refresh(self) -> None:
        try:
            async with asyncio.timeout(REFRESH_TIMEOUT), db.engine().connect() as connection:
                row = (await connection.execute(_BACKLOG)).one()
        except Exception:
            self.pending = None
            log.warning("outbox_metrics_unavailable")
            return
        oldest: dt.datetime | None = row.oldest
        self.pending = int(row.pending)
        self.oldest_age_seconds = max(0.0, (utcnow() - oldest).total_seconds()) if oldest else 0.0

    def collect(self) -> Iterable[Metric]:
        if self.pending is None:
            return
        yield GaugeMetricFamily(
            "rouptimize_outbox_pending_events",
            "Events committed and not yet fanned out to their webhook endpoints.",
            value=self.pending,
        )
        yield GaugeMetricFamily(
            "rouptimize_outbox_oldest_pending_age_seconds",
            "Age of the oldest event not yet fanned out (0 when none is pending).",
            value=self.oldest_age_seconds,
        )


outbox = OutboxCollector()
REGISTRY.register(PoolCollector())
REGISTRY.register(outbox)
