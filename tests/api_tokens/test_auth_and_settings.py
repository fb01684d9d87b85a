from __future__ import annotations

import datetime as dt

import httpx
from sqlalchemy import select, update

from app.api_tokens.models import ApiToken
from app.core import clock
from app.core.db import unit_of_work
from app.core.principal import Principal
from app.core.security import hash_api_token
from tests.fixtures import days
from tests.fixtures.factories import Factory


class TestLogin:
    async def test_login_gives_a_session_for_settings(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant()
        response = await client.post(
            "/auth/login", json={"email": tenant.admin_email.upper(), "password": tenant.admin_password}
        )
        assert response.status_code == 200
        data = response.json()["data"]
        assert data["user"] == {
            "id": str(tenant.admin_id),
            "email": tenant.admin_email,
            "name": "",
            "role": "admin",
        }
        assert data["expiresAt"].endswith("Z")
        listed = await client.get(
            "/companies/me/api-tokens", headers={"Authorization": f"Bearer {data['accessToken']}"}
        )
        assert listed.status_code == 200

    async def test_wrong_password_and_unknown_email_look_alike(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant()
        wrong = await client.post("/auth/login", json={"email": tenant.admin_email, "password": "nope-nope"})
        unknown = await client.post(
            "/auth/login", json={"email": "ghost@example.com", "password": "nope-nope"}
        )
        assert wrong.status_code == unknown.status_code == 401
        assert wrong.json()["error"]["message"] == unknown.json()["error"]["message"]

    async def test_tampered_session_is_401(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        response = await client.get(
            "/companies/me/api-tokens", headers={"Authorization": f"Bearer {tenant.admin_session}x"}
        )
        assert response.status_code == 401

    async def test_sessions_do_not_open_the_integration_api(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant()
        response = await client.get("/api/v1/branches", headers=tenant.headers("admin"))
        assert response.status_code == 403


class TestTokens:
    async def test_create_reveals_once_then_lists_prefix_only(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant()
        created = await client.post(
            "/companies/me/api-tokens",
            json={"name": "ERP", "preset": "read_only"},
            headers=tenant.headers("admin"),
        )
        assert created.status_code == 201
        data = created.json()["data"]
        assert set(data) >= {
            "id",
            "name",
            "preset",
            "prefix",
            "token",
            "createdAt",
            "expiresAt",
            "lastUsedAt",
        }
        assert data["token"].startswith("rpt_test_") and len(data["token"]) >= 9 + 32
        assert data["prefix"] == data["token"][:12]
        listed = (await client.get("/companies/me/api-tokens", headers=tenant.headers("admin"))).json()
        assert data["token"] not in str(listed)
        assert data["id"] in [t["id"] for t in listed["data"]]
        async with unit_of_work(Principal.system(tenant.id)) as uow:
            row = await uow.scalar(select(ApiToken).where(ApiToken.id == data["id"]))
        assert row is not None and row.token_hash == hash_api_token(data["token"])
        assert data["token"].encode() not in row.token_hash

    async def test_me_and_last_used(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        me = await client.get("/api/v1/me", headers=tenant.headers("read"))
        data = me.json()["data"]
        assert data["token"]["preset"] == "read_only" and data["token"]["environment"] == "test"
        assert data["token"]["prefix"] == tenant.read_token[:12]
        assert data["company"] == {"id": str(tenant.id), "name": tenant.name, "creditsRemaining": 200}
        listed = (await client.get("/companies/me/api-tokens", headers=tenant.headers("admin"))).json()[
            "data"
        ]
        reader = next(t for t in listed if t["name"] == "reader")
        assert reader["lastUsedAt"] is not None

    async def test_revocation_applies_on_the_next_request(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant()
        assert (await client.get("/api/v1/me", headers=tenant.headers())).status_code == 200
        deleted = await client.delete(
            f"/companies/me/api-tokens/{tenant.write_token_id}", headers=tenant.headers("admin")
        )
        assert deleted.status_code == 204
        assert (await client.get("/api/v1/me", headers=tenant.headers())).status_code == 401
        listed = (await client.get("/companies/me/api-tokens", headers=tenant.headers("admin"))).json()[
            "data"
        ]
        assert str(tenant.write_token_id) not in [t["id"] for t in listed]

    async def test_expired_token_is_401(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        async with unit_of_work(Principal.system(tenant.id)) as uow:
            await uow.execute(
                update(ApiToken)
                .where(ApiToken.id == tenant.write_token_id)
                .values(expires_at=clock.utcnow() - dt.timedelta(seconds=1))
            )
        assert (await client.get("/api/v1/me", headers=tenant.headers())).status_code == 401

    async def test_create_validation(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        for body in (
            {"name": "x", "preset": "superadmin"},
            {"preset": "read_only"},
            {"name": "x", "preset": "read_only", "expiresAt": days.at("00:00", -1)},
        ):
            response = await client.post(
                "/companies/me/api-tokens", json=body, headers=tenant.headers("admin")
            )
            assert response.status_code == 422, body
