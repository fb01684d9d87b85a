"""Ceiling for bench/graphql_list.py: the GraphQL branches list with nothing but Starlette + asyncpg +
graphql-core + orjson.

What a GraphQL server must do at the least for `{ branches(first: N) { nodes { ... } } }`: read the
JSON body, look the document up in a cache of parsed and validated documents (the real app caches
both too), fetch the page as bench/bare_app.py does (same query under the same row-level security,
columns aliased to the GraphQL field names), run graphql-core's `execute` over the fetched rows with
a minimal schema of the same types (default resolvers, every scalar serialised by graphql-core as
usual), and encode the result with orjson. No authentication, rate limit, ORM, pydantic, strawberry
or middleware. Any other document, or a `first` outside 1..200, is a 400.

Configured by the environment (set by the benchmark), as bare_app.py:
  BENCH_BARE_DSN, BENCH_COMPANY_ID, BENCH_POOL_SIZE
Serve with: uvicorn --app-dir bench bare_graphql_app:app
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any

import asyncpg
import orjson
from graphql import (
    DocumentNode,
    GraphQLSchema,
    build_schema,
    execute,
    get_argument_values,
    parse,
    validate,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

# The real schema's Branch, its Connection's `nodes`, and the list field with its page size.
SDL = """
scalar UUID
scalar DateTime
type Branch {
  id: UUID!
  createdAt: DateTime!
  updatedAt: DateTime!
  externalId: String
  name: String!
  address: String
  latitude: Float!
  longitude: Float!
  timezone: String!
  phone: String
}
type BranchConnection { nodes: [Branch!]! }
type Query { branches(first: Int! = 50): BranchConnection! }
"""

QUERY = """
select id::text as "id", external_id as "externalId", name, address, latitude, longitude, timezone, phone,
       created_at as "createdAt", updated_at as "updatedAt"
from branch
where company_id = $1
order by created_at, id
limit $2
"""

SCHEMA: GraphQLSchema = build_schema(SDL)
# Custom scalars pass values through; orjson writes datetimes as ISO 8601, as the real app's scalar does.
COMPANY_ID = os.environ.get("BENCH_COMPANY_ID", "")
_pool: asyncpg.Pool | None = None


@lru_cache(maxsize=1024)
def prepared(query: str) -> DocumentNode | None:
    """The parsed and validated document, once per distinct text (None when it is not valid)."""
    document = parse(query, no_location=True)
    return None if validate(SCHEMA, document) else document


def execute_page(
    document: DocumentNode, variables: dict[str, Any] | None, rows: list[dict[str, Any]]
) -> bytes:
    """graphql-core alone over fetched rows (dicts: its default resolver reads mappings by key, and
    asyncpg's records are not mappings): the part of a GraphQL answer no server can skip."""
    result = execute(SCHEMA, document, root_value={"branches": {"nodes": rows}}, variable_values=variables)
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [error.formatted for error in result.errors]
    return orjson.dumps(body)


def page_size(document: DocumentNode, variables: dict[str, Any] | None) -> int:
    """`first` of the document's `branches` field (a literal or a variable)."""
    field = SCHEMA.query_type.fields["branches"]  # type: ignore[union-attr]
    node = document.definitions[0].selection_set.selections[0]  # type: ignore[attr-defined]
    return int(get_argument_values(field, node, variables)["first"])


async def graphql(request: Request) -> Response:
    payload = orjson.loads(await request.body())
    document = prepared(payload["query"])
    variables = payload.get("variables")
    if document is None:
        return Response(b'{"errors": [{"message": "invalid document"}]}', 400, media_type="application/json")
    limit = page_size(document, variables)
    if not 1 <= limit <= 200:
        return Response(b'{"errors": [{"message": "first: 1..200"}]}', 400, media_type="application/json")
    assert _pool is not None
    async with _pool.acquire() as conn, conn.transaction():
        await conn.execute("select set_config('app.company_id', $1, true)", COMPANY_ID)
        rows = await conn.fetch(QUERY, COMPANY_ID, limit + 1)
    nodes = [dict(row) for row in rows[:limit]]
    return Response(execute_page(document, variables, nodes), media_type="application/json")


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    global _pool
    size = int(os.environ.get("BENCH_POOL_SIZE", "10"))
    _pool = await asyncpg.create_pool(os.environ["BENCH_BARE_DSN"], min_size=1, max_size=size)
    try:
        yield
    finally:
        await _pool.close()


app = Starlette(routes=[Route("/graphql", graphql, methods=["POST"])], lifespan=lifespan)
