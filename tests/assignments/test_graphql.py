from __future__ import annotations

import httpx

from tests.fixtures import days
from tests.fixtures.factories import Factory
from tests.graphql.client import error_of, gql

CREATE = """mutation($input: CreateVehicleDriverAssignmentInput!) {
  createVehicleDriverAssignment(input: $input) {
    ... on VehicleDriverAssignment { id vehicle { id } driver { id firstName } } ...Refusal } }"""


async def test_create_with_relations_and_conflict(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    first = await factory.assignment(tenant)
    driver = await factory.driver(tenant)
    variables = {
        "input": {
            "vehicleId": first["vehicleId"],
            "driverId": driver["id"],
            "startsAt": days.at("07:00"),
        }
    }
    clash = error_of(await gql(client, tenant.admin_session, CREATE, variables))
    assert (clash["code"], clash["details"]["conflictingAssignmentId"]) == ("conflict", first["id"])
    variables["input"]["startsAt"] = days.at("18:00")
    created = (await gql(client, tenant.admin_session, CREATE, variables)).json()["data"][
        "createVehicleDriverAssignment"
    ]
    assert created["vehicle"] == {"id": first["vehicleId"]} and created["driver"]["id"] == driver["id"]
    active = await gql(
        client,
        tenant.read_token,
        f'{{ vehicleDriverAssignments(activeAt: "{days.at("19:00")}") {{ nodes {{ id }} }} }}',
    )
    assert active.json()["data"]["vehicleDriverAssignments"]["nodes"] == [{"id": created["id"]}]
