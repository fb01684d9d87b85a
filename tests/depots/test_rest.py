from __future__ import annotations

import httpx

from tests.fixtures.factories import Factory


class TestDepots:
    async def test_create_get_update_delete(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        depot = await factory.depot(tenant, externalId="wh-1")
        assert (depot["openingTime"], depot["closingTime"]) == ("07:00", "19:00")
        patched = await client.patch(
            f"/api/v1/depots/{depot['id']}", json={"closingTime": "21:30"}, headers=tenant.headers()
        )
        assert patched.json()["data"]["closingTime"] == "21:30"
        assert (
            await client.delete(f"/api/v1/depots/{depot['id']}", headers=tenant.headers())
        ).status_code == 204

    async def test_branch_must_be_in_the_company(self, client: httpx.AsyncClient, factory: Factory) -> None:
        mine, theirs = await factory.tenant(), await factory.tenant()
        foreign = await factory.branch(theirs)
        for branch_id in (foreign["id"], "00000000-0000-4000-8000-000000000000", "nope"):
            body = {"branchId": branch_id, "name": "D", "latitude": 1.0, "longitude": 1.0}
            response = await client.post("/api/v1/depots", json=body, headers=mine.headers())
            assert response.status_code == 422
            assert response.json()["error"]["details"][0]["field"] == "branchId"

    async def test_validation(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        branch = await factory.branch(tenant)
        cases = [
            ({"openingTime": "7:00"}, "openingTime"),
            ({"openingTime": "25:00"}, "openingTime"),
            ({"latitude": -91}, "latitude"),
            ({"openingTime": "18:00", "closingTime": "08:00"}, "closingTime"),
        ]
        for extra, field in cases:
            body = {"branchId": branch["id"], "name": "D", "latitude": 1.0, "longitude": 1.0, **extra}
            response = await client.post("/api/v1/depots", json=body, headers=tenant.headers())
            assert response.status_code == 422, extra
            assert response.json()["error"]["details"][0]["field"] == field, response.json()

    async def test_filter_by_branch(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        one, two = await factory.branch(tenant), await factory.branch(tenant)
        await factory.depot(tenant, one["id"])
        d2 = await factory.depot(tenant, two["id"])
        listed = await client.get(
            "/api/v1/depots", params={"branchId": two["id"]}, headers=tenant.headers("read")
        )
        assert [d["id"] for d in listed.json()["data"]] == [d2["id"]]
        bad = await client.get("/api/v1/depots", params={"branchId": "x"}, headers=tenant.headers("read"))
        assert bad.status_code == 422
