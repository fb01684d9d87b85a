from __future__ import annotations

import asyncio

import httpx

from app.core import clock
from tests.fixtures import days
from tests.fixtures.factories import Factory
from tests.fixtures.fleet import events, history
from tests.missions.support import get, patch, scheduled


class TestCreate:
    async def test_create_reveals_the_code_once(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        branch = await factory.branch(tenant, timezone="Europe/Istanbul")
        mission = await factory.mission(tenant, branch["id"], externalId="o-1", date=days.day())
        proof = mission["proof"]
        assert len(proof["code"]) == 5 and proof["code"].isdigit()
        assert proof["sentTo"] == "+905550000000" and proof["attempts"] == 0 and proof["maxAttempts"] == 5
        # The end of the day after the date, in the branch's zone: midnight two days on, Istanbul time.
        assert proof["expiresAt"] == days.at("00:00", 2, days.ZONE)
        assert (mission["status"], mission["routeId"], mission["serviceDurationSeconds"]) == (
            "unassigned",
            None,
            300,
        )
        assert "code" not in (await get(client, tenant, mission["id"]))["proof"]
        assert [e.type for e in await events(tenant.id, mission["id"])] == ["mission.created"]
        assert "code" not in str((await events(tenant.id, mission["id"]))[0].payload)

    async def test_no_code_without_proof(self, factory: Factory) -> None:
        tenant = await factory.tenant()
        mission = await factory.mission(tenant, proofRequired=False)
        assert "code" not in mission["proof"] and mission["proof"]["expiresAt"] is None

    async def test_validation(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant, other = await factory.tenant(), await factory.tenant()
        foreign = await factory.branch(other)
        body = {"branchId": foreign["id"], "date": days.day(), "latitude": 91, "longitude": 29,
                "priority": 4, "weightKg": -1, "timeWindowStart": "12:00", "timeWindowEnd": "09:00",
                "colour": "red"}  # fmt: skip
        response = await client.post("/api/v1/missions", json=body, headers=tenant.headers())
        assert response.status_code == 422
        fields = {d["field"] for d in response.json()["error"]["details"]}
        assert {"latitude", "priority", "weightKg", "colour"} <= fields
        body = {**body, "latitude": 41, "priority": 1, "weightKg": 1}
        del body["colour"]
        window = await client.post("/api/v1/missions", json=body, headers=tenant.headers())
        assert window.status_code == 422 and "timeWindowStart" in window.text
        body["timeWindowEnd"] = "13:00"
        branch = await client.post("/api/v1/missions", json=body, headers=tenant.headers())
        assert branch.status_code == 422
        assert branch.json()["error"]["details"] == [
            {"field": "branchId", "issue": "does not name a record of your company"}
        ]
        assert await events(tenant.id) == []

    async def test_duplicate_external_id(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        first = await factory.mission(tenant, externalId="dup")
        body = {"branchId": first["branchId"], "date": days.day(), "latitude": 41, "longitude": 29,
                "externalId": "dup"}  # fmt: skip
        response = await client.post("/api/v1/missions", json=body, headers=tenant.headers())
        assert response.status_code == 409
        assert response.json()["error"]["details"] == {"field": "externalId", "existingId": first["id"]}

    async def test_idempotent_replay(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        branch = await factory.branch(tenant)
        body = {"branchId": branch["id"], "date": days.day(), "latitude": 41, "longitude": 29}
        headers = tenant.headers(**{"Idempotency-Key": "create-1"})
        first = await client.post("/api/v1/missions", json=body, headers=headers)
        second = await client.post("/api/v1/missions", json=body, headers=headers)
        assert second.headers["idempotent-replayed"] == "true" and second.content == first.content
        listed = await client.get("/api/v1/missions", headers=tenant.headers("read"))
        assert len(listed.json()["data"]) == 1
        assert len(await events(tenant.id)) == 1


class TestList:
    async def test_filters(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        branch = await factory.branch(tenant)
        early = await factory.mission(tenant, branch["id"], date=days.day(-1))
        plain = await factory.mission(tenant, branch["id"], externalId="e-2")
        placed, route = await scheduled(factory, tenant)
        driver = await factory.driver(tenant, route["branchId"])
        assigned = await client.put(f"/api/v1/routes/{route['id']}/assign-driver",
                                    json={"driverId": driver["id"]},
                                    headers=tenant.headers())  # fmt: skip
        assert assigned.status_code == 200, assigned.text

        async def ids(**params: object) -> list[str]:
            response = await client.get("/api/v1/missions", params=params, headers=tenant.headers("read"))
            assert response.status_code == 200, response.text
            return [m["id"] for m in response.json()["data"]]

        assert await ids(branchId=branch["id"]) == [early["id"], plain["id"]]
        assert await ids(date=days.day(-1)) == [early["id"]]
        assert await ids(dateFrom=days.day(), dateTo=days.day()) == [plain["id"], placed["id"]]
        assert await ids(status=["scheduled", "in_progress"]) == [placed["id"]]
        assert await ids(status="unassigned", externalId="e-2") == [plain["id"]]
        assert await ids(routeId=route["id"]) == [placed["id"]]
        assert await ids(driverId=driver["id"]) == [placed["id"]]
        assert (await get(client, tenant, placed["id"]))["driverId"] == driver["id"]
        page = await client.get("/api/v1/missions", params={"limit": 2}, headers=tenant.headers("read"))
        cursor = page.json()["pagination"]["nextCursor"]
        assert await ids(limit=2, cursor=cursor) == [placed["id"]]
        for params in ({"status": "lost"}, {"dateFrom": days.day(1), "dateTo": days.day()}, {"limit": 0},
                       {"driverId": "nope"}):  # fmt: skip
            bad = await client.get("/api/v1/missions", params=params, headers=tenant.headers("read"))
            assert bad.status_code == 422, params

    async def test_updated_since_picks_up_exactly_the_changed(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant()
        branch = await factory.branch(tenant)
        missions = [await factory.mission(tenant, branch["id"]) for _ in range(4)]
        await asyncio.sleep(0.01)
        mark = clock.utcnow().isoformat().replace("+00:00", "Z")
        await asyncio.sleep(0.01)
        for changed in (missions[1], missions[3]):
            assert (await patch(client, tenant, changed["id"], notes="changed")).status_code == 200
        assert (await patch(client, tenant, missions[2]["id"], notes=None)).status_code == 200  # no change
        response = await client.get(
            "/api/v1/missions", params={"updatedSince": mark}, headers=tenant.headers("read")
        )
        assert [m["id"] for m in response.json()["data"]] == [missions[1]["id"], missions[3]["id"]]


class TestUpdate:
    async def test_fields_history_and_events(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        mission = await factory.mission(tenant)
        response = await patch(
            client, tenant, mission["id"], customerName="New Name", weightKg=3.5, notes=None
        )
        assert response.status_code == 200, response.text
        assert response.json()["data"]["customerName"] == "New Name"
        entries = await history(tenant.id, mission["id"])
        assert [e.action for e in entries] == ["created", "updated"]
        assert {c["field"] for c in entries[-1].changes} == {"customerName", "weightKg"}
        bad = await patch(client, tenant, mission["id"], latitude=None, proofRequired="yes", routeId=None)
        assert bad.status_code == 422
        assert {d["field"] for d in bad.json()["error"]["details"]} >= {"proofRequired", "routeId"}
        types = [e.type for e in await events(tenant.id, mission["id"])]
        assert types == ["mission.created", "mission.updated"]

    async def test_new_date_moves_the_code_expiry(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        mission = await factory.mission(tenant)
        response = await patch(client, tenant, mission["id"], date=days.day(5))
        assert response.json()["data"]["proof"]["expiresAt"] == days.at("00:00", 7, days.ZONE)

    async def test_route_keeps_branch_and_date(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        mission, _ = await scheduled(factory, tenant)
        response = await patch(client, tenant, mission["id"], date=days.day(5))
        assert response.status_code == 409
        assert response.json()["error"]["details"]["fields"] == ["date"]

    async def test_finished_mission_keeps_its_job(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        mission = await factory.mission(tenant)
        assert (await patch(client, tenant, mission["id"], status="cancelled")).status_code == 200
        refused = await patch(client, tenant, mission["id"], latitude=40.0)
        assert refused.status_code == 409 and refused.json()["error"]["details"]["fields"] == ["latitude"]
        assert (await patch(client, tenant, mission["id"], notes="returned to sender")).status_code == 200


class TestDelete:
    async def test_delete_takes_it_off_its_route_and_refunds(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant(credits=5)
        mission, route = await scheduled(factory, tenant)
        assert await _credits(client, tenant) == 4
        response = await client.delete(f"/api/v1/missions/{mission['id']}", headers=tenant.headers())
        assert response.status_code == 204 and response.content == b""
        assert await _credits(client, tenant) == 5
        route_now = await client.get(f"/api/v1/routes/{route['id']}", headers=tenant.headers("read"))
        assert route_now.json()["data"]["stops"] == []
        gone = await client.get(f"/api/v1/missions/{mission['id']}", headers=tenant.headers("read"))
        assert gone.status_code == 404
        deleted = [e for e in await events(tenant.id, mission["id"]) if e.type == "mission.deleted"]
        assert len(deleted) == 1 and deleted[0].payload["data"]["routeId"] == route["id"]

    async def test_in_progress_cannot_be_deleted(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        mission, _ = await scheduled(factory, tenant)
        assert (await patch(client, tenant, mission["id"], status="in_progress")).status_code == 200
        response = await client.delete(f"/api/v1/missions/{mission['id']}", headers=tenant.headers())
        assert response.status_code == 409 and response.json()["error"]["details"] == {
            "status": "in_progress"
        }

    async def test_branch_with_missions_cannot_be_deleted(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant()
        mission = await factory.mission(tenant)
        response = await client.delete(f"/api/v1/branches/{mission['branchId']}", headers=tenant.headers())
        assert response.status_code == 409
        assert response.json()["error"]["details"]["dependants"]["missions"] == [mission["id"]]


class TestReassign:
    async def test_between_routes_and_off(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant(credits=10)
        mission, first = await scheduled(factory, tenant)
        others = [await factory.mission(tenant, first["branchId"]) for _ in range(2)]
        second = await factory.route(tenant, first["branchId"], missionIds=[m["id"] for m in others])
        url = f"/api/v1/missions/{mission['id']}/reassign"
        moved = await client.post(
            url, json={"routeId": second["id"], "position": 1}, headers=tenant.headers()
        )
        assert moved.status_code == 200, moved.text
        assert (moved.json()["data"]["routeId"], moved.json()["data"]["sequence"]) == (second["id"], 1)
        stops = (await client.get(f"/api/v1/routes/{second['id']}", headers=tenant.headers())).json()["data"][
            "stops"
        ]
        assert [s["missionId"] for s in stops] == [mission["id"], others[0]["id"], others[1]["id"]]
        assert await _credits(client, tenant) == 7  # moving does not charge again
        off = await client.post(url, json={"routeId": None}, headers=tenant.headers())
        assert (off.json()["data"]["status"], off.json()["data"]["routeId"]) == ("unassigned", None)
        again = await client.post(url, json={"routeId": None}, headers=tenant.headers())
        assert again.status_code == 200 and again.json()["data"]["status"] == "unassigned"
        back = await client.post(url, json={"routeId": first["id"]}, headers=tenant.headers())
        assert back.json()["data"]["status"] == "scheduled" and await _credits(client, tenant) == 7
        entries = await history(tenant.id, mission["id"])
        assert [e.action for e in entries].count("reassigned") == 3
        moved_entry = [e for e in entries if e.action == "reassigned"][0]
        assert {"field": "routeId", "from": first["id"], "to": second["id"]} in moved_entry.changes
        reordered = [str(e.resource_id) for e in await events(tenant.id) if e.type == "route.reordered"]
        # first -> second touches both routes, -> off touches second, -> first touches first.
        assert sorted(reordered) == sorted([first["id"], second["id"], second["id"], first["id"]])
        types = [e.type for e in await events(tenant.id, mission["id"])]
        assert types == ["mission.created", "mission.status_changed", "mission.updated",
                         "mission.status_changed", "mission.status_changed"]  # fmt: skip

    async def test_first_scheduling_charges_and_402_changes_nothing(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant(credits=1)
        _, route = await scheduled(factory, tenant)
        mission = await factory.mission(tenant, route["branchId"])
        url = f"/api/v1/missions/{mission['id']}/reassign"
        response = await client.post(url, json={"routeId": route["id"]}, headers=tenant.headers())
        assert response.status_code == 402
        assert response.json()["error"]["details"] == {"required": 1, "remaining": 0}
        assert (await get(client, tenant, mission["id"]))["status"] == "unassigned"

    async def test_bad_targets(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant, other = await factory.tenant(), await factory.tenant()
        mission = await factory.mission(tenant)
        foreign = await factory.route(other)
        url = f"/api/v1/missions/{mission['id']}/reassign"
        for body in ({"routeId": foreign["id"]}, {"routeId": "nope"}):
            response = await client.post(url, json=body, headers=tenant.headers())
            assert (
                response.status_code == 422 and response.json()["error"]["details"][0]["field"] == "routeId"
            )
        other_day = await factory.route(tenant, mission["branchId"], date=days.day(1))
        response = await client.post(url, json={"routeId": other_day["id"]}, headers=tenant.headers())
        assert response.status_code == 409
        assert (await client.post(url, json={"routeId": None, "position": 1},
                                  headers=tenant.headers())).status_code == 422  # fmt: skip


class TestHistory:
    async def test_newest_first_paginated(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        mission = await factory.mission(tenant)
        for n in range(3):
            await patch(client, tenant, mission["id"], notes=f"note {n}")
        url = f"/api/v1/missions/{mission['id']}/history-changes"
        first = (await client.get(url, params={"limit": 2}, headers=tenant.headers("read"))).json()
        assert [e["action"] for e in first["data"]] == ["updated", "updated"]
        assert first["data"][0]["changes"] == [{"field": "notes", "from": "note 1", "to": "note 2"}]
        assert first["data"][0]["actor"]["type"] == "token" and first["data"][0]["source"] == "api"
        rest = await client.get(url, params={"limit": 2, "cursor": first["pagination"]["nextCursor"]},
                                headers=tenant.headers("read"))  # fmt: skip
        assert [e["action"] for e in rest.json()["data"]] == ["updated", "created"]
        assert rest.json()["pagination"] == {"limit": 2, "nextCursor": None, "hasMore": False}


async def _credits(client: httpx.AsyncClient, tenant: object) -> int:
    me = await client.get("/api/v1/me", headers=tenant.headers("read"))  # type: ignore[attr-defined]
    return me.json()["data"]["company"]["creditsRemaining"]  # type: ignore[no-any-return]
