"""Automatic persisted queries, Apollo's protocol, over POST and GET: a hash the store lacks answers
`PersistedQueryNotFound`; the document sent with its hash registers it (authenticated callers only);
the store is bounded in Redis and a Redis outage only makes lookups miss."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.core.ratelimit import RateLimiter
from app.graphql.persisted import DOCUMENT_KEY, INDEX_KEY
from app.settings import get_settings
from tests.fixtures.factories import Factory


def document() -> str:
    """A document no other test registers (the store is shared by the session)."""
    return f"{{ a{uuid.uuid4().hex}: branches(first: 5) {{ pageInfo {{ hasNextPage }} }} }}"


def sha256(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


def persisted(query: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256(query)}}


async def post(client: httpx.AsyncClient, credential: str | None, body: dict[str, Any]) -> httpx.Response:
    headers = {"Authorization": f"Bearer {credential}"} if credential else {}
    return await client.post("/graphql", json=body, headers=headers)


def is_not_found(response: httpx.Response) -> bool:
    errors = response.json()["errors"]
    return (
        response.status_code == 200
        and errors[0]["message"] == "PersistedQueryNotFound"
        and errors[0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
        and errors[0]["extensions"]["requestId"] == response.headers["x-request-id"]
    )


async def test_a_miss_then_registering_then_a_hit(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    query = document()
    missed = await post(client, tenant.read_token, {"extensions": persisted(query)})
    assert is_not_found(missed)
    assert missed.headers["cache-control"] == "private, no-cache, must-revalidate"
    registered = await post(client, tenant.read_token, {"query": query, "extensions": persisted(query)})
    assert list(registered.json()["data"].values()) == [{"pageInfo": {"hasNextPage": False}}]
    hit = await post(client, tenant.read_token, {"extensions": persisted(query)})
    assert hit.status_code == 200 and hit.json()["data"] == registered.json()["data"]
    # Documents are stored by hash, not by company: another company's caller finds it too.
    other = await factory.tenant()
    assert (await post(client, other.read_token, {"extensions": persisted(query)})).json()["data"]


async def test_a_hash_that_is_not_the_documents_is_refused(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.tenant()
    query, other = document(), document()
    wrong = await post(client, tenant.read_token, {"query": query, "extensions": persisted(other)})
    assert wrong.status_code == 422
    error = wrong.json()["error"]
    assert error["code"] == "validation_error" and error["message"] == "provided sha does not match query"
    assert error["details"] == [
        {"field": "extensions.persistedQuery.sha256Hash", "issue": "is not the SHA-256 of query"}
    ]
    # Neither document was registered under the other's hash.
    assert is_not_found(await post(client, tenant.read_token, {"extensions": persisted(other)}))
    version = await post(
        client,
        tenant.read_token,
        {"extensions": {"persistedQuery": {"version": 2, "sha256Hash": sha256(query)}}},
    )
    assert (
        version.status_code == 422
        and version.json()["error"]["message"] == "Unsupported persisted query version"
    )


async def test_get_requests_carry_only_the_hash(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    auth = {"Authorization": f"Bearer {tenant.read_token}"}
    query = document()
    params = {"extensions": json.dumps(persisted(query))}
    assert is_not_found(await client.get("/graphql", params=params, headers=auth))
    registered = await client.get("/graphql", params={**params, "query": query}, headers=auth)
    assert registered.status_code == 200 and registered.json()["data"]
    hit = await client.get("/graphql", params=params, headers=auth)
    assert hit.status_code == 200 and hit.json()["data"] == registered.json()["data"]

    # Mutations stay POST-only, and are not registered by a GET.
    mutation = (
        f'mutation {{ m{uuid.uuid4().hex}: createBranch(input: {{name: "x"}}) {{'
        f" ... on Branch {{ id }} ...Refusal }} }}"
    )
    write = {"Authorization": f"Bearer {tenant.write_token}"}
    sent = await client.get(
        "/graphql", params={"query": mutation, "extensions": json.dumps(persisted(mutation))}, headers=write
    )
    assert sent.json()["error"]["details"] == [
        {"field": "query", "issue": "mutations must be sent with POST"}
    ]
    assert is_not_found(await post(client, tenant.write_token, {"extensions": persisted(mutation)}))


async def test_registering_needs_an_authenticated_caller(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    query = document()
    anonymous = await post(client, None, {"query": query, "extensions": persisted(query)})
    assert anonymous.status_code == 401
    assert (await post(client, None, {"extensions": persisted(query)})).status_code == 401
    assert is_not_found(await post(client, tenant.read_token, {"extensions": persisted(query)}))
    # A document that does not validate is not kept either.
    invalid = f"{{ a{uuid.uuid4().hex}: nope }}"
    refused = await post(client, tenant.read_token, {"query": invalid, "extensions": persisted(invalid)})
    assert refused.json()["errors"][0]["extensions"]["code"] == "validation_error"
    assert is_not_found(await post(client, tenant.read_token, {"extensions": persisted(invalid)}))


async def test_the_store_is_bounded_in_redis(
    app: Any, client: httpx.AsyncClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = await factory.tenant()
    redis = app.state.rate_limiter.redis
    queries = [document() for _ in range(3)]
    for query in queries:
        await post(client, tenant.read_token, {"query": query, "extensions": persisted(query)})
    ttl = await redis.ttl(DOCUMENT_KEY + sha256(queries[0]))
    assert (
        get_settings().graphql_persisted_ttl_seconds - 5
        <= ttl
        <= get_settings().graphql_persisted_ttl_seconds
    )

    # A hit renews its document's lease, so the least recently *used* goes first.
    await post(client, tenant.read_token, {"extensions": persisted(queries[0])})
    monkeypatch.setattr(get_settings(), "graphql_persisted_max_documents", 3)
    newest = document()
    await post(client, tenant.read_token, {"query": newest, "extensions": persisted(newest)})
    assert await redis.zcard(INDEX_KEY) == 3
    assert not await redis.exists(DOCUMENT_KEY + sha256(queries[1]))
    assert is_not_found(await post(client, tenant.read_token, {"extensions": persisted(queries[1])}))
    for kept in (queries[0], queries[2], newest):
        assert (await post(client, tenant.read_token, {"extensions": persisted(kept)})).json()["data"]

    # Documents too big to be worth keeping run, and are not kept.
    big = "{ branches { pageInfo { hasNextPage } } }" + "#" * (40 * 1024) + "\n"
    ran = await post(client, tenant.read_token, {"query": big, "extensions": persisted(big)})
    assert ran.json()["data"] == {"branches": {"pageInfo": {"hasNextPage": False}}}
    assert not await redis.exists(DOCUMENT_KEY + sha256(big))


@pytest.fixture
async def redis_down(app: Any) -> AsyncIterator[None]:
    working = app.state.rate_limiter
    app.state.rate_limiter = RateLimiter("redis://127.0.0.1:1/0")  # nothing listens on port 1
    yield
    await app.state.rate_limiter.close()
    app.state.rate_limiter = working


async def test_without_redis_lookups_miss_and_documents_still_run(
    client: httpx.AsyncClient, factory: Factory, redis_down: None
) -> None:
    tenant = await factory.tenant()
    query = document()
    assert is_not_found(await post(client, tenant.read_token, {"extensions": persisted(query)}))
    ran = await post(client, tenant.read_token, {"query": query, "extensions": persisted(query)})
    assert ran.status_code == 200 and list(ran.json()["data"].values()) == [
        {"pageInfo": {"hasNextPage": False}}
    ]
