"""The auto-optimize actor: runs a queued optimization job (see app/routes/optimizing.py)."""

from __future__ import annotations

import uuid

from app.core.db import unit_of_work
from app.core.errors import DomainError
from app.core.logging import get_logger
from app.core.principal import Principal
from app.routes.optimizing import OPTIMIZE_ACTOR, OPTIMIZE_QUEUE, fail_job, run_job, start_job
from workers.broker import actor

log = get_logger("rouptimize.optimization")


@actor(OPTIMIZE_ACTOR, queue_name=OPTIMIZE_QUEUE, max_retries=0)
async def optimize(company_id: str, job_id: str) -> None:
    # No Dramatiq retries: a refusal is final (the job records it), and a second run of a job
    # that did save would find it no longer `running`.
    principal = Principal.system(uuid.UUID(company_id))
    async with unit_of_work(principal) as uow:
        if not await start_job(uow, uuid.UUID(job_id)):
            return
    try:
        async with unit_of_work(principal) as uow:
            await run_job(uow, uuid.UUID(job_id))
    except DomainError as error:
        async with unit_of_work(principal) as uow:
            await fail_job(uow, uuid.UUID(job_id), error)
        log.info("optimization_failed", job_id=job_id, code=error.code)
    except Exception as error:
        async with unit_of_work(principal) as uow:
            await fail_job(uow, uuid.UUID(job_id), DomainError())
        log.exception("optimization_crashed", job_id=job_id, error=type(error).__name__)
