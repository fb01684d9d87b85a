"""Guessing credentials is slowed: per account and per client address, on both surfaces, and one
GraphQL request checks at most one credential."""

from __future__ import annotations

import uuid

import httpx
import pytest

from app.core import clock
from app.settings import get_settings
from tests.fixtures.factories import Factory
from tests.graphql.client import document

SIGN_IN = """mutation($i: SignInMobileUserInput!) { signInMobileUser(input: $i) {
  ... on MobileSession { accessToken } ...Refusal } }"""


async def test_an_account_is_guessed_at_a_few_times_then_429(
    client: httpx.AsyncClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = await factory.tenant()
    monkeypatch.setattr(get_settings(), "credential_attempts_per_account", 3)
    wrong = {"email": tenant.admin_email, "password": "not-the-password"}
    # The clock stands still: however slow the machine, the bucket does not refill meanwhile.
    with clock.frozen(clock.utcnow()):
        answers = [(await client.post("/auth/login", json=wrong)).status_code for _ in range(4)]
        # The right password waits too: the bucket is the account's, whoever is guessing.
        right = await client.post(
            "/auth/login", json={"email": tenant.admin_email, "password": tenant.admin_password}
        )
    assert answers == [401, 401, 401, 429]
    assert right.status_code == 429 and int(right.headers["retry-after"]) >= 1
    # Another account is not held up.
    other = await factory.tenant()
    fine = await client.post(
        "/auth/login", json={"email": other.admin_email, "password": other.admin_password}
    )
    assert fine.status_code == 200


async def test_an_address_trying_many_accounts_is_slowed(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "credential_attempts_per_address", 5)
    # A fresh address for this test: buckets are shared by the whole suite's in-process client.
    transport = httpx.ASGITransport(app=client._transport.app, client=(f"10.9.{uuid.uuid4().int % 250}.7", 1))  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as stranger:
        codes = []
        with clock.frozen(clock.utcnow()):
            for n in range(6):
                login = {"email": f"nobody{n}@example.com", "password": "x" * 10}
                body = {"query": document(SIGN_IN), "variables": {"i": login}}
                answer = (await stranger.post("/graphql", json=body)).json()
                codes.append(answer["errors"][0]["extensions"]["code"])
    assert codes == ["unauthorized"] * 5 + ["rate_limited"]


async def test_one_credential_check_per_graphql_request(client: httpx.AsyncClient) -> None:
    guess = (
        'signInMobileUser(input: {{email: "x{n}@example.com", password: "guess-{n}"}}) {{'
        " ... on MobileSession {{ accessToken }} ...Refusal }}"
    )
    aliases = " ".join(f"a{n}: " + guess.format(n=n) for n in range(30))
    response = await client.post("/graphql", json={"query": f"mutation {{ {aliases} }}"})
    assert response.status_code == 422
    assert response.json()["error"]["details"] == [
        {"field": "query", "issue": "may check one credential per request"}
    ]
