from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.fixtures import days
from tests.fixtures.factories import Factory, Tenant
from tests.fixtures.fleet import events, history


def _item(branch_id: str, n: int, **fields: Any) -> dict[str, Any]:
    return {"branchId": branch_id, "date": days.day(), "latitude": 41.0 + n / 1000, "longitude": 29.0,
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

    async def test_history_and_events_match_a_single_create(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        """A bulk-created mission's history entry and event carry what a single create's would."""
        tenant = await factory.tenant()
        branch = await factory.branch(tenant)
        body = _item(branch["id"], 0, timeWindowStart="09:00", timeWindowEnd="12:30", weightKg=2.5)
        single = await client.post(
            "/api/v1/missions", json={**body, "externalId": "one"}, headers=tenant.headers()
        )
        bulk = await _bulk(client, tenant, [{**body, "externalId": "many"}])
        made, [item] = single.json()["data"], bulk.json()["data"]
        created = item["data"]

        def entry(mission: dict[str, Any]) -> Any:
            return client.get(
                f"/api/v1/missions/{mission['id']}/history-changes", headers=tenant.headers("read")
            )

        def values(changes: list[dict[str, Any]]) -> dict[str, Any]:
            return {
                c["field"]: (c["from"], c["to"]) for c in changes if c["field"] not in ("externalId", "proof")
            }

        [one], [many] = (await entry(made)).json()["data"], (await entry(created)).json()["data"]
        assert many["action"] == one["action"] == "created"
        assert values(many["changes"]) == values(one["changes"])
        assert {"field": "externalId", "from": None, "to": "many"} in many["changes"]

        [event] = await events(tenant.id, created["id"])
        got = await client.get(f"/api/v1/missions/{created['id']}", headers=tenant.headers("read"))
        assert event.payload == {
            "id": event.id, "type": "mission.created", "timestamp": event.payload["timestamp"],
            "companyId": str(tenant.id), "resourceType": "mission", "resourceId": created["id"],
            "data": got.json()["data"],
        }  # fmt: skip
        assert event.payload["timestamp"] == created["createdAt"]
        assert created["proof"]["code"] not in str(event.payload)

    async def test_a_concurrent_import_taking_an_external_id(
        self, client: httpx.AsyncClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """An externalId another request commits between our check and our insert is an item error,
        and the skipped mission leaves no history or event behind."""
        from app.missions import bulk

        tenant = await factory.tenant()
        branch = await factory.branch(tenant)
        taken = await factory.mission(tenant, branch["id"], externalId="raced")
        looked_up = bulk._references
        calls = 0

        def late_references(records: list[Any]) -> tuple[dict[Any, str], dict[str, Any]]:
            nonlocal calls
            calls += 1
            zones, existing = looked_up(records)
            # The first look happens before the other request "commits": it sees no mission yet.
            return (zones, {}) if calls == 1 else (zones, existing)

        monkeypatch.setattr(bulk, "_references", late_references)
        response = await _bulk(
            client, tenant, [_item(branch["id"], 0, externalId="raced"), _item(branch["id"], 1)]
        )
        first, second = response.json()["data"]
        assert first["status"] == "error" and first["error"]["code"] == "conflict"
        assert first["error"]["details"] == {"field": "externalId", "existingId": taken["id"]}
        assert second["status"] == "created"
        bulk_events = [e.resource_id for e in await events(tenant.id) if str(e.resource_id) != taken["id"]]
        assert bulk_events == [uuid.UUID(second["data"]["id"])]
        listed = await client.get("/api/v1/missions", headers=tenant.headers("read"))
        assert {m["id"] for m in listed.json()["data"]} == {taken["id"], second["data"]["id"]}


def test_proof_codes_are_five_digits_without_modulo_bias(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.missions import proof

    codes = proof.new_codes(500)
    assert len(codes) == 500 and all(len(c) == 5 and c.isdigit() for c in codes)
    assert len(set(codes)) > 450  # 500 draws from 100,000 values rarely repeat
    # A 32-bit word at or above the last whole multiple of 100,000 is redrawn, not folded.
    monkeypatch.setattr(proof.secrets, "token_bytes", lambda n: b"\xff" * n)
    monkeypatch.setattr(proof, "new_code", lambda: "redrawn")
    assert proof.new_codes(2) == ["redrawn", "redrawn"]


async def test_what_the_raw_items_hid_is_looked_up_after_validation(
    client: httpx.AsyncClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Branches and externalIds are looked up from the raw items while they are validated; any
    the validated items name beyond those are looked up afterwards, so none is missed."""
    from app.missions import bulk

    tenant = await factory.tenant()
    branch = await factory.branch(tenant)
    existing = await factory.mission(tenant, branch["id"], externalId="known")
    monkeypatch.setattr(bulk, "_named", lambda items: (set(), set()))
    response = await _bulk(
        client, tenant, [_item(branch["id"], 0, externalId="known"), _item(branch["id"], 1)]
    )
    known, fresh = response.json()["data"]
    assert known["error"]["details"] == {"field": "externalId", "existingId": existing["id"]}
    assert fresh["status"] == "created"


async def test_results_keep_input_order_across_chunks(client: httpx.AsyncClient, factory: Factory) -> None:
    """A batch is written in chunks; refusals anywhere in it keep every result at its own index."""
    tenant = await factory.tenant()
    branch = await factory.branch(tenant)
    items = [_item(branch["id"], n, latitude=123 if n % 7 == 3 else 41.0) for n in range(250)]
    items[200]["externalId"] = items[11]["externalId"]  # a repeat, across chunks
    response = await _bulk(client, tenant, items)
    results = response.json()["data"]
    assert [r["index"] for r in results] == list(range(250))
    refused = {n for n in range(250) if n % 7 == 3} | {200}
    assert {r["index"] for r in results if r["status"] == "error"} == refused
    assert results[200]["error"]["details"] == {"field": "externalId", "duplicateOfIndex": 11}
    created = [r for r in results if r["status"] == "created"]
    assert all(r["data"]["externalId"] == items[r["index"]]["externalId"] for r in created)
    assert len(await events(tenant.id)) == len(created) == 250 - len(refused)


async def test_items_of_any_shape_fail_alone(client: httpx.AsyncClient, factory: Factory) -> None:
    """Whatever a raw item holds where an id belongs, only that item is refused."""
    tenant = await factory.tenant()
    branch = await factory.branch(tenant)
    odd = [
        _item(branch["id"], 0, externalId=["a"]),
        _item(branch["id"], 1, branchId={"id": branch["id"]}),
        _item(branch["id"], 2, branchId="not-a-uuid"),
        _item(branch["id"], 3, externalId=7),
    ]
    response = await _bulk(client, tenant, [*odd, _item(branch["id"], 4)])
    assert response.status_code == 200, response.text
    results = response.json()["data"]
    assert [r["status"] for r in results] == ["error"] * 4 + ["created"]
    assert {r["error"]["code"] for r in results[:4]} == {"validation_error"}
