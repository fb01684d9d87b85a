"""The auto-optimize actor: runs a queued optimization job (see app/optimization_jobs)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import text

from app.core.clock import utcnow
from app.core.db import unit_of_work
from app.core.errors import DomainError
from app.core.logging import get_logger
from app.core.principal import Principal
from app.optimization_jobs import service as jobs
from app.optimization_jobs.service import OPTIMIZE_ACTOR, OPTIMIZE_QUEUE
from app.settings import get_settings
from workers.broker import actor
from workers.schedule import every

log = get_logger("rouptimize.optimization")


@actor(OPTIMIZE_ACTOR, queue_name=OPTIMIZE_QUEUE, max_retries=0)
async def optimize(company_id: str, job_id: str) -> None:
    # No Dramatiq retries: a refusal is final (the job records it), and a job whose worker died is
    # run again by the sweep, from the database, not by redelivering this message.
    principal = Principal.system(uuid.UUID(company_id))
    job = uuid.UUID(job_id)
    async with unit_of_work(principal) as uow:
        run_number = await jobs.begin_run(uow, job)
    if run_number is None:
        return

    async def report(progress: int) -> bool:
        async with unit_of_work(principal) as progress_uow:
            return await jobs.record_progress(progress_uow, job, run_number, progress)

    try:
        await jobs.run(principal, job, run_number, report)
    except DomainError as error:
        async with unit_of_work(principal) as uow:
            await jobs.fail(uow, job, error, run_number)
        log.info("optimization_failed", job_id=job_id, code=error.code)
    except Exception as error:
        async with unit_of_work(principal) as uow:
            await jobs.fail(uow, job, DomainError(), run_number)
        log.exception("optimization_crashed", job_id=job_id, error=type(error).__name__)


# On the maintenance queue: the optimization queue may be busy with the very solves it checks.
@actor("route.optimize_sweep", queue_name="maintenance", max_retries=0)
async def sweep() -> None:
    """Re-send queued jobs whose message was lost; run again (or fail) jobs whose worker died."""
    resent, rerun, failed = await sweep_stale_jobs()
    if resent or rerun or failed:
        log.info("optimization_sweep", resent=resent, rerun=rerun, failed=failed)


async def sweep_stale_jobs(limit: int = 100) -> tuple[int, int, int]:
    """(jobs re-sent, jobs run again, jobs failed), oldest first, each in its company's own
    transaction."""
    settings = get_settings()
    queued_for = settings.optimization_resend_after_seconds
    running_for = settings.optimization_rerun_after_seconds
    now = utcnow()
    async with unit_of_work(Principal.system(None)) as uow:
        rows = (
            await uow.execute(
                text("select id, company_id, status from stale_optimization_jobs(:queued, :running, :n)"),
                {"queued": now - dt.timedelta(seconds=queued_for),
                 "running": now - dt.timedelta(seconds=running_for), "n": limit},
            )
        ).all()  # fmt: skip
    resent = rerun = failed = 0
    for row in rows:
        try:
            async with unit_of_work(Principal.system(row.company_id)) as uow:
                if row.status == "queued":
                    resent += await jobs.resend_if_stale(uow, row.id, queued_for)
                else:
                    outcome = await jobs.rerun_if_stale(uow, row.id, running_for)
                    rerun += outcome is True
                    failed += outcome is False
        except Exception:  # one job's trouble must not leave the others behind
            log.exception("optimization_sweep_failed", job_id=str(row.id))
    return resent, rerun, failed


every(60, sweep)
