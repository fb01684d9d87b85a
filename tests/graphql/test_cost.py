"""Every GraphQL answer reports its operation's cost and the caller's budget (Shopify's shape); an
operation over the per-request limit is refused before anything of it runs, and a caller whose
budget is spent is throttled."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.settings import get_settings
from tests.fixtures.factories import Factory
from tests.graphql.client import gql

# Per depot: the fragment's branch (1) and the inline fragment's branch (1), under `items` (1).
DEPOTS = """
query Depots($n: Int!) { depots(first: $n) { nodes { ...Place
  ... on Depot { branch { id } } } pageInfo { hasNextPage } } }
fragment Place on Depot { id name branch { name } }
"""
TWO_BRANCHES = """mutation {
  a: createBranch(input: {name: "one"}) { ... on Branch { id } ...Refusal }
  b: createBranch(input: {name: "two"}) { ... on Branch { id } ...Refusal }
}"""


def cost_of(response: httpx.Response) -> dict[str, Any]:
    cost: dict[str, Any] = response.json()["extensions"]["cost"]
    return cost


async def test_every_answer_reports_its_cost_and_the_budget(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.tenant()
    settings = get_settings()
    listed = await gql(client, tenant.read_token, "{ branches(first: 10) { nodes { id name } } }")
    assert cost_of(listed) == {
        "requestedQueryCost": 11,
        "maximumAvailable": settings.graphql_max_cost,
        "throttleStatus": {
            "maximumAvailable": settings.graphql_cost_budget,
            # A fresh token's budget, less this operation's cost.
            "currentlyAvailable": settings.graphql_cost_budget - 11,
            "restoreRate": settings.graphql_cost_restore_per_second,
        },
    }
    # Errors too: a record not found, and a document that does not validate (nothing of it ran).
    missing = await gql(
        client,
        tenant.read_token,
        'query { depot(id: "00000000-0000-4000-8000-000000000000") { branch { id } } }',
    )
    assert missing.json()["errors"][0]["extensions"]["code"] == "not_found"
    assert cost_of(missing)["requestedQueryCost"] == 2
    invalid = await gql(client, tenant.read_token, "{ nope }")
    assert invalid.json()["errors"][0]["extensions"]["code"] == "validation_error"
    assert cost_of(invalid)["requestedQueryCost"] == 0
    assert cost_of(invalid)["throttleStatus"]["maximumAvailable"] == settings.graphql_cost_budget


async def test_cost_counts_fragments_and_variables(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    seven = await gql(client, tenant.read_token, DEPOTS, {"n": 7})
    assert "errors" not in seven.json()
    assert cost_of(seven)["requestedQueryCost"] == 1 + 7 * 3 + 1  # pageInfo: once per page
    defaulted = DEPOTS.replace("$n: Int!", "$n: Int! = 4")
    assert cost_of(await gql(client, tenant.read_token, defaulted))["requestedQueryCost"] == 1 + 4 * 3 + 1
    # No `first`: the field's own default page (50).
    unpaged = "{ depots { nodes { branch { id } } } }"
    assert cost_of(await gql(client, tenant.read_token, unpaged))["requestedQueryCost"] == 1 + 50 * 2
    # A paged field returning its list directly counts each object, as a connection's items do.
    ledger = await gql(client, tenant.admin_session, "{ creditLedger(first: 10) { id } }")
    assert "errors" not in ledger.json() and cost_of(ledger)["requestedQueryCost"] == 1 + 10 * 1


async def test_an_operation_over_the_limit_is_refused_before_it_runs(
    client: httpx.AsyncClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = await factory.tenant()
    monkeypatch.setattr(get_settings(), "graphql_max_cost", 1)
    refused = await gql(client, tenant.admin_session, TWO_BRANCHES)
    assert refused.status_code == 200 and refused.json()["data"] is None
    error = refused.json()["errors"][0]
    assert error["extensions"]["code"] == "validation_error"
    assert error["extensions"]["details"] == [
        {"field": "query", "issue": "costs 2 points, more than the limit of 1 per request"}
    ]
    assert "limit of 1" in error["message"]
    cost = cost_of(refused)
    assert cost["requestedQueryCost"] == 2 and cost["maximumAvailable"] == 1
    # Nothing was drawn from the budget, and neither branch was created.
    assert cost["throttleStatus"]["currentlyAvailable"] == get_settings().graphql_cost_budget
    listed = await client.get("/api/v1/branches", headers=tenant.headers("read"))
    assert listed.json()["data"] == []

    monkeypatch.setattr(get_settings(), "graphql_max_cost", 2)
    made = await gql(client, tenant.admin_session, TWO_BRANCHES)
    assert set(made.json()["data"]) == {"a", "b"}


async def test_a_spent_budget_is_throttled(
    client: httpx.AsyncClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = await factory.tenant()
    monkeypatch.setattr(get_settings(), "graphql_cost_budget", 30)
    monkeypatch.setattr(get_settings(), "graphql_cost_restore_per_second", 0.01)
    query = "{ branches(first: 20) { nodes { id } } }"
    first = await gql(client, tenant.read_token, query)
    assert cost_of(first)["throttleStatus"]["currentlyAvailable"] == 9
    throttled = await gql(client, tenant.read_token, query)
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) >= 1
    error = throttled.json()["error"]
    assert error["code"] == "rate_limited"
    assert error["details"]["requestedQueryCost"] == 21 and error["details"]["currentlyAvailable"] == 9
    # The budget is the token's alone: another credential of the company is not throttled.
    assert (await gql(client, tenant.write_token, query)).status_code == 200
