from __future__ import annotations

from typing import Any

import httpx

from tests.fixtures.factories import Factory, Tenant
from tests.fixtures.fleet import events, history


def _item(branch_id: str, n: int, **fields: Any) -> dict[str, Any]:
    return {"branchId": branch_id, "date": "2026-11-26", "latitude": 41.0 + n / 1000, "longitude": 29.0,
            "externalId": f"bulk-{n}", "customerEmail": f"c{n}@example.com", **fields}  # fmt: skip


async def _bulk(
    client: httpx.AsyncClient, tenant: Tenant, missions: list[Any], **headers: str
) -> httpx.Response:
    return await client.post(
        "/api/v1/missions/bulk", json={"missions": missions}, headers=tenant.headers(**headers)
    )


class TestBulk:
    async def test_mixed_valid_and_invalid(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant, other = await factory.tenant(), await factory.tenant()
        branch, foreign = await factory.branch(tenant), await factory.branch(other)
        existing = await factory.mission(tenant, branch["id"], externalId="already-there")
        items = [
            _item(branch["id"], 0),
            _item(branch["id"], 1, latitude=123, colour="red"),
            _item(branch["id"], 2, externalId="already-there"),
            _item(branch["id"], 3, externalId="bulk-0"),
            _item(foreign["id"], 4),
            "not an object",
            _item(branch["id"], 6, proofRequired=False, externalId=None),
            _item(branch["id"], 7, latitude="41"),
        ]
        response = await _bulk(client, tenant, items)
        assert response.status_code == 200, response.text
        results = response.json()["data"]
        assert [r["index"] for r in results] == list(range(8))
        assert [r["status"] for r in results] == ["created", "error", "error", "error", "error", "error",
                                                  "created", "error"]  # fmt: skip
        created = results[0]["data"]
        assert created["externalId"] == "bulk-0" and len(created["proof"]["code"]) == 5
        assert created["proof"]["sentTo"] == "c0@example.com" and created["status"] == "unassigned"
        assert "code" not in results[6]["data"]["proof"]
        assert results[1]["error"]["code"] == "validation_error"
        assert {d["field"] for d in results[1]["error"]["details"]} == {"latitude", "colour"}
        assert results[2]["error"]["code"] == "conflict"
        assert results[2]["error"]["details"] == {"field": "externalId", "existingId": existing["id"]}
        assert results[3]["error"]["details"] == {"field": "externalId", "duplicateOfIndex": 0}
        assert results[4]["error"]["details"] == [
            {"field": "branchId", "issue": "does not name a record of your company"}
        ]
        assert results[5]["error"]["details"] == [{"field": "body", "issue": "must be a JSON object"}]
        assert results[7]["error"]["details"][0]["field"] == "latitude"  # strict types, as a single create

        # The created ones are ordinary missions: readable, with history and exactly one event each.
        got = await client.get(f"/api/v1/missions/{created['id']}", headers=tenant.headers("read"))
        assert got.json()["data"] == {
            **created,
            "proof": {k: v for k, v in created["proof"].items() if k != "code"},
        }
        for result in (results[0], results[6]):
            mission_id = result["data"]["id"]
            assert [e.type for e in await events(tenant.id, mission_id)] == ["mission.created"]
            assert [e.action for e in await history(tenant.id, mission_id)] == ["created"]
        url = f"/api/v1/missions/{created['id']}/proof-of-delivery/verify"
        verify = await client.post(url, json={"code": created["proof"]["code"]}, headers=tenant.headers())
        assert verify.status_code == 409  # the code is real; the mission is just not proofable yet

    async def test_limit_and_replay(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        branch = await factory.branch(tenant)
        too_many = await _bulk(client, tenant, [_item(branch["id"], n) for n in range(1001)])
        assert too_many.status_code == 413
        assert too_many.json()["error"]["details"]["limit"] == 1000
        items = [_item(branch["id"], n) for n in range(1000)]
        first = await _bulk(client, tenant, items, **{"Idempotency-Key": "bulk-1"})
        assert first.status_code == 200 and {r["status"] for r in first.json()["data"]} == {"created"}
        second = await _bulk(client, tenant, items, **{"Idempotency-Key": "bulk-1"})
        assert second.headers["idempotent-replayed"] == "true" and second.content == first.content
        assert len(await events(tenant.id)) == 1000
        again = await _bulk(client, tenant, items[:2])
        assert [r["error"]["details"]["existingId"] for r in again.json()["data"]] == [
            r["data"]["id"] for r in first.json()["data"][:2]]  # fmt: skip

    async def test_envelope_errors(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        for body in ({}, {"missions": "x"}, {"missions": [], "extra": 1}):
            response = await client.post("/api/v1/missions/bulk", json=body, headers=tenant.headers())
            assert response.status_code == 422, body
        empty = await _bulk(client, tenant, [])
        assert empty.status_code == 200 and empty.json() == {"data": []}
