"""The driver app's flow end to end through GraphQL: invite -> accept -> device -> disable ->
sign-in refused, and a disabled account's open session refused at once."""

from __future__ import annotations

import httpx

from tests.fixtures.factories import Factory
from tests.fixtures.fleet import history
from tests.graphql.client import document, error_of, gql

INVITE = (
    "mutation($id: UUID!) { inviteDriver(id: $id) {"
    " ... on DriverInvite { code sentTo expiresAt } ...Refusal } }"
)
SIGN_IN = """mutation($i: SignInMobileUserInput!) {
  signInMobileUser(input: $i) {
    ... on MobileSession { accessToken mobileUser { id status } } ...Refusal } }"""
REGISTER = (
    "mutation($i: RegisterDeviceInput!) { registerDevice(input: $i) {"
    " ... on Device { id deviceId platform } ...Refusal } }"
)
DISABLE = "mutation($id: UUID!) { disableMobileUser(id: $id) { ... on MobileUser { status } ...Refusal } }"


async def _public(client: httpx.AsyncClient, query: str, variables: dict) -> dict:  # type: ignore[type-arg]
    response = await client.post("/graphql", json={"query": document(query), "variables": variables})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_invite_accept_device_disable_sign_in_refused(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.tenant()
    driver = await factory.driver(tenant, email="app@example.com")
    invite = (await gql(client, tenant.admin_session, INVITE, {"id": driver["id"]})).json()["data"][
        "inviteDriver"
    ]
    session = await factory.accept_invite(invite["code"], password="correct-horse")
    user_id = session["mobileUser"]["id"]
    token = session["accessToken"]

    device = await gql(client, token, REGISTER, {"i": {"deviceId": "inst-9", "platform": "IOS"}})
    assert device.json()["data"]["registerDevice"]["platform"] == "IOS"
    # The driver session reads its own profile, but cannot write like a dispatcher.
    me = await gql(client, token, "{ myDriverProfile { id mobileUser { id devices { deviceId } } } }")
    profile = me.json()["data"]["myDriverProfile"]
    assert profile["id"] == driver["id"]
    assert profile["mobileUser"] == {"id": user_id, "devices": [{"deviceId": "inst-9"}]}
    write = await gql(client, token, DISABLE, {"id": user_id})
    assert error_of(write)["code"] == "insufficient_scope"

    signed = await _public(client, SIGN_IN, {"i": {"email": "APP@example.com", "password": "correct-horse"}})
    assert signed["data"]["signInMobileUser"]["mobileUser"] == {"id": user_id, "status": "ACTIVE"}
    wrong = await _public(client, SIGN_IN, {"i": {"email": "app@example.com", "password": "wrong-horse"}})
    assert wrong["errors"][0]["extensions"]["code"] == "unauthorized"

    disabled = await gql(client, tenant.admin_session, DISABLE, {"id": user_id})
    assert disabled.json()["data"]["disableMobileUser"]["status"] == "DISABLED"
    refused = await _public(client, SIGN_IN, {"i": {"phone": driver["phone"], "password": "correct-horse"}})
    assert refused["errors"][0]["extensions"]["code"] == "unauthorized"
    assert refused["errors"][0]["extensions"]["details"] == {"reason": "disabled"}
    # The session issued before disabling stops working on its very next request.
    stale = await gql(client, token, REGISTER, {"i": {"deviceId": "inst-9", "platform": "IOS"}})
    assert (stale.status_code, stale.json()["error"]["code"]) == (401, "unauthorized")

    sources = [(h.action, h.source, h.actor_type) for h in await history(tenant.id, user_id)]
    assert sources == [("created", "mobile", "driver"), ("disabled", "graphql", "user")]


async def test_public_allowance_is_only_for_the_two_mutations(client: httpx.AsyncClient) -> None:
    mixed = await client.post(
        "/graphql",
        json={
            "query": 'mutation { signInMobileUser(input: {email: "a@b.co", '
            'password: "x"}) { ... on MobileSession { accessToken } ...Refusal } deleteBranch(id: '
            '"00000000-0000-4000-8000-000000000000") { ... on Deleted { id } ...Refusal } }'
        },
    )
    assert mixed.status_code == 401
    query = await client.post("/graphql", json={"query": "{ vehicles { nodes { id } } }"})
    assert query.status_code == 401


async def test_accept_errors(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    driver = await factory.driver(tenant)
    invite = (await gql(client, tenant.admin_session, INVITE, {"id": driver["id"]})).json()["data"][
        "inviteDriver"
    ]
    accept = (
        "mutation($i: AcceptDriverInviteInput!) { acceptDriverInvite(input: $i) {"
        " ... on MobileSession { accessToken } ...Refusal } }"
    )
    short = await _public(client, accept, {"i": {"code": invite["code"], "password": "short"}})
    assert short["data"]["acceptDriverInvite"]["details"][0]["field"] == "input.password"
    unknown = await _public(client, accept, {"i": {"code": "AAAA-BBBB-CCCC", "password": "long-enough"}})
    assert unknown["errors"][0]["extensions"]["code"] == "unauthorized"
    await factory.accept_invite(invite["code"])
    reused = await _public(client, accept, {"i": {"code": invite["code"], "password": "long-enough"}})
    assert reused["errors"][0]["extensions"]["code"] == "unauthorized"
