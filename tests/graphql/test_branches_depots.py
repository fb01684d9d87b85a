from __future__ import annotations

import httpx
from sqlalchemy import event

from app.core import db
from tests.fixtures.factories import Factory
from tests.graphql.client import error_of, gql

CREATE = """mutation($input: CreateBranchInput!) { createBranch(input: $input) {
      ... on Branch { id name timezone createdAt } ...Refusal } }"""


async def test_create_through_graphql_reads_through_rest(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    response = await gql(
        client, tenant.admin_session, CREATE, {"input": {"name": "GQL", "timezone": "Europe/Berlin"}}
    )
    branch = response.json()["data"]["createBranch"]
    assert branch["createdAt"].endswith("Z")
    rest = await client.get(f"/api/v1/branches/{branch['id']}", headers=tenant.headers("read"))
    assert rest.json()["data"]["name"] == "GQL"


async def test_validation_and_domain_errors_carry_codes(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    bad = await gql(
        client, tenant.admin_session, CREATE, {"input": {"name": "x", "timezone": "Nowhere/Land"}}
    )
    # A refusal is the mutation's typed result, with the contract's code and details.
    refused = bad.json()["data"]["createBranch"]
    assert (refused["__typename"], refused["code"]) == ("ValidationError", "validation_error")
    assert refused["details"][0]["field"] == "input.timezone"
    missing = await gql(
        client,
        tenant.admin_session,
        "query($id: UUID!) { branch(id: $id) { id } }",
        {"id": "00000000-0000-4000-8000-000000000000"},
    )
    assert error_of(missing)["code"] == "not_found"


async def test_failed_mutation_leaves_nothing_behind(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    await factory.branch(tenant, externalId="taken")
    response = await gql(
        client, tenant.admin_session, CREATE, {"input": {"name": "dup", "externalId": "taken"}}
    )
    assert error_of(response)["code"] == "conflict"
    listed = await client.get("/api/v1/branches", headers=tenant.headers("read"))
    assert len(listed.json()["data"]) == 1


async def test_read_only_token_cannot_mutate(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    response = await gql(client, tenant.read_token, CREATE, {"input": {"name": "x"}})
    assert error_of(response)["code"] == "insufficient_scope"
    tokens = await gql(client, tenant.write_token, "{ apiTokens { nodes { id } } }")
    assert error_of(tokens)["code"] == "insufficient_scope"


async def test_auth_failure_is_401_envelope(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ me { name } }"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


async def test_graphiql_page_is_public(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200 and "graphiql" in response.text.lower()


async def test_alias_limit(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    aliases = "{ " + " ".join(f"a{i}: me {{ name }}" for i in range(40)) + " }"
    error = (await gql(client, tenant.read_token, aliases)).json()["errors"][0]
    assert error["extensions"]["code"] == "validation_error"


async def test_depth_limit(client: httpx.AsyncClient, factory: Factory) -> None:
    from app.graphql.schema import MAX_DEPTH

    tenant = await factory.tenant()
    # Fragments let a document nest deeper than the schema's own shape.
    query = "{ depots { nodes { ...F } } } fragment F on Depot { branch { id } }"
    assert "errors" not in (await gql(client, tenant.read_token, query)).json()
    body = "id"
    for _ in range(MAX_DEPTH + 1):
        body = f"depots {{ nodes {{ branch {{ {body} }} }} }}"
    response = (await gql(client, tenant.read_token, "{ " + body + " }")).json()
    assert response["errors"][0]["extensions"]["code"] == "validation_error"


async def test_depot_branches_load_in_one_query(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    for _ in range(2):
        branch = await factory.branch(tenant)
        for _ in range(3):
            await factory.depot(tenant, branch["id"])
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    engine = db.engine().sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        response = await gql(client, tenant.read_token, "{ depots { nodes { id branch { id name } } } }")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    items = response.json()["data"]["depots"]["nodes"]
    assert len(items) == 6 and all(item["branch"]["id"] for item in items)
    branch_selects = [s for s in statements if "FROM branch" in s]
    assert len(branch_selects) == 1, statements


async def test_idempotent_mutation_replays(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    variables = {"input": {"name": "Once"}}
    first = await gql(client, tenant.admin_session, CREATE, variables, **{"Idempotency-Key": "g1"})
    second = await gql(client, tenant.admin_session, CREATE, variables, **{"Idempotency-Key": "g1"})
    assert second.content == first.content and second.headers["idempotent-replayed"] == "true"
    listed = await client.get("/api/v1/branches", headers=tenant.headers("read"))
    assert len(listed.json()["data"]) == 1
    reused = await gql(
        client, tenant.admin_session, CREATE, {"input": {"name": "Other"}}, **{"Idempotency-Key": "g1"}
    )
    assert reused.json()["error"]["code"] == "idempotency_key_reused"


async def test_bad_variables_are_validation_errors(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    query = (
        "mutation($i: CreateApiTokenInput!) { createApiToken(input: $i) {"
        " ... on CreatedApiToken { id } ...Refusal } }"
    )
    bad_enum = await gql(client, tenant.admin_session, query, {"i": {"name": "x", "preset": "superadmin"}})
    assert error_of(bad_enum)["code"] == "validation_error"
    bad_uuid = await gql(
        client, tenant.read_token, "query($id: UUID!) { branch(id: $id) { id } }", {"id": "nope"}
    )
    assert error_of(bad_uuid)["code"] == "validation_error"
