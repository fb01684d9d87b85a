from __future__ import annotations

import httpx

from tests.fixtures.factories import Factory
from tests.fixtures.fleet import events, history

URL = "/api/v1/mobile-users"


class TestMobileUsers:
    async def test_list_get_patch(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        user = await factory.mobile_user(tenant, email="Driver.One@Example.com")
        await factory.mobile_user(tenant)
        listed = await client.get(URL, params={"driverId": user["driverId"]}, headers=tenant.headers("read"))
        assert [u["id"] for u in listed.json()["data"]] == [user["id"]]
        got = (await client.get(f"{URL}/{user['id']}", headers=tenant.headers("read"))).json()["data"]
        assert (got["email"], got["status"]) == ("driver.one@example.com", "active")
        patched = await client.patch(
            f"{URL}/{user['id']}", json={"phone": "+90 555 000 11 22"}, headers=tenant.headers()
        )
        assert patched.json()["data"]["phone"] == "+905550001122"
        both_null = await client.patch(
            f"{URL}/{user['id']}", json={"phone": None, "email": None}, headers=tenant.headers()
        )
        assert both_null.status_code == 422
        assert (
            await client.patch(f"{URL}/{user['id']}", json={"status": "disabled"}, headers=tenant.headers())
        ).status_code == 422

    async def test_phone_clash_across_companies_is_409(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        a, b = await factory.tenant(), await factory.tenant()
        theirs = await factory.mobile_user(b)
        mine = await factory.mobile_user(a)
        response = await client.patch(
            f"{URL}/{mine['id']}", json={"phone": theirs["phone"]}, headers=a.headers()
        )
        assert (response.status_code, response.json()["error"]["details"]) == (409, {"field": "phone"})

    async def test_disable_enable_idempotent(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        user = await factory.mobile_user(tenant)
        for _ in range(2):
            response = await client.put(f"{URL}/{user['id']}/disable", headers=tenant.headers())
            assert (response.status_code, response.json()["data"]["status"]) == (200, "disabled")
        listed = await client.get(URL, params={"status": "disabled"}, headers=tenant.headers("read"))
        assert [u["id"] for u in listed.json()["data"]] == [user["id"]]
        headers = tenant.headers(**{"Idempotency-Key": "en"})
        first = await client.put(f"{URL}/{user['id']}/enable", json={}, headers=headers)
        second = await client.put(f"{URL}/{user['id']}/enable", json={}, headers=headers)
        assert first.json()["data"]["status"] == "active" and second.headers["idempotent-replayed"] == "true"
        assert [h.action for h in await history(tenant.id, user["id"])] == ["created", "disabled", "enabled"]

    async def test_delete_unlinks_driver(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        user = await factory.mobile_user(tenant)
        driver_id = user["driver"]["id"]
        assert (await client.delete(f"{URL}/{user['id']}", headers=tenant.headers())).status_code == 204
        driver = (await client.get(f"/api/v1/drivers/{driver_id}", headers=tenant.headers())).json()["data"]
        assert driver["mobileUserId"] is None
        types = [e.type for e in await events(tenant.id, driver_id)]
        assert types == ["driver.created", "driver.updated", "driver.updated"]  # linked, then unlinked
        # ... and the driver can be invited again.
        assert (
            await client.post(f"/api/v1/drivers/{driver_id}/invite", headers=tenant.headers())
        ).status_code == 201
