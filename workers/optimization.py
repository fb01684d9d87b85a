"""The auto-optimize actor: runs a queued optimization job (see app/routes/optimizing.py)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import text

from app.core.clock import utcnow
from app.core.db import unit_of_work
from app.core.errors import DomainError
from app.core.logging import get_logger
from app.core.principal import Principal
from app.routes.optimizing import (
    OPTIMIZE_ACTOR,
    OPTIMIZE_QUEUE,
    abandon_if_stale,
    fail_job,
    record_progress,
    resend_if_stale,
    run_job,
    start_job,
)
from app.settings import get_settings
from workers.broker import actor
from workers.schedule import every

log = get_logger("rouptimize.optimization")


@actor(OPTIMIZE_ACTOR, queue_name=OPTIMIZE_QUEUE, max_retries=0)
async def optimize(company_id: str, job_id: str) -> None:
    # No Dramatiq retries: a refusal is final (the job records it), and a second run of a job
    # that did save would find it no longer `running`.
    principal = Principal.system(uuid.UUID(company_id))
    async with unit_of_work(principal) as uow:
        if not await start_job(uow, uuid.UUID(job_id)):
            return

    async def report(progress: int) -> None:
        async with unit_of_work(principal) as progress_uow:
            await record_progress(progress_uow, uuid.UUID(job_id), progress)

    try:
        async with unit_of_work(principal) as uow:
            await run_job(uow, uuid.UUID(job_id), report)
    except DomainError as error:
        async with unit_of_work(principal) as uow:
            await fail_job(uow, uuid.UUID(job_id), error)
        log.info("optimization_failed", job_id=job_id, code=error.code)
    except Exception as error:
        async with unit_of_work(principal) as uow:
            await fail_job(uow, uuid.UUID(job_id), DomainError())
        log.exception("optimization_crashed", job_id=job_id, error=type(error).__name__)


# On the maintenance queue: the optimization queue may be busy with the very solves it checks.
@actor("route.optimize_sweep", queue_name="maintenance", max_retries=0)
async def sweep() -> None:
    """Re-send queued jobs whose message was lost; fail running jobs whose worker died."""
    resent, abandoned = await sweep_stale_jobs()
    if resent or abandoned:
        log.info("optimization_sweep", resent=resent, abandoned=abandoned)


async def sweep_stale_jobs(limit: int = 100) -> tuple[int, int]:
    """(jobs re-sent, jobs failed), oldest first, each in its company's own transaction."""
    settings = get_settings()
    queued_for = settings.optimization_resend_after_seconds
    running_for = settings.optimization_abandon_after_seconds
    queued_before = utcnow() - dt.timedelta(seconds=queued_for)
    running_before = utcnow() - dt.timedelta(seconds=running_for)
    async with unit_of_work(Principal.system(None)) as uow:
        rows = (
            await uow.execute(
                text(
                    "select id, company_id, status from stale_optimization_jobs(:queued, :running, :n)"
                ),
                {"queued": queued_before, "running": running_before, "n": limit},
            )
        ).all()
    resent = abandoned = 0
    for row in rows:
        try:
            async with unit_of_work(Principal.system(row.company_id)) as uow:
                if row.status == "queued":
                    resent += await resend_if_stale(uow, row.id, queued_for)
                else:
                    abandoned += await abandon_if_stale(uow, row.id, running_for)
        except Exception:  # one job's trouble must not leave the others behind
            log.exception("optimization_sweep_failed", job_id=str(row.id))
    return resent, abandoned


every(60, sweep)
