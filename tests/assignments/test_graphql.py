from __future__ import annotations

import httpx

from tests.fixtures.factories import Factory
from tests.graphql.client import gql

CREATE = """mutation($input: CreateVehicleDriverAssignmentInput!) {
  createVehicleDriverAssignment(input: $input) { id vehicle { id } driver { id firstName } } }"""


async def test_create_with_relations_and_conflict(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    first = await factory.assignment(tenant)
    driver = await factory.driver(tenant)
    variables = {
        "input": {
            "vehicleId": first["vehicleId"],
            "driverId": driver["id"],
            "startsAt": "2026-11-26T07:00:00Z",
        }
    }
    clash = (await gql(client, tenant.admin_session, CREATE, variables)).json()["errors"][0]["extensions"]
    assert (clash["code"], clash["details"]["conflictingAssignmentId"]) == ("conflict", first["id"])
    variables["input"]["startsAt"] = "2026-11-26T18:00:00Z"
    created = (await gql(client, tenant.admin_session, CREATE, variables)).json()["data"][
        "createVehicleDriverAssignment"
    ]
    assert created["vehicle"] == {"id": first["vehicleId"]} and created["driver"]["id"] == driver["id"]
    active = await gql(
        client,
        tenant.read_token,
        '{ vehicleDriverAssignments(activeAt: "2026-11-26T19:00:00Z") { items { id } } }',
    )
    assert active.json()["data"]["vehicleDriverAssignments"]["items"] == [{"id": created["id"]}]
