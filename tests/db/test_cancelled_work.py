"""A unit of work cancelled mid-statement (a client that went away, a GraphQL field abandoned by its
siblings' error) ends as cancelled, and leaves its connections clean for the next request."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from app.core.db import unit_of_work
from app.core.principal import Principal, Source
from tests.fixtures.factories import Factory


async def test_work_cancelled_at_any_point_leaves_clean_connections(factory: Factory) -> None:
    tenant = await factory.tenant()
    company = Principal.system(tenant.id)

    async def work(read_only: bool) -> None:
        async with unit_of_work(company, Source.SYSTEM, read_only=read_only) as uow:
            connection = await uow.driver_connection()
            await connection.fetchval("select pg_sleep(0.002)")
            await uow.execute(text("select 1"))
            await connection.fetchval("select 1")

    for attempt in range(80):
        task = asyncio.create_task(work(read_only=attempt % 2 == 0))
        await asyncio.sleep((attempt % 20) * 0.0005)  # cancelled at a different point each time
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass  # the only way it may end, when it did not finish first
        for read_only in (True, False):
            async with unit_of_work(company, Source.SYSTEM, read_only=read_only) as uow:
                connection = await uow.driver_connection()
                bound = await connection.fetchval("select current_setting('app.company_id', true)")
                assert bound == str(tenant.id), attempt
                assert await uow.scalar(text("select count(*) from company")) == 1, attempt
