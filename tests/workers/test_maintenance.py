from __future__ import annotations

import datetime as dt

import httpx
from sqlalchemy import select, update

from app.core import clock
from app.core.db import unit_of_work
from app.core.idempotency import IdempotencyRecord
from app.core.principal import Principal
from tests.fixtures.factories import Factory
from workers.maintenance import expire_idempotency_keys, expire_idempotency_keys_older_than
from workers.schedule import JOBS


async def test_keys_older_than_the_ttl_expire_and_the_key_runs_again(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.tenant()
    headers = tenant.headers(**{"Idempotency-Key": "old"})
    first = await client.post("/api/v1/branches", json={"name": "A"}, headers=headers)
    fresh = await client.post(
        "/api/v1/branches", json={"name": "B"}, headers=tenant.headers(**{"Idempotency-Key": "new"})
    )
    assert first.status_code == fresh.status_code == 201
    async with unit_of_work(Principal.system(tenant.id), kind="owner") as uow:
        await uow.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.company_id == tenant.id, IdempotencyRecord.key == "old")
            .values(created_at=clock.utcnow() - dt.timedelta(hours=25))
        )
    # The worker runs as the application role with no company bound.
    async with unit_of_work(Principal.system(None)) as uow:
        assert await expire_idempotency_keys_older_than(uow, 24) >= 1
    async with unit_of_work(Principal.system(tenant.id)) as uow:
        keys = await uow.scalars(
            select(IdempotencyRecord.key).where(IdempotencyRecord.company_id == tenant.id)
        )
    assert keys == ["new"]
    again = await client.post("/api/v1/branches", json={"name": "A"}, headers=headers)
    assert again.status_code == 201 and "idempotent-replayed" not in again.headers
    assert again.json()["data"]["id"] != first.json()["data"]["id"]


def test_expiry_is_scheduled_periodically() -> None:
    periods = {job.actor.actor_name: job.every_seconds for job in JOBS}
    assert periods[expire_idempotency_keys.actor_name] <= 3600
