"""Baseline for bench/branches_list.py: the same page of branches with nothing but Starlette + asyncpg.

No authentication, rate limit, ORM, pydantic or middleware (ids are cast to text in SQL, as orjson does
not encode asyncpg's own UUID type): one pooled connection, a transaction that
binds `app.company_id` (so row-level security lets the company's rows through), one query, orjson.

Configured by the environment (set by the benchmark):
  BENCH_BARE_DSN      plain asyncpg DSN of the application role (no `+asyncpg`)
  BENCH_COMPANY_ID    company whose branches are listed
  BENCH_POOL_SIZE     pool size (default 10, the app's db_pool_size default)
Serve with: uvicorn --app-dir bench bare_app:app
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

QUERY = """
select id::text, company_id::text, external_id, name, address, latitude, longitude, timezone, phone,
       created_at, updated_at
from branch
where company_id = $1
order by created_at, id
limit $2
"""

COMPANY_ID = os.environ.get("BENCH_COMPANY_ID", "")
_pool: asyncpg.Pool | None = None


async def list_branches(request: Request) -> Response:
    limit = int(request.query_params.get("limit", "50"))
    assert _pool is not None
    async with _pool.acquire() as conn, conn.transaction():
        await conn.execute("select set_config('app.company_id', $1, true)", COMPANY_ID)
        rows = await conn.fetch(QUERY, COMPANY_ID, limit + 1)
    return Response(
        orjson.dumps({"data": [dict(row) for row in rows[:limit]]}), media_type="application/json"
    )


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    global _pool
    size = int(os.environ.get("BENCH_POOL_SIZE", "10"))
    _pool = await asyncpg.create_pool(os.environ["BENCH_BARE_DSN"], min_size=1, max_size=size)
    try:
        yield
    finally:
        await _pool.close()


app = Starlette(routes=[Route("/api/v1/branches", list_branches, methods=["GET"])], lifespan=lifespan)
