"""The request pipeline's rules hold on both surfaces alike: each test runs a rule once through
`/api/v1` (or the settings surface) and once through `/graphql`."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from app.branches.service import branch_service
from app.settings import get_settings
from tests.fixtures.factories import Factory, Tenant
from tests.graphql.client import error_of, gql

CREATE_BRANCH = (
    "mutation($input: CreateBranchInput!) { createBranch(input: $input) {"
    " ... on Branch { id name } ...Refusal } }"
)
_keys = itertools.count()

Send = Callable[[httpx.AsyncClient, Tenant, dict[str, Any], str], Awaitable[httpx.Response]]


async def _rest(client: httpx.AsyncClient, tenant: Tenant, body: dict[str, Any], key: str) -> httpx.Response:
    return await client.post(
        "/api/v1/branches", json=body, headers=tenant.headers(**{"Idempotency-Key": key})
    )


async def _graphql(
    client: httpx.AsyncClient, tenant: Tenant, body: dict[str, Any], key: str
) -> httpx.Response:
    return await gql(client, tenant.write_token, CREATE_BRANCH, {"input": body}, **{"Idempotency-Key": key})


SURFACES = pytest.mark.parametrize("send", [_rest, _graphql], ids=["rest", "graphql"])


def _created(response: httpx.Response) -> dict[str, Any] | None:
    body = response.json()
    if "errors" in body or "error" in body:
        return None
    data = body["data"].get("createBranch", body["data"])  # GraphQL's field, or REST's envelope
    return None if "code" in data else data


def _error_code(response: httpx.Response) -> str:
    body = response.json()
    return body["error"]["code"] if "error" in body else error_of(response)["code"]


@SURFACES
async def test_a_refused_write_is_kept_for_its_key(
    client: httpx.AsyncClient, factory: Factory, send: Send
) -> None:
    tenant = await factory.tenant()
    key = f"refused-{next(_keys)}"
    refused = await send(client, tenant, {"name": "x", "timezone": "Nowhere/Land"}, key)
    assert _error_code(refused) == "validation_error"
    replayed = await send(client, tenant, {"name": "x", "timezone": "Nowhere/Land"}, key)
    assert replayed.headers["idempotent-replayed"] == "true" and replayed.content == refused.content


@SURFACES
async def test_a_server_error_is_never_kept(
    client: httpx.AsyncClient, factory: Factory, send: Send, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = await factory.tenant()
    key = f"failed-{next(_keys)}"

    async def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the disk is full")

    with monkeypatch.context() as patched:
        patched.setattr(branch_service, "create", fail)
        failed = await send(client, tenant, {"name": "Later"}, key)
    assert _error_code(failed) == "internal_error"
    # The client's retry with the same key runs for real.
    retried = await send(client, tenant, {"name": "Later"}, key)
    assert "idempotent-replayed" not in retried.headers
    created = _created(retried)
    assert created is not None
    listed = await client.get("/api/v1/branches", headers=tenant.headers("read"))
    assert [b["name"] for b in listed.json()["data"]] == ["Later"]


@SURFACES
async def test_a_key_is_replayed_only_after_the_scope_check(
    client: httpx.AsyncClient, factory: Factory, send: Send
) -> None:
    tenant = await factory.tenant()
    key = f"scoped-{next(_keys)}"
    made = await send(client, tenant, {"name": "Mine"}, key)
    assert _created(made) is not None
    reader = Tenant(**{**tenant.__dict__, "write_token": tenant.read_token})
    refused = await send(client, reader, {"name": "Mine"}, key)
    assert "idempotent-replayed" not in refused.headers and made.text not in refused.text
    assert _error_code(refused) in {"insufficient_scope", "idempotency_key_reused"}


async def test_a_web_session_is_rate_limited_on_both_surfaces(
    client: httpx.AsyncClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = await factory.tenant()
    monkeypatch.setattr(get_settings(), "rate_limit_burst", 3)
    monkeypatch.setattr(get_settings(), "rate_limit_per_second", 0.01)
    settings = await client.get("/companies/me/api-tokens", headers=tenant.headers("admin"))
    assert settings.status_code == 200 and settings.headers["ratelimit-limit"] == "3"
    assert (
        await gql(client, tenant.admin_session, "{ branches { pageInfo { hasNextPage } } }")
    ).status_code == 200
    assert (
        await gql(client, tenant.admin_session, "{ branches { pageInfo { hasNextPage } } }")
    ).status_code == 200
    # The budget is the signed-in user's, whichever surface spends it.
    limited = await client.get("/companies/me/api-tokens", headers=tenant.headers("admin"))
    assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limited"
    limited = await gql(client, tenant.admin_session, "{ branches { pageInfo { hasNextPage } } }")
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    # Another credential of the company keeps its own budget.
    assert (await client.get("/api/v1/branches", headers=tenant.headers("read"))).status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/branches", "/graphql"])
async def test_no_credential_is_401_on_both_surfaces(client: httpx.AsyncClient, path: str) -> None:
    response = await client.post(path, json={"query": CREATE_BRANCH, "name": "x"})
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"
