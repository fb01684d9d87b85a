from __future__ import annotations

import httpx

from tests.fixtures.factories import Factory
from tests.graphql.client import gql

CREATE = """mutation($input: CreateDriverInput!) { createDriver(input: $input) {
      ... on Driver { id status mobileUser { id } } ...Refusal } }"""


async def test_create_invite_and_mobile_user_relation(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    branch = await factory.branch(tenant)
    created = await gql(
        client,
        tenant.admin_session,
        CREATE,
        {
            "input": {
                "branchId": branch["id"],
                "firstName": "Ali",
                "lastName": "Kaya",
                "email": "ali@example.com",
            }
        },
    )
    driver = created.json()["data"]["createDriver"]
    assert (driver["status"], driver["mobileUser"]) == ("ACTIVE", None)
    invite = await gql(
        client,
        tenant.admin_session,
        "mutation($id: UUID!) { inviteDriver(id: $id) { ... on DriverInvite { code sentTo } ...Refusal } }",
        {"id": driver["id"]},
    )
    assert invite.json()["data"]["inviteDriver"]["sentTo"] == "ali@example.com"
    session = await factory.accept_invite(invite.json()["data"]["inviteDriver"]["code"])
    read = await gql(
        client,
        tenant.read_token,
        "query($id: UUID!) { driver(id: $id) { mobileUser { id email } } }",
        {"id": driver["id"]},
    )
    assert read.json()["data"]["driver"]["mobileUser"] == {
        "id": session["mobileUser"]["id"],
        "email": "ali@example.com",
    }
