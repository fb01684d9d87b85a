from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import func, select

from app.branches.models import Branch
from app.core.db import unit_of_work
from app.core.principal import Principal
from tests.fixtures.factories import Factory


async def _count_branches(company_id: object) -> int:
    async with unit_of_work(Principal.system(company_id)) as uow:  # type: ignore[arg-type]
        return int(
            await uow.scalar(select(func.count()).select_from(Branch).where(Branch.company_id == company_id))
        )


class TestReplay:
    async def test_replay_returns_identical_body_and_runs_once(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant()
        headers = tenant.headers(**{"Idempotency-Key": "create-1"})
        first = await client.post(
            "/api/v1/branches", json={"name": "A", "latitude": 1.0, "longitude": 2.0}, headers=headers
        )
        # Same JSON with keys in another order is the same request.
        second = await client.post(
            "/api/v1/branches",
            content=b'{"longitude": 2.0, "latitude": 1.0, "name": "A"}',
            headers={**headers, "Content-Type": "application/json"},
        )
        assert first.status_code == second.status_code == 201
        assert second.content == first.content
        assert second.headers["idempotent-replayed"] == "true"
        assert "idempotent-replayed" not in first.headers
        assert second.headers["x-request-id"] != first.headers["x-request-id"]
        assert await _count_branches(tenant.id) == 1

    async def test_different_request_same_key_is_409(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant()
        headers = tenant.headers(**{"Idempotency-Key": "k"})
        await client.post("/api/v1/branches", json={"name": "A"}, headers=headers)
        other = await client.post("/api/v1/branches", json={"name": "B"}, headers=headers)
        assert (other.status_code, other.json()["error"]["code"]) == (409, "idempotency_key_reused")

    async def test_keys_are_per_company(self, client: httpx.AsyncClient, factory: Factory) -> None:
        a, b = await factory.tenant(), await factory.tenant()
        for tenant in (a, b):
            response = await client.post(
                "/api/v1/branches",
                json={"name": "A"},
                headers=tenant.headers(**{"Idempotency-Key": "shared"}),
            )
            assert response.status_code == 201 and "idempotent-replayed" not in response.headers

    async def test_4xx_results_are_stored_and_replayed(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant()
        headers = tenant.headers(**{"Idempotency-Key": "bad"})
        first = await client.post("/api/v1/branches", json={"latitude": 100}, headers=headers)
        second = await client.post("/api/v1/branches", json={"latitude": 100}, headers=headers)
        assert first.status_code == second.status_code == 422
        assert second.content == first.content  # including the original requestId
        assert second.headers["idempotent-replayed"] == "true"

    async def test_replay_comes_before_the_404_check(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant()
        branch = await factory.branch(tenant)
        headers = tenant.headers(**{"Idempotency-Key": "del"})
        first = await client.delete(f"/api/v1/branches/{branch['id']}", headers=headers)
        second = await client.delete(f"/api/v1/branches/{branch['id']}", headers=headers)
        assert first.status_code == second.status_code == 204
        assert second.headers["idempotent-replayed"] == "true"

    async def test_invalid_key_is_rejected(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        response = await client.post(
            "/api/v1/branches", json={"name": "A"}, headers=tenant.headers(**{"Idempotency-Key": "x" * 256})
        )
        assert response.status_code == 422
        assert response.json()["error"]["details"][0]["field"] == "Idempotency-Key"


class TestConcurrency:
    async def test_twenty_concurrent_requests_create_one_record(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant()
        headers = tenant.headers(**{"Idempotency-Key": "race"})
        responses = await asyncio.gather(
            *[client.post("/api/v1/branches", json={"name": "Race"}, headers=headers) for _ in range(20)]
        )
        statuses = [r.status_code for r in responses]
        assert all(s in (201, 409) for s in statuses), statuses
        created = [r for r in responses if r.status_code == 201]
        assert len({r.json()["data"]["id"] for r in created}) == 1
        for conflict in (r for r in responses if r.status_code == 409):
            assert conflict.json()["error"]["code"] == "idempotency_key_in_use"
        assert await _count_branches(tenant.id) == 1

    async def test_in_use_while_first_is_running(self, client: httpx.AsyncClient, factory: Factory) -> None:
        """Hold the key's lock from another transaction, as a still-running first request would."""
        tenant = await factory.tenant()
        from app.core import idempotency

        async with unit_of_work(Principal.system(tenant.id)) as uow:
            assert await idempotency.claim(uow, "slow", "fp") is None
            response = await client.post(
                "/api/v1/branches", json={"name": "A"}, headers=tenant.headers(**{"Idempotency-Key": "slow"})
            )
            assert (response.status_code, response.json()["error"]["code"]) == (409, "idempotency_key_in_use")
        assert await _count_branches(tenant.id) == 0
