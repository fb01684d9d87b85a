from __future__ import annotations

import datetime as dt

import httpx

from app.core import clock
from tests.fixtures.factories import Factory
from tests.fixtures.fleet import events, history
from tests.graphql.client import document, error_of


class TestCrud:
    async def test_create_filter_update_delete_events(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant()
        branch = await factory.branch(tenant)
        body = {
            "branchId": branch["id"],
            "firstName": "Ayse",
            "lastName": "Yilmaz",
            "phone": "+905551112233",
            "email": "ayse@example.com",
            "shiftStart": "08:00",
            "shiftEnd": "17:00",
            "externalId": "d-1",
        }
        created = await client.post("/api/v1/drivers", json=body, headers=tenant.headers())
        assert created.status_code == 201, created.text
        driver = created.json()["data"]
        assert (driver["status"], driver["mobileUserId"], driver["shiftStart"]) == ("active", None, "08:00")
        await factory.driver(tenant, status="inactive")
        listed = await client.get(
            "/api/v1/drivers",
            params={"status": "active", "branchId": branch["id"]},
            headers=tenant.headers("read"),
        )
        assert [d["id"] for d in listed.json()["data"]] == [driver["id"]]
        dup = await client.post("/api/v1/drivers", json=body, headers=tenant.headers())
        assert dup.json()["error"]["details"] == {"field": "externalId", "existingId": driver["id"]}
        patched = await client.patch(
            f"/api/v1/drivers/{driver['id']}", json={"shiftEnd": "18:00"}, headers=tenant.headers()
        )
        assert patched.json()["data"]["shiftEnd"] == "18:00"
        bad = await client.patch(
            f"/api/v1/drivers/{driver['id']}",
            json={"email": "nope", "mobileUserId": None},
            headers=tenant.headers(),
        )
        assert {d["field"] for d in bad.json()["error"]["details"]} == {"email", "mobileUserId"}
        assert (
            await client.delete(f"/api/v1/drivers/{driver['id']}", headers=tenant.headers())
        ).status_code == 204
        types = [e.type for e in await events(tenant.id, driver["id"])]
        assert types == ["driver.created", "driver.updated", "driver.deleted"]

    async def test_assigned_driver_delete_is_409(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        assignment = await factory.assignment(tenant)
        response = await client.delete(f"/api/v1/drivers/{assignment['driverId']}", headers=tenant.headers())
        assert response.status_code == 409
        assert response.json()["error"]["details"]["dependants"] == {
            "vehicleDriverAssignments": [assignment["id"]]
        }


class TestInvite:
    async def test_invite_with_no_body_and_replacement(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant()
        driver = await factory.driver(tenant)
        url = f"/api/v1/drivers/{driver['id']}/invite"
        first = await client.post(url, headers=tenant.headers())
        assert first.status_code == 201, first.text
        invite = first.json()["data"]
        assert invite["sentTo"] == driver["phone"] and len(invite["code"]) == 14
        expires = dt.datetime.fromisoformat(invite["expiresAt"].replace("Z", "+00:00"))
        assert dt.timedelta(days=6, hours=23) < expires - clock.utcnow() <= dt.timedelta(days=7)
        second = (await client.post(url, json={}, headers=tenant.headers())).json()["data"]
        assert second["code"] != invite["code"]
        # The first code was replaced: it no longer works.
        stale = await client.post(
            "/graphql",
            json={
                "query": document(
                    "mutation($i: AcceptDriverInviteInput!) { "
                    "acceptDriverInvite(input: $i) { ... on MobileSession { accessToken } ...Refusal } }"
                ),
                "variables": {"i": {"code": invite["code"], "password": "long-enough"}},
            },
        )
        assert error_of(stale)["code"] == "unauthorized"
        await factory.accept_invite(second["code"].lower().replace("-", ""))
        assert "invited" in [h.action for h in await history(tenant.id, driver["id"])]
        # Single-use: the accepted code is gone, and the driver now has an account.
        again = await client.post(url, headers=tenant.headers())
        assert (again.status_code, again.json()["error"]["code"]) == (409, "conflict")

    async def test_inactive_driver_is_409(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        driver = await factory.driver(tenant, status="inactive")
        response = await client.post(f"/api/v1/drivers/{driver['id']}/invite", headers=tenant.headers())
        assert response.status_code == 409

    async def test_body_fields_are_refused_and_replay(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant()
        driver = await factory.driver(tenant)
        url = f"/api/v1/drivers/{driver['id']}/invite"
        assert (await client.post(url, json={"x": 1}, headers=tenant.headers())).status_code == 422
        headers = tenant.headers(**{"Idempotency-Key": "inv"})
        first, second = await client.post(url, headers=headers), await client.post(url, headers=headers)
        assert second.content == first.content and second.headers["idempotent-replayed"] == "true"


class TestDevices:
    async def test_lists_devices_of_the_drivers_mobile_user(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant()
        user = await factory.mobile_user(tenant)
        url = f"/api/v1/drivers/{user['driver']['id']}/devices"
        assert (await client.get(url, headers=tenant.headers("read"))).json()["data"] == []
        register = (
            "mutation($i: RegisterDeviceInput!) { registerDevice(input: $i) {"
            " ... on Device { id platform lastSeenAt } ...Refusal } }"
        )
        variables = {
            "i": {"deviceId": "inst-1", "platform": "ANDROID", "model": "Pixel 9", "appVersion": "1.2.0"}
        }
        for _ in range(2):  # registering again updates the same device
            response = await client.post(
                "/graphql",
                json={"query": document(register), "variables": variables},
                headers={"Authorization": f"Bearer {user['accessToken']}"},
            )
            assert "errors" not in response.json(), response.json()
        listed = (await client.get(url, headers=tenant.headers("read"))).json()
        assert [(d["deviceId"], d["platform"], d["model"]) for d in listed["data"]] == [
            ("inst-1", "android", "Pixel 9")
        ]
        assert listed["pagination"]["hasMore"] is False
        other = await factory.driver(tenant)
        assert (
            await client.get(f"/api/v1/drivers/{other['id']}/devices", headers=tenant.headers("read"))
        ).json()["data"] == []
