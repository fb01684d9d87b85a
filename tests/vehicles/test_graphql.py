from __future__ import annotations

import httpx

from tests.fixtures.factories import Factory
from tests.fixtures.fleet import events
from tests.graphql.client import error_of, gql

CREATE = """mutation($input: CreateVehicleInput!) {
  createVehicle(input: $input) {
    ... on Vehicle { id type status capacityItems branch { id } } ...Refusal } }"""


async def test_create_read_and_events(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    branch = await factory.branch(tenant)
    response = await gql(
        client,
        tenant.admin_session,
        CREATE,
        {"input": {"branchId": branch["id"], "name": "V", "type": "TRUCK", "capacityItems": 5}},
    )
    vehicle = response.json()["data"]["createVehicle"]
    assert (vehicle["type"], vehicle["status"], vehicle["branch"]) == (
        "TRUCK",
        "ACTIVE",
        {"id": branch["id"]},
    )
    rest = (await client.get(f"/api/v1/vehicles/{vehicle['id']}", headers=tenant.headers("read"))).json()[
        "data"
    ]
    assert rest["type"] == "truck"
    bad = await gql(
        client,
        tenant.admin_session,
        CREATE,
        {"input": {"branchId": branch["id"], "name": "V", "type": "VAN", "capacityItems": -1}},
    )
    assert error_of(bad)["details"][0]["field"] == "input.capacityItems"
    listed = await gql(client, tenant.read_token, "{ vehicles(type: TRUCK) { nodes { id } } }")
    assert listed.json()["data"]["vehicles"]["nodes"] == [{"id": vehicle["id"]}]
    assert [e.type for e in await events(tenant.id)] == ["vehicle.created"]


async def test_idempotent_mutation_replay(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    branch = await factory.branch(tenant)
    variables = {"input": {"branchId": branch["id"], "name": "V", "type": "VAN"}}
    first = await gql(client, tenant.write_token, CREATE, variables, **{"Idempotency-Key": "g1"})
    second = await gql(client, tenant.write_token, CREATE, variables, **{"Idempotency-Key": "g1"})
    assert second.content == first.content and second.headers["idempotent-replayed"] == "true"
    assert [e.type for e in await events(tenant.id)] == ["vehicle.created"]
