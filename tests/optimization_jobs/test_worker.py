"""Jobs on the worker: progress while the solver runs, lost messages, and a worker killed mid-solve
whose job runs again once, from its saved request, without saving anything twice."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from app.core import clock
from app.core import jobs as broker
from app.core.db import unit_of_work
from app.core.principal import Principal
from app.optimization_jobs import service as jobs
from app.optimization_jobs.models import OptimizationJob
from app.settings import get_settings
from tests.fixtures.factories import Factory, Tenant
from tests.fixtures.workers import Workers
from tests.optimization_jobs.support import ASYNC, auto_optimize, follow, job_row, plan
from tests.routes.support import credits, ledger, plannable_day
from tests.routes.test_planning import _route_count as route_count
from workers.optimization import sweep_stale_jobs

RERUN_AFTER = dt.timedelta(seconds=get_settings().optimization_rerun_after_seconds + 1)


async def _queued(client: httpx.AsyncClient, factory: Factory, missions: int = 4) -> tuple[Tenant, str]:
    """A job queued while no broker is configured in this process: its message is lost."""
    tenant = await factory.tenant(credits=50)
    day = await plannable_day(factory, tenant, missions)
    response = await auto_optimize(client, tenant, plan(day), **ASYNC)
    assert response.status_code == 202, response.text
    return tenant, response.json()["data"]["id"]


async def _set(tenant: Tenant, job_id: str, **values: Any) -> None:
    async with unit_of_work(Principal.system(tenant.id)) as uow:
        await uow.execute(
            update(OptimizationJob).where(OptimizationJob.id == uuid.UUID(job_id)).values(**values)
        )


async def test_progress_moves_while_the_solver_runs(
    client: httpx.AsyncClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pollers see a running job's progress move, recorded in transactions of its own while the
    solver searches, then 100 once it is saved."""
    monkeypatch.setattr(jobs, "PROGRESS_EVERY_SECONDS", 0.1)
    tenant, job_id = await _queued(client, factory)
    solve = jobs.solve

    async def slow_solve(setting: Any) -> Any:
        await asyncio.sleep(0.6)  # a search long enough to be watched
        return await solve(setting)

    monkeypatch.setattr(jobs, "solve", slow_solve)
    monkeypatch.setattr(jobs, "solve_seconds", lambda setting: 0.6)
    principal, recorded = Principal.system(tenant.id), []

    async def report(progress: int) -> bool:
        async def record() -> bool:
            async with unit_of_work(principal) as uow:
                return await jobs.record_progress(uow, uuid.UUID(job_id), 1, progress)

        # Bounded: were the job's row locked while it solves, this would wait for ever.
        kept = await asyncio.wait_for(record(), timeout=5)
        recorded.append((await follow(client, tenant, job_id, limit=0))["progress"])
        return kept

    async with unit_of_work(principal) as uow:
        assert await jobs.begin_run(uow, uuid.UUID(job_id)) == 1
    await jobs.run(principal, uuid.UUID(job_id), 1, report)
    done = await follow(client, tenant, job_id, limit=0)
    assert done["status"] == "succeeded" and done["progress"] == 100
    assert len(recorded) >= 3 and recorded == sorted(recorded), recorded
    assert all(10 < p <= 90 for p in recorded), recorded


async def test_a_lost_message_is_sent_again(
    client: httpx.AsyncClient, factory: Factory, worker: object
) -> None:
    tenant, job_id = await _queued(client, factory)
    await asyncio.sleep(1)
    assert (await follow(client, tenant, job_id, limit=0))["status"] == "queued"
    await _set(tenant, job_id, updated_at=clock.utcnow() - dt.timedelta(hours=1))
    broker.configure(get_settings().redis_url)
    try:
        await sweep_stale_jobs()
    finally:
        broker.close()
    done = await follow(client, tenant, job_id)
    assert done["status"] == "succeeded" and len(done["result"]["routeIds"]) == 1, done


async def test_a_run_taken_for_dead_saves_nothing(client: httpx.AsyncClient, factory: Factory) -> None:
    """Run 1 stalls long enough to be re-queued; when it wakes up, it is no longer the job's run."""
    tenant, job_id = await _queued(client, factory)
    principal = Principal.system(tenant.id)
    async with unit_of_work(principal) as uow:
        assert await jobs.begin_run(uow, uuid.UUID(job_id)) == 1
    with clock.frozen(clock.utcnow() + RERUN_AFTER):
        await sweep_stale_jobs()
    assert (await job_row(tenant, job_id)).status == "queued"
    async with unit_of_work(principal) as uow:
        assert not await jobs.record_progress(uow, uuid.UUID(job_id), 1, 50)

    async def report(progress: int) -> bool:
        return True

    await jobs.run(principal, uuid.UUID(job_id), 1, report)
    assert (await job_row(tenant, job_id)).status == "queued"
    assert await route_count(tenant) == 0 and await credits(client, tenant) == 50


async def test_a_job_whose_worker_died_twice_is_failed(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant, job_id = await _queued(client, factory)
    stale = clock.utcnow() - RERUN_AFTER
    await _set(tenant, job_id, status="running", progress=40, runs=jobs.MAX_RUNS, updated_at=stale)
    await sweep_stale_jobs()
    job = await follow(client, tenant, job_id, limit=0)
    assert (job["status"], job["progress"], job["error"]["code"]) == ("failed", 100, "internal_error")
    assert "start it again" in job["error"]["message"]
    assert await route_count(tenant) == 0 and await credits(client, tenant) == 50


# --- a real worker killed mid-solve ---------------------------------------------------------------


async def test_a_job_whose_worker_is_killed_mid_solve_runs_again_once(
    client: httpx.AsyncClient, factory: Factory, private_workers: Workers
) -> None:
    tenant = await factory.tenant(credits=200)
    day = await plannable_day(factory, tenant, missions=100)  # about 5.5 s of search
    first = private_workers.start()
    response = await auto_optimize(client, tenant, plan(day, timeLimitSeconds=30), **ASYNC)
    job_id = response.json()["data"]["id"]
    # Killed while it searches: it has recorded progress, and has not saved.
    deadline = asyncio.get_running_loop().time() + 90
    while (job := await follow(client, tenant, job_id, limit=0))["progress"] <= 10:
        assert job["status"] in ("queued", "running") and asyncio.get_running_loop().time() < deadline, job
        await asyncio.sleep(0.1)
    Workers.kill(first)
    await asyncio.sleep(1)
    assert (await follow(client, tenant, job_id, limit=0))["status"] == "running"
    assert await route_count(tenant) == 0 and await credits(client, tenant) == 200

    # Its progress no longer moves: a minute later the sweep queues it again, for a new worker.
    with clock.frozen(clock.utcnow() + RERUN_AFTER):
        await sweep_stale_jobs()
    assert (await job_row(tenant, job_id)).status == "queued"
    private_workers.start()
    done = await follow(client, tenant, job_id, limit=120)
    assert done["status"] == "succeeded", done
    assert (await job_row(tenant, job_id)).runs == 2
    charged = done["result"]["creditsCharged"]
    scheduled = 100 - len(done["result"]["unassigned"])
    assert charged == scheduled > 0 and await credits(client, tenant) == 200 - charged
    assert len([e for e in await ledger(tenant) if e.kind == "consume"]) == charged
    assert await route_count(tenant) == len(done["result"]["routeIds"]) == 1
