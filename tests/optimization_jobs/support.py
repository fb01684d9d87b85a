"""Starting and following optimization jobs through the REST surface."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from sqlalchemy import select

from app.core.db import unit_of_work
from app.core.principal import Principal
from app.optimization_jobs.models import OptimizationJob
from tests.fixtures.factories import Tenant
from tests.routes.support import DAY

JOBS = "/api/v1/optimization-jobs"
FINISHED = ("succeeded", "failed", "cancelled")
ASYNC = {"Prefer": "respond-async"}


def plan(day: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"branchId": day["branch"]["id"], "date": DAY, "timeLimitSeconds": 1, **fields}


async def auto_optimize(
    client: httpx.AsyncClient, tenant: Tenant, body: dict[str, Any], **headers: str
) -> httpx.Response:
    return await client.post("/api/v1/routes/auto-optimize", json=body, headers=tenant.headers(**headers))


async def follow(
    client: httpx.AsyncClient,
    tenant: Tenant,
    job_id: str,
    until: tuple[str, ...] = FINISHED,
    limit: float = 90,
) -> dict[str, Any]:
    """Poll the job until its status is one of `until` (or the time runs out): its last state."""
    deadline = asyncio.get_running_loop().time() + limit
    while True:
        response = await client.get(f"{JOBS}/{job_id}", headers=tenant.headers("read"))
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()["data"]
        if job["status"] in until or asyncio.get_running_loop().time() > deadline:
            return job
        await asyncio.sleep(0.2)


async def job_row(tenant: Tenant, job_id: str) -> OptimizationJob:
    async with unit_of_work(Principal.system(tenant.id)) as uow:
        job = await uow.scalar(select(OptimizationJob).where(OptimizationJob.id == uuid.UUID(job_id)))
    assert job is not None
    return job
