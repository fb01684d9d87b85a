"""Worker entry point: what `dramatiq workers.main` and `rouptimize worker` load.

Importing it resolves the services from the environment (the URLs `serve` passes to its worker
child, or embedded servers), points `app.core.db` at them, connects the broker, then imports
every actor module.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

import dramatiq

from app.core.embedded import Services, bootstrap
from workers.broker import close_broker, setup_broker

_services: Services | None = None
IDLE_POLL_MS = 100


def setup() -> Services:
    global _services
    if _services is None:
        # Migrations are the job of `rouptimize migrate` / `serve`, not of every worker replica.
        _services = bootstrap(migrate=False)
        # Every table must be mapped before the first flush resolves foreign keys.
        from app.migrations import import_models

        import_models()
        setup_broker(_services.require_redis())
        # Actors enqueue follow-up work (deliveries, retries) the same way the API does.
        from app.core import jobs

        jobs.configure(_services.require_redis())
    return _services


setup()

from workers import maintenance, optimization, webhooks  # noqa: E402,F401  (actor modules register on import)


def run(threads: int = 4, stop_timeout_ms: int = 30_000) -> None:
    """Run a Dramatiq worker and the scheduler in this process until SIGINT/SIGTERM."""
    from workers import metrics
    from workers.schedule import Scheduler

    stopping = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)

    broker = dramatiq.get_broker()
    # An idle queue is polled at least every IDLE_POLL_MS (Dramatiq backs off up to this): a webhook
    # or a job waits at most that long for a worker, at the price of a few Redis calls a second.
    worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=IDLE_POLL_MS)
    scheduler = Scheduler()
    listener = metrics.serve(broker)
    worker.start()
    scheduler.start()
    try:
        while not stopping.wait(1.0):
            pass
    finally:
        scheduler.stop()
        if listener is not None:
            listener.stop()
        worker.stop(timeout=stop_timeout_ms)
        broker.close()
        close_broker()
