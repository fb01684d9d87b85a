"""Auto-optimize: plan a branch's day with the optimizer and save it as routes, in the request for
small runs, as a job on the worker otherwise (polled through `optimizationJob`)."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from sqlalchemy import select, update

from app.core import jobs, outbox
from app.core.clock import utcnow
from app.core.db import UnitOfWork
from app.core.errors import DomainError, InsufficientCredits
from app.core.repository import Repository
from app.credits.service import credit_service
from app.optimization import vrp
from app.routes.models import OptimizationJob
from app.routes.planning import Setting, plan_setting, route_start, solve, solve_seconds, unassigned
from app.routes.schemas import JobStatus, OptimizationResultOut, PlanRoutes, RouteCreate
from app.routes.service import route_service

OPTIMIZE_ACTOR = "route.optimize"  # implemented in workers/optimization.py
OPTIMIZE_QUEUE = "optimization"
SYNC_MAX_MISSIONS = 50
PROGRESS_EVERY_SECONDS = 1.0
# Told a running job's progress, 0..100; records it in a transaction of its own.
ProgressReport = Callable[[int], Awaitable[None]]


async def auto_optimize(uow: UnitOfWork, data: PlanRoutes) -> OptimizationJob:
    """Start an auto-optimize job. Validation runs now (422/409 answer at once); a run of up to
    SYNC_MAX_MISSIONS missions is solved and saved in this request (402 leaves nothing), a bigger
    one is queued for the worker after commit."""
    setting = await plan_setting(uow, data)
    job = OptimizationJob(company_id=uow.company_id, request=data.model_dump(mode="json", by_alias=True))
    uow.add(job)
    await uow.flush()
    if len(setting.missions) <= SYNC_MAX_MISSIONS:
        solution, _ = await solve(setting)
        await _save(uow, job, setting, solution)
        return job
    company_id = str(uow.company_id)
    uow.after_commit.append(
        partial(jobs.send, OPTIMIZE_ACTOR, company_id, str(job.id), queue_name=OPTIMIZE_QUEUE)
    )
    return job


async def get_job(uow: UnitOfWork, job_id: Any) -> OptimizationJob:
    return await Repository(OptimizationJob).get_or_404(uow, job_id)


async def start_job(uow: UnitOfWork, job_id: uuid.UUID) -> bool:
    """Mark a queued job running (its own transaction, so pollers see it); False if it is not queued.
    A locked job is being started or run by another message for it (a sweep's re-send): skipped,
    not waited for, so a duplicate never holds a worker for the length of someone else's solve."""
    job = await uow.scalar(
        select(OptimizationJob).where(OptimizationJob.id == job_id).with_for_update(skip_locked=True)
    )
    if job is None or job.status != JobStatus.QUEUED:
        return False
    job.status, job.progress, job.updated_at = JobStatus.RUNNING.value, 10, utcnow()
    await uow.flush()
    return True


async def run_job(uow: UnitOfWork, job_id: uuid.UUID, report: ProgressReport | None = None) -> None:
    """The worker's solve-and-save of a running job. A refusal (402, 409) fails the job: the caller
    rolls the attempt back and records it with `fail_job`. The job's row is locked only to save it:
    while the solver runs, `report` is given its progress to record in a transaction of its own,
    so that pollers see it move."""
    job = await uow.scalar(select(OptimizationJob).where(OptimizationJob.id == job_id))
    if job is None or job.status != JobStatus.RUNNING:
        return
    setting = await plan_setting(uow, PlanRoutes.model_validate(job.request, strict=False))
    solution = await _solve_reporting(setting, report)
    job = await uow.scalar(
        select(OptimizationJob)
        .where(OptimizationJob.id == job_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if job is None or job.status != JobStatus.RUNNING:
        return  # given up on while it solved (a sweep took it for dead)
    await _save(uow, job, setting, solution)


async def record_progress(uow: UnitOfWork, job_id: uuid.UUID, progress: int) -> None:
    await uow.execute(
        update(OptimizationJob)
        .where(OptimizationJob.id == job_id, OptimizationJob.status == JobStatus.RUNNING.value)
        .values(progress=progress, updated_at=utcnow())
    )


async def _solve_reporting(setting: Setting, report: ProgressReport | None) -> vrp.Solution:
    """Solve, telling `report` every PROGRESS_EVERY_SECONDS how far the search is: the solver uses
    its whole time limit, so time spent is the honest measure. Progress runs from 10 (started) to
    90 while solving; saving takes it to 100."""
    solving = asyncio.ensure_future(solve(setting))
    started, seconds = time.monotonic(), solve_seconds(setting)
    while report is not None:
        done, _ = await asyncio.wait({solving}, timeout=PROGRESS_EVERY_SECONDS)
        if done:
            break
        await report(10 + int(80 * min(1.0, (time.monotonic() - started) / seconds)))
    solution, _ = await solving
    return solution


async def resend_if_stale(uow: UnitOfWork, job_id: uuid.UUID, seconds: int) -> bool:
    """Hand a job whose message was lost to the workers again: still queued and untouched for
    `seconds`. Its `updatedAt` moves, so the next re-send waits as long again; a duplicate message
    is harmless, as only one run can move a job out of `queued`."""
    job = await _stale(uow, job_id, JobStatus.QUEUED, seconds)
    if job is None:
        return False
    job.updated_at = utcnow()
    await uow.flush()
    company_id = str(uow.company_id)
    uow.after_commit.append(
        partial(jobs.send, OPTIMIZE_ACTOR, company_id, str(job_id), queue_name=OPTIMIZE_QUEUE)
    )
    return True


async def abandon_if_stale(uow: UnitOfWork, job_id: uuid.UUID, seconds: int) -> bool:
    """Fail a job whose worker died mid-run, so that pollers stop waiting: still running and
    untouched for `seconds`. A live worker records its progress every second while it solves and
    holds the job's row while it saves (a locked row is skipped, not waited for), so only a dead
    one leaves a job untouched that long."""
    if await _stale(uow, job_id, JobStatus.RUNNING, seconds) is None:
        return False
    await fail_job(uow, job_id, JobAbandoned())
    return True


async def _stale(
    uow: UnitOfWork, job_id: uuid.UUID, status: JobStatus, seconds: int
) -> OptimizationJob | None:
    """The job, locked, if it has `status` and has not moved for `seconds` by the application's clock
    (the one the sweep's listing used), and no one else holds it."""
    return await uow.scalar(
        select(OptimizationJob)
        .where(
            OptimizationJob.id == job_id,
            OptimizationJob.status == status.value,
            OptimizationJob.updated_at < utcnow() - dt.timedelta(seconds=seconds),
        )
        .with_for_update(skip_locked=True)
    )


class JobAbandoned(DomainError):
    default_message = "The optimization stopped before it finished (its worker went away); start it again."


async def fail_job(uow: UnitOfWork, job_id: uuid.UUID, error: DomainError) -> None:
    job = await uow.scalar(select(OptimizationJob).where(OptimizationJob.id == job_id).with_for_update())
    if job is None:
        return
    job.status, job.progress, job.updated_at = JobStatus.FAILED.value, 100, utcnow()
    job.error = {"code": error.code, "message": error.message, "details": error.details}
    await uow.flush()


async def _save(uow: UnitOfWork, job: OptimizationJob, setting: Setting, solution: vrp.Solution) -> None:
    route_ids = await persist(uow, setting, solution)
    result = OptimizationResultOut(route_ids=route_ids, unassigned=unassigned(setting, solution))
    job.status, job.progress, job.updated_at = JobStatus.SUCCEEDED.value, 100, utcnow()
    job.result = result.model_dump(mode="json")
    await uow.flush()


async def persist(uow: UnitOfWork, setting: Setting, solution: vrp.Solution) -> list[uuid.UUID]:
    """Save the solution as routes through the route service (the manual path: checks, credits,
    `route.created` and `mission.status_changed`), then mark each optimized (`route.optimized`).
    Credits are checked for the whole plan first, so a 402 names what the plan needs."""
    planned = [setting.missions[j] for r in solution.routes for j in r.jobs]
    required = sum(1 for m in planned if not m.credit_charged)
    remaining = await credit_service.balance(uow)
    if required > remaining:
        raise InsufficientCredits(
            f"This needs {required} scheduled-order credits and {remaining} remain.",
            {"required": required, "remaining": remaining},
        )
    route_ids = []
    for route in solution.routes:
        fleet = setting.fleet[route.vehicle]
        # Built from already-checked values; the service re-checks every reference and rule.
        body = RouteCreate.model_construct(
            branch_id=setting.branch.id, date=setting.day,
            mission_ids=[setting.missions[j].id for j in route.jobs],
            vehicle_id=fleet.vehicle.id if fleet.vehicle else None,
            driver_id=fleet.driver.id if fleet.driver else None,
            start_depot_id=setting.start.id if setting.start else None,
            end_depot_id=setting.end.id if setting.end else None,
            start_time=route_start(setting, fleet),
        )  # fmt: skip
        view = await route_service.create(uow, body)
        view.route.optimized_at = utcnow()
        await uow.flush()
        await outbox.record_event(
            uow, "route.optimized", "route", view.route.id, route_service.snapshot(view)
        )
        route_ids.append(view.route.id)
    return route_ids
