from __future__ import annotations

import httpx

from tests.fixtures.factories import Factory

BASE = "/companies/me/webhook-endpoints"


async def test_create_list_update_delete(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    admin = tenant.headers("admin")
    created = await client.post(
        BASE, json={"url": "https://erp.example.com/hook", "eventTypes": ["route.completed"]}, headers=admin
    )
    assert created.status_code == 201
    data = created.json()["data"]
    assert data["secret"].startswith("whsec_") and data["status"] == "enabled"
    listed = (await client.get(BASE, headers=admin)).json()
    assert [e["id"] for e in listed["data"]] == [data["id"]]
    assert "secret" not in listed["data"][0] and data["secret"] not in str(listed)
    patched = await client.patch(
        f"{BASE}/{data['id']}", json={"status": "disabled", "eventTypes": []}, headers=admin
    )
    assert patched.json()["data"]["status"] == "disabled" and patched.json()["data"]["eventTypes"] == []
    assert "secret" not in patched.json()["data"]
    assert (await client.delete(f"{BASE}/{data['id']}", headers=admin)).status_code == 204
    assert (await client.get(f"{BASE}/{data['id']}/deliveries", headers=admin)).status_code == 404


async def test_validation(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    admin = tenant.headers("admin")
    for body, field in [
        ({"url": "ftp://example.com"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": "https://example.com", "eventTypes": ["mission.exploded"]}, "eventTypes"),
        ({"url": "https://example.com", "colour": "red"}, "colour"),
    ]:
        response = await client.post(BASE, json=body, headers=admin)
        assert response.status_code == 422, body
        assert response.json()["error"]["details"][0]["field"] == field


async def test_idempotent_create_reveals_the_same_secret(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    headers = tenant.headers("admin", **{"Idempotency-Key": "hook-1"})
    first = await client.post(BASE, json={"url": "https://example.com/a"}, headers=headers)
    second = await client.post(BASE, json={"url": "https://example.com/a"}, headers=headers)
    assert second.content == first.content and second.headers["idempotent-replayed"] == "true"
    assert len((await client.get(BASE, headers=tenant.headers("admin"))).json()["data"]) == 1
