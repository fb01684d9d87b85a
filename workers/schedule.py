"""Periodic jobs: a thread in each worker process that enqueues actors on a fixed interval.

Every worker replica runs one; a Redis `SET NX EX` per job and interval lets only the first replica
enqueue, so two replicas do not double the work.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker

from app.core.logging import get_logger

log = get_logger("rouptimize.schedule")


@dataclass
class Job:
    actor: dramatiq.Actor[Any, Any]
    every_seconds: float
    next_at: float = 0.0  # 0: due at start-up


JOBS: list[Job] = []


def every(seconds: float, actor: dramatiq.Actor[Any, Any]) -> None:
    JOBS.append(Job(actor, seconds))


class Scheduler(threading.Thread):
    def __init__(self, jobs: list[Job] | None = None, tick_seconds: float = 5.0) -> None:
        super().__init__(name="rouptimize-scheduler", daemon=True)
        # Copies: the next due time belongs to this scheduler, not to the module-level list.
        self.jobs = [replace(job) for job in (JOBS if jobs is None else jobs)]
        self.tick_seconds = tick_seconds
        self.stopping = threading.Event()

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        while not self.stopping.is_set():
            now = time.monotonic()
            for job in self.jobs:
                if now >= job.next_at:
                    job.next_at = now + job.every_seconds
                    self._enqueue(job)
            self.stopping.wait(self.tick_seconds)

    def _enqueue(self, job: Job) -> None:
        try:
            broker = job.actor.broker
            if isinstance(broker, RedisBroker):
                # Slightly shorter than the interval, so clock drift never skips a whole period.
                lease = max(1, int(job.every_seconds * 0.9))
                key = f"rouptimize:schedule:{job.actor.actor_name}"
                if not broker.client.set(key, "1", nx=True, ex=lease):
                    return
            job.actor.send()
        except Exception:  # a Redis hiccup must not kill the thread; the next tick retries
            log.exception("schedule_enqueue_failed", actor=job.actor.actor_name)
            job.next_at = time.monotonic() + self.tick_seconds
