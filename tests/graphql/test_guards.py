"""/graphql is guarded like /api/v1: bodies and documents are bounded before anyone is
authenticated, API tokens are rate-limited, and an Idempotency-Key replays an answer only to the
credential whose operation made it."""

from __future__ import annotations

import httpx
import pytest

from app.graphql.schema import MAX_TOKENS
from app.settings import get_settings
from tests.fixtures.factories import Factory
from tests.graphql.client import gql

CREATE_TOKEN = (
    'mutation { createApiToken(input: {name: "ops", preset: FULL_ACCESS}) {'
    " ... on CreatedApiToken { id token } ...Refusal } }"
)


async def test_a_replay_is_only_for_the_credential_that_made_it(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.tenant()
    key = {"Idempotency-Key": "mint-1"}
    made = await gql(client, tenant.admin_session, CREATE_TOKEN, **key)
    assert made.json()["data"]["createApiToken"]["token"].startswith("rpt_test_")
    again = await gql(client, tenant.admin_session, CREATE_TOKEN, **key)
    assert again.headers["idempotent-replayed"] == "true" and again.content == made.content
    # A read_only token (or any other credential) that knows the key gets no stored answer.
    for credential in (tenant.read_token, tenant.write_token):
        other = await gql(client, credential, CREATE_TOKEN, **key)
        assert "idempotent-replayed" not in other.headers
        assert "rpt_test_" not in other.text
        assert other.json()["error"]["code"] == "idempotency_key_reused"


async def test_an_oversized_body_is_413_before_authentication(client: httpx.AsyncClient) -> None:
    query = "{ me { id } }" + " " * (2 * 1024 * 1024)
    response = await client.post("/graphql", json={"query": query})
    assert response.status_code == 413 and response.json()["error"]["code"] == "payload_too_large"


async def test_too_many_tokens_are_refused_before_authentication(client: httpx.AsyncClient) -> None:
    aliases = " ".join(f"a{n}: __typename" for n in range(MAX_TOKENS))
    response = await client.post("/graphql", json={"query": f"{{ {aliases} }}"})
    assert response.status_code == 422
    assert response.json()["error"]["details"] == [
        {"field": "query", "issue": f"has more than {MAX_TOKENS} tokens"}
    ]


async def test_get_with_bad_variables_is_400(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    response = await client.get(
        "/graphql", params={"query": "{ branches { pageInfo { hasNextPage } } }", "variables": "{nope"},
        headers={"Authorization": f"Bearer {tenant.read_token}"},
    )  # fmt: skip
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_json"


async def test_api_tokens_are_rate_limited_on_graphql_too(
    client: httpx.AsyncClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = await factory.tenant()
    monkeypatch.setattr(get_settings(), "rate_limit_burst", 3)
    monkeypatch.setattr(get_settings(), "rate_limit_per_second", 0.01)
    answers = [
        await gql(client, tenant.read_token, "{ branches { pageInfo { hasNextPage } } }") for _ in range(4)
    ]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[0].headers["ratelimit-limit"] == "3"
    assert answers[-1].json()["error"]["code"] == "rate_limited" and answers[-1].headers["retry-after"]
    # The bucket is the token's: REST requests of the same token draw on it too.
    rest = await client.get("/api/v1/branches", headers=tenant.headers("read"))
    assert rest.status_code == 429


async def test_an_error_abandoning_sibling_fields_is_still_a_clean_answer(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    # `apiTokens` is refused (non-null, so the whole `data` goes) while `branch` may be reading:
    # the read is cancelled mid-statement, and the answer must still be the refusal, not a 500.
    tenant = await factory.tenant()
    branch = await factory.branch(tenant)
    query = f'{{ branch(id: "{branch["id"]}") {{ phone name }} apiTokens(first: 1) {{ nodes {{ id }} }} }}'
    for _ in range(5):
        response = await gql(client, tenant.write_token, query)
        assert response.status_code == 200, response.text
        codes = {e["extensions"]["code"] for e in response.json()["errors"]}
        assert codes == {"insufficient_scope"}, response.text
    # The connection went back to the pool whole: the next request is served normally.
    after = await gql(client, tenant.write_token, f'{{ branch(id: "{branch["id"]}") {{ name }} }}')
    assert after.json()["data"]["branch"]["name"] == branch["name"]
