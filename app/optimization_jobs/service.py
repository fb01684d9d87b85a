"""An auto-optimize job's life: started by a request (solved in it, or queued for a worker when the
caller prefers to follow it), run by a worker, cancelled by its company, and run once more when
the worker running it died.

Solving never holds the job's row: a worker records its progress in transactions of its own, and
locks the row only to save. Each run has a number (`runs`); only the job's latest run may record
progress, save or fail it, so a run taken for dead that wakes up again changes nothing."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from sqlalchemy import select, update
from sqlmodel import col

from app.core import jobs
from app.core.clock import utcnow
from app.core.db import UnitOfWork, unit_of_work
from app.core.errors import Conflict, DomainError
from app.core.pagination import Page
from app.core.principal import Principal
from app.core.repository import Repository
from app.optimization import vrp
from app.optimization_jobs.models import OptimizationJob
from app.optimization_jobs.schemas import UNFINISHED, JobQuery, JobStatus, OptimizationResultOut
from app.routes.optimizing import persist
from app.routes.planning import Setting, plan_setting, solve, solve_seconds, unassigned
from app.routes.schemas import PlanRoutes

OPTIMIZE_ACTOR = "route.optimize"  # implemented in workers/optimization.py
OPTIMIZE_QUEUE = "optimization"
PROGRESS_EVERY_SECONDS = 1.0
MAX_RUNS = 2  # a job whose worker died is run once more from its saved request
# Told a running job's progress, 0..100, to record in a transaction of its own; answers whether the
# job still wants it (False once it was cancelled or given to another run).
ProgressReport = Callable[[int], Awaitable[bool]]

repo = Repository(OptimizationJob)


class JobAbandoned(DomainError):
    default_message = "The optimization stopped twice before finishing (its worker left); start it again."


async def start(uow: UnitOfWork, data: PlanRoutes, *, in_background: bool) -> OptimizationJob:
    """Validation runs now (422/409 answer at once). In the background the job is queued for a
    worker after commit; otherwise it is solved and saved within this request, off the event loop,
    and a shortage of credits (402) leaves nothing behind, the job included."""
    setting = await plan_setting(uow, data)
    job = OptimizationJob(
        company_id=uow.company_id, request=data.model_dump(mode="json", by_alias=True),
        engine=setting.engine, branch_id=data.branch_id, date=data.date,
    )  # fmt: skip
    uow.add(job)
    await uow.flush()
    if in_background:
        _send_after_commit(uow, job.id)
        return job
    job.status, job.runs, job.started_at = JobStatus.RUNNING.value, 1, utcnow()
    solution, _ = await solve(setting)
    await _save(uow, job, setting, solution)
    return job


async def get(uow: UnitOfWork, job_id: Any) -> OptimizationJob:
    return await repo.get_or_404(uow, job_id)


async def list_jobs(uow: UnitOfWork, query: JobQuery) -> Page[Any]:
    filters: list[Any] = []
    if query.status:
        filters.append(col(OptimizationJob.status).in_([s.value for s in query.status]))
    if query.branch_id:
        filters.append(OptimizationJob.branch_id == query.branch_id)
    if query.date:
        filters.append(OptimizationJob.date == query.date)
    return await repo.page(uow, query, filters)


async def locked(uow: UnitOfWork, job_id: Any) -> OptimizationJob:
    """The job, its row locked: a worker saving it holds the lock, so a cancel waits for the save and
    then finds the job finished."""
    return await repo.get_or_404(uow, job_id, for_update=True)


async def cancel(uow: UnitOfWork, job: OptimizationJob) -> OptimizationJob:
    """Stop a queued or running job (locked): nothing it would have saved is saved. A finished job
    is a 409."""
    if job.status not in UNFINISHED:
        raise Conflict(f"The job is already {job.status}.", {"status": job.status})
    _finish(job, JobStatus.CANCELLED)
    await uow.flush()
    return job


# --- the worker's side ----------------------------------------------------------------------------


async def begin_run(uow: UnitOfWork, job_id: uuid.UUID) -> int | None:
    """Mark a queued job running (its own transaction, so pollers see it) and answer the run's
    number; None if it is not queued. A locked job is being started or run by another message for
    it (a sweep's re-send): skipped, not waited for, so a duplicate never holds a worker."""
    job = await uow.scalar(
        select(OptimizationJob).where(col(OptimizationJob.id) == job_id).with_for_update(skip_locked=True)
    )
    if job is None or job.status != JobStatus.QUEUED:
        return None
    now = utcnow()
    job.status, job.progress, job.runs, job.updated_at = JobStatus.RUNNING.value, 10, job.runs + 1, now
    job.started_at = job.started_at or now
    await uow.flush()
    return job.runs


async def run(principal: Principal, job_id: uuid.UUID, run_number: int, report: ProgressReport) -> None:
    """Solve and save run `run_number` of a job, in three steps so that no transaction waits on the
    solver: read what to plan, solve (up to 30 s, with none open), then lock the job and save. A
    refusal (402, 409) while saving fails the job: the caller records it with `fail`."""
    async with unit_of_work(principal) as uow:
        job = await uow.scalar(select(OptimizationJob).where(col(OptimizationJob.id) == job_id))
        if not _is_current(job, run_number):
            return
        assert job is not None
        setting = await plan_setting(uow, PlanRoutes.model_validate(job.request, strict=False))
    solution = await _solve_reporting(setting, report)
    if solution is None:
        return  # cancelled while it solved
    async with unit_of_work(principal) as uow:
        job = await uow.scalar(
            select(OptimizationJob).where(col(OptimizationJob.id) == job_id).with_for_update()
        )
        if _is_current(job, run_number):
            assert job is not None
            await _save(uow, job, setting, solution)


async def record_progress(uow: UnitOfWork, job_id: uuid.UUID, run_number: int, progress: int) -> bool:
    result = await uow.execute(
        update(OptimizationJob)
        .where(
            col(OptimizationJob.id) == job_id,
            col(OptimizationJob.status) == JobStatus.RUNNING.value,
            col(OptimizationJob.runs) == run_number,
        )
        .values(progress=progress, updated_at=utcnow())
    )
    return bool(getattr(result, "rowcount", 0))


async def fail(uow: UnitOfWork, job_id: uuid.UUID, error: DomainError, run_number: int | None = None) -> None:
    job = await uow.scalar(select(OptimizationJob).where(col(OptimizationJob.id) == job_id).with_for_update())
    if job is None or job.status not in UNFINISHED or (run_number is not None and job.runs != run_number):
        return
    _finish(job, JobStatus.FAILED)
    job.error = {"code": error.code, "message": error.message, "details": error.details}
    await uow.flush()


# --- jobs left behind -----------------------------------------------------------------------------


async def resend_if_stale(uow: UnitOfWork, job_id: uuid.UUID, seconds: int) -> bool:
    """Hand a job whose message was lost to the workers again: still queued and untouched for
    `seconds`. Its `updatedAt` moves, so the next re-send waits as long again; a duplicate message
    is harmless, as only one run can move a job out of `queued`."""
    job = await _stale(uow, job_id, JobStatus.QUEUED, seconds)
    if job is None:
        return False
    job.updated_at = utcnow()
    await uow.flush()
    _send_after_commit(uow, job_id)
    return True


async def rerun_if_stale(uow: UnitOfWork, job_id: uuid.UUID, seconds: int) -> bool | None:
    """A job whose worker died mid-run: still running and untouched for `seconds` (a live worker
    records its progress every second). Queued again from its saved request if it has run fewer
    than MAX_RUNS times (True), else failed so that pollers stop waiting (False); None if it is not
    stale. Nothing of a dead run was saved: a run saves routes, credits and the job in one commit."""
    job = await _stale(uow, job_id, JobStatus.RUNNING, seconds)
    if job is None:
        return None
    if job.runs >= MAX_RUNS:
        await fail(uow, job_id, JobAbandoned())
        return False
    job.status, job.progress, job.updated_at = JobStatus.QUEUED.value, 0, utcnow()
    await uow.flush()
    _send_after_commit(uow, job_id)
    return True


# --- helpers --------------------------------------------------------------------------------------


def _send_after_commit(uow: UnitOfWork, job_id: uuid.UUID) -> None:
    uow.after_commit.append(
        partial(jobs.send, OPTIMIZE_ACTOR, str(uow.company_id), str(job_id), queue_name=OPTIMIZE_QUEUE)
    )


def _is_current(job: OptimizationJob | None, run_number: int) -> bool:
    return job is not None and job.status == JobStatus.RUNNING and job.runs == run_number


def _finish(job: OptimizationJob, status: JobStatus) -> None:
    now = utcnow()
    job.status, job.progress, job.finished_at, job.updated_at = status.value, 100, now, now


async def _stale(
    uow: UnitOfWork, job_id: uuid.UUID, status: JobStatus, seconds: int
) -> OptimizationJob | None:
    """The job, locked, if it has `status` and has not moved for `seconds`, and no one else holds it."""
    return await uow.scalar(
        select(OptimizationJob)
        .where(
            col(OptimizationJob.id) == job_id,
            col(OptimizationJob.status) == status.value,
            col(OptimizationJob.updated_at) < utcnow() - dt.timedelta(seconds=seconds),
        )
        .with_for_update(skip_locked=True)
    )


async def _solve_reporting(setting: Setting, report: ProgressReport) -> vrp.Solution | None:
    """Solve, telling `report` every PROGRESS_EVERY_SECONDS how far the search is: the solver uses
    its whole time limit, so time spent is the honest measure. Progress runs from 10 (started) to
    90 while solving; saving takes it to 100. None once the job no longer wants the answer (the
    solve itself runs out its time limit in its process, a bounded waste)."""
    solving = asyncio.ensure_future(solve(setting))
    started, seconds = time.monotonic(), solve_seconds(setting)
    while True:
        done, _ = await asyncio.wait({solving}, timeout=PROGRESS_EVERY_SECONDS)
        if done:
            break
        if not await report(10 + int(80 * min(1.0, (time.monotonic() - started) / seconds))):
            solving.add_done_callback(lambda task: task.exception())  # retrieved: never logged as lost
            return None
    solution, _ = await solving
    return solution


async def _save(uow: UnitOfWork, job: OptimizationJob, setting: Setting, solution: vrp.Solution) -> None:
    saved = await persist(uow, setting, solution)
    result = OptimizationResultOut(
        route_ids=saved.route_ids, unassigned=unassigned(setting, solution),
        credits_charged=saved.credits_charged,
    )  # fmt: skip
    _finish(job, JobStatus.SUCCEEDED)
    job.result = result.model_dump(mode="json")
    job.error = None
    await uow.flush()
