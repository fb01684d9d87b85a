"""Mutations answer typed results: the payload, or a refusal type carrying the contract's code, for
every code a call's input can meet. What is not about the input stays a top-level error."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from app.core import clock
from app.graphql.schema import schema
from tests.fixtures import days
from tests.fixtures.factories import Factory, Tenant
from tests.graphql.client import gql
from tests.missions.support import patch, scheduled

CREATE_BRANCH = """mutation($input: CreateBranchInput!) { createBranch(input: $input) {
  __typename ... on Branch { id } ... on MutationError { code message details }
  ... on ValidationError { fields { field issue } } } }"""
UPDATE_BRANCH = """mutation($id: UUID!) { updateBranch(id: $id, input: {name: "x"}) {
  __typename ... on MutationError { code } } }"""
CREATE_ROUTE = """mutation($input: CreateRouteInput!) { createRoute(input: $input) {
  __typename ... on Route { id } ... on MutationError { code details } } }"""
VERIFY = """mutation($id: UUID!, $code: String!) { verifyProofOfDelivery(id: $id, code: $code) {
  __typename ... on Mission { status } ... on ProofRejected { code attemptsRemaining } } }"""


async def _answer(client: httpx.AsyncClient, credential: str, query: str, **variables: Any) -> Any:
    body = (await gql(client, credential, query, variables)).json()
    assert "errors" not in body, body
    [answer] = body["data"].values()
    return answer


def test_the_schema_says_how_each_mutation_can_fail() -> None:
    sdl = str(schema)
    assert (
        "union CreateBranchResult = Branch | ValidationError | NotFound | Conflict | InsufficientCredits"
        in sdl
    )
    assert "union VerifyProofOfDeliveryResult = Mission | ValidationError | NotFound | Conflict | " in sdl
    assert "createBranch(input: CreateBranchInput!): CreateBranchResult!" in sdl
    assert "interface MutationError" in sdl


async def test_validation_error_names_its_fields(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    bad = {"input": {"name": "x", "timezone": "Nowhere/Land"}}
    refused = await _answer(client, tenant.admin_session, CREATE_BRANCH, **bad)
    assert (refused["__typename"], refused["code"]) == ("ValidationError", "validation_error")
    assert refused["fields"] == [{"field": "input.timezone", "issue": refused["fields"][0]["issue"]}]
    assert refused["details"][0]["field"] == "input.timezone" and refused["message"]


async def test_not_found_and_conflict(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant, other = await factory.tenant(), await factory.tenant()
    theirs = await factory.branch(other)
    missing = await _answer(client, tenant.admin_session, UPDATE_BRANCH, id=theirs["id"])
    assert missing == {"__typename": "NotFound", "code": "not_found"}
    taken = await factory.branch(tenant, externalId="taken")
    duplicate = await _answer(
        client, tenant.admin_session, CREATE_BRANCH, input={"name": "y", "externalId": "taken"}
    )
    assert (duplicate["__typename"], duplicate["code"]) == ("Conflict", "conflict")
    assert duplicate["details"] == {"field": "externalId", "existingId": taken["id"]}


async def test_insufficient_credits(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant(credits=1)
    branch = await factory.branch(tenant)
    missions = [(await factory.mission(tenant, branch["id"]))["id"] for _ in range(2)]
    route = {"branchId": branch["id"], "date": days.day(), "missionIds": missions}
    short = await _answer(client, tenant.write_token, CREATE_ROUTE, input=route)
    assert short == {
        "__typename": "InsufficientCredits",
        "code": "insufficient_credits",
        "details": {"required": 2, "remaining": 1},
    }


async def _delivered(client: httpx.AsyncClient, factory: Factory, tenant: Tenant) -> dict[str, Any]:
    mission, _ = await scheduled(factory, tenant)
    for status in ("in_progress", "delivered"):
        assert (await patch(client, tenant, mission["id"], status=status)).status_code == 200
    return mission


async def test_each_proof_refusal(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    mission = await _delivered(client, factory, tenant)
    wrong = "00000" if mission["proof"]["code"] != "00000" else "11111"
    expected = [("invalid_proof_code", left) for left in (4, 3, 2, 1, 0)]
    answers = [
        await _answer(client, tenant.write_token, VERIFY, id=mission["id"], code=wrong) for _ in range(5)
    ]
    assert [(a["code"], a["attemptsRemaining"]) for a in answers] == expected
    assert {a["__typename"] for a in answers} == {"ProofRejected"}
    exhausted = await _answer(
        client, tenant.write_token, VERIFY, id=mission["id"], code=mission["proof"]["code"]
    )
    assert exhausted["code"] == "proof_attempts_exhausted"
    late = await _delivered(client, factory, tenant)
    with clock.frozen(days.moment("23:59", 1, days.ZONE) + dt.timedelta(minutes=1)):
        expired = await _answer(client, tenant.write_token, VERIFY, id=late["id"], code=late["proof"]["code"])
    assert (expired["__typename"], expired["code"]) == ("ProofRejected", "proof_code_expired")


async def test_credential_and_scope_errors_stay_top_level(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.tenant()
    scoped = (await gql(client, tenant.read_token, CREATE_BRANCH, {"input": {"name": "x"}})).json()
    assert scoped["data"] is None and scoped["errors"][0]["extensions"]["code"] == "insufficient_scope"
    anonymous = await client.post(
        "/graphql", json={"query": CREATE_BRANCH, "variables": {"input": {"name": "x"}}}
    )
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "unauthorized"
