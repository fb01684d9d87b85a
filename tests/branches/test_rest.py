from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import select

from app.core import clock
from app.core.db import unit_of_work
from app.core.history import ChangeRecord
from app.core.outbox import WebhookEvent
from app.core.principal import Principal
from tests.fixtures.factories import Factory

BODY = {
    "name": "Kadikoy",
    "address": "Moda Cd.",
    "latitude": 40.98,
    "longitude": 29.03,
    "timezone": "Europe/Istanbul",
    "phone": "+902165550100",
    "externalId": "erp-1",
}


class TestCreate:
    async def test_creates_and_reads_back(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        response = await client.post("/api/v1/branches", json=BODY, headers=tenant.headers())
        assert response.status_code == 201
        data = response.json()["data"]
        assert {k: data[k] for k in BODY} == BODY
        assert data["createdAt"].endswith("Z")
        fetched = await client.get(f"/api/v1/branches/{data['id']}", headers=tenant.headers("read"))
        assert fetched.json() == {"data": data}

    async def test_validation_errors_name_each_field(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant()
        bad = {"latitude": 91, "longitude": "29", "timezone": "Mars/Olympus", "nmae": "typo"}
        response = await client.post("/api/v1/branches", json=bad, headers=tenant.headers())
        assert response.status_code == 422
        fields = {d["field"] for d in response.json()["error"]["details"]}
        assert {"name", "latitude", "longitude", "timezone", "nmae"} <= fields

    async def test_external_id_is_unique_per_company(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant, other = await factory.tenant(), await factory.tenant()
        first = await factory.branch(tenant, externalId="dup")
        response = await client.post(
            "/api/v1/branches", json={"name": "x", "externalId": "dup"}, headers=tenant.headers()
        )
        assert response.status_code == 409
        assert response.json()["error"]["details"] == {"field": "externalId", "existingId": first["id"]}
        # Another company may use the same external id.
        await factory.branch(other, externalId="dup")

    async def test_concurrent_duplicate_external_ids_leave_one(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant()
        responses = await asyncio.gather(
            *[
                client.post(
                    "/api/v1/branches", json={"name": f"b{i}", "externalId": "race"}, headers=tenant.headers()
                )
                for i in range(8)
            ]
        )
        assert sorted(r.status_code for r in responses) == [201] + [409] * 7

    async def test_body_errors(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        headers = tenant.headers()
        not_json = await client.post(
            "/api/v1/branches", content=b"{nope", headers={**headers, "Content-Type": "application/json"}
        )
        assert not_json.json()["error"]["code"] == "invalid_json"
        array = await client.post("/api/v1/branches", json=[1], headers=headers)
        assert (array.status_code, array.json()["error"]["code"]) == (400, "invalid_json")
        text = await client.post(
            "/api/v1/branches", content=b"name=x", headers={**headers, "Content-Type": "text/plain"}
        )
        assert (text.status_code, text.json()["error"]["code"]) == (415, "unsupported_media_type")
        huge = await client.post(
            "/api/v1/branches",
            content=b'{"name": "' + b"x" * (6 * 1024 * 1024) + b'"}',
            headers={**headers, "Content-Type": "application/json"},
        )
        assert (huge.status_code, huge.json()["error"]["code"]) == (413, "payload_too_large")

    async def test_records_history_and_no_webhook_event(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant()
        branch = await factory.branch(tenant)
        async with unit_of_work(Principal.system(tenant.id)) as uow:
            entries = await uow.scalars(select(ChangeRecord).where(ChangeRecord.resource_id == branch["id"]))
            events = await uow.scalars(select(WebhookEvent).where(WebhookEvent.resource_id == branch["id"]))
        assert [(e.action, e.source, e.actor_type) for e in entries] == [("created", "api", "token")]
        assert {"field": "name", "from": None, "to": branch["name"]} in entries[0].field_changes
        assert events == []  # branches have no webhook event types in the contract


class TestList:
    async def test_pages_in_creation_order_without_gaps(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant()
        created = [(await factory.branch(tenant))["id"] for _ in range(5)]
        seen, cursor = [], None
        while True:
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (
                await client.get("/api/v1/branches", params=params, headers=tenant.headers("read"))
            ).json()
            seen += [b["id"] for b in page["data"]]
            assert page["pagination"]["limit"] == 2
            cursor = page["pagination"]["nextCursor"]
            assert page["pagination"]["hasMore"] == (cursor is not None)
            if not cursor:
                break
        assert seen == created

    async def test_filters_and_invalid_parameters(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        await factory.branch(tenant, externalId="a")
        b = await factory.branch(tenant, externalId="b")
        only_b = await client.get(
            "/api/v1/branches", params={"externalId": "b"}, headers=tenant.headers("read")
        )
        assert [x["id"] for x in only_b.json()["data"]] == [b["id"]]
        for params, field in [
            ({"limit": 0}, "limit"),
            ({"limit": 201}, "limit"),
            ({"cursor": "zzz"}, "cursor"),
            ({"updatedSince": "yesterday"}, "updatedSince"),
            ({"colour": "red"}, "colour"),
        ]:
            response = await client.get("/api/v1/branches", params=params, headers=tenant.headers("read"))
            assert response.status_code == 422, params
            assert response.json()["error"]["details"][0]["field"] == field

    async def test_updated_since_returns_exactly_the_changed(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant()
        branches = [await factory.branch(tenant) for _ in range(3)]
        since = clock.utcnow().isoformat().replace("+00:00", "Z")
        await client.patch(
            f"/api/v1/branches/{branches[1]['id']}", json={"phone": "+900000"}, headers=tenant.headers()
        )
        response = await client.get(
            "/api/v1/branches", params={"updatedSince": since}, headers=tenant.headers("read")
        )
        assert [b["id"] for b in response.json()["data"]] == [branches[1]["id"]]

    async def test_lists_only_own_company(self, client: httpx.AsyncClient, factory: Factory) -> None:
        mine, theirs = await factory.tenant(), await factory.tenant()
        await factory.branch(theirs)
        own = await factory.branch(mine)
        listed = (await client.get("/api/v1/branches", headers=mine.headers("read"))).json()["data"]
        assert [b["id"] for b in listed] == [own["id"]]


class TestUpdate:
    async def test_partial_update_and_null_clears(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        branch = await factory.branch(tenant, phone="+901")
        response = await client.patch(
            f"/api/v1/branches/{branch['id']}", json={"phone": None, "name": "New"}, headers=tenant.headers()
        )
        data = response.json()["data"]
        assert (data["phone"], data["name"], data["timezone"]) == (None, "New", branch["timezone"])
        assert data["updatedAt"] > branch["updatedAt"]

    async def test_required_field_cannot_be_nulled(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        branch = await factory.branch(tenant)
        response = await client.patch(
            f"/api/v1/branches/{branch['id']}", json={"name": None}, headers=tenant.headers()
        )
        assert response.status_code == 422

    async def test_history_has_field_diffs(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        branch = await factory.branch(tenant, name="Old")
        await client.patch(f"/api/v1/branches/{branch['id']}", json={"name": "New"}, headers=tenant.headers())
        async with unit_of_work(Principal.system(tenant.id)) as uow:
            entries = await uow.scalars(
                select(ChangeRecord).where(
                    ChangeRecord.resource_id == branch["id"], ChangeRecord.action == "updated"
                )
            )
        assert entries[0].changes == [{"field": "name", "from": "Old", "to": "New"}]
        assert entries[0].actor_name == "writer"


class TestDelete:
    async def test_deletes_then_404(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        branch = await factory.branch(tenant)
        response = await client.delete(f"/api/v1/branches/{branch['id']}", headers=tenant.headers())
        assert (response.status_code, response.content) == (204, b"")
        again = await client.get(f"/api/v1/branches/{branch['id']}", headers=tenant.headers())
        assert again.status_code == 404

    async def test_branch_with_depots_is_409_naming_them(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant()
        branch = await factory.branch(tenant)
        depot = await factory.depot(tenant, branch["id"])
        response = await client.delete(f"/api/v1/branches/{branch['id']}", headers=tenant.headers())
        assert response.status_code == 409
        assert response.json()["error"]["details"]["dependants"] == {"depots": [depot["id"]]}
        assert (
            await client.get(f"/api/v1/branches/{branch['id']}", headers=tenant.headers())
        ).status_code == 200
