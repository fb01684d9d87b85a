"""Planning through REST: previews persist and charge nothing; auto-optimize saves routes the way
manual routes are saved (credits once per mission, events). Jobs on the worker: tests/optimization_jobs."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select

from app.core.db import unit_of_work
from app.core.principal import Principal
from app.routes.models import Route
from app.settings import get_settings
from tests.fixtures import days
from tests.fixtures.factories import Factory, Tenant
from tests.routes.support import DAY, changes, credits, ledger, mission, mission_row, plannable_day


async def _route_count(tenant: Tenant) -> int:
    async with unit_of_work(Principal.system(tenant.id)) as uow:
        return int(
            await uow.scalar(select(func.count()).select_from(Route).where(Route.company_id == tenant.id))
        )


async def _post(
    client: httpx.AsyncClient, tenant: Tenant, path: str, body: dict[str, Any], **headers: str
) -> httpx.Response:
    return await client.post(f"/api/v1{path}", json=body, headers=tenant.headers(**headers))


class TestPlanPreview:
    async def test_plans_every_mission_and_persists_nothing(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant(credits=10)
        s = await plannable_day(factory, tenant, capacityWeightKg=100)
        before = await changes(tenant.id)
        response = await _post(
            client,
            tenant,
            "/routes/plan",
            {"branchId": s["branch"]["id"], "date": DAY, "timeLimitSeconds": 1},
        )
        assert response.status_code == 200, response.text
        plan = response.json()["data"]
        (route,) = plan["routes"]
        assert route["vehicleId"] == s["vehicle"]["id"]
        assert route["startDepotId"] == route["endDepotId"] == s["depot"]["id"]
        assert route["startTime"] == "07:00"  # the depot's opening
        assert sorted(stop["missionId"] for stop in route["stops"]) == sorted(s["missions"])
        assert [stop["sequence"] for stop in route["stops"]] == [1, 2, 3, 4]
        assert route["stops"][0]["distanceFromPreviousMeters"] > 0
        assert route["totalDistanceMeters"] > sum(
            stop["distanceFromPreviousMeters"] for stop in route["stops"]
        )
        assert route["load"] == {"weightKg": 0.0, "volumeM3": 0.0, "items": 0}
        assert plan["unassigned"] == []
        assert (plan["creditsRequired"], plan["creditsRemaining"]) == (4, 10)
        # Nothing saved, charged or announced.
        assert await _route_count(tenant) == 0
        assert await credits(client, tenant) == 10
        assert await changes(tenant.id) == before
        assert [(await mission_row(tenant, m)).status for m in s["missions"]] == ["unassigned"] * 4

    async def test_eta_matches_the_saved_route(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        s = await plannable_day(factory, tenant)
        body = {"branchId": s["branch"]["id"], "date": DAY, "timeLimitSeconds": 1}
        plan = (await _post(client, tenant, "/routes/plan", body)).json()["data"]
        (route,) = plan["routes"]
        saved = await _post(
            client,
            tenant,
            "/routes",
            {
                "branchId": s["branch"]["id"],
                "date": DAY,
                "missionIds": [x["missionId"] for x in route["stops"]],
                "vehicleId": s["vehicle"]["id"],
                "startDepotId": s["depot"]["id"],
                "endDepotId": s["depot"]["id"],
                "startTime": route["startTime"],
            },
        )
        data = saved.json()["data"]
        assert [(x["eta"], x["etd"]) for x in data["stops"]] == [(x["eta"], x["etd"]) for x in route["stops"]]
        assert data["totalDistanceMeters"] == route["totalDistanceMeters"]

    async def test_unassigned_reasons(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        s = await plannable_day(factory, tenant, missions=1, capacityWeightKg=50, capacityItems=10)
        branch = s["branch"]["id"]
        heavy = (await mission(factory, tenant, branch, latitude=41.02, longitude=29.02, weightKg=80))["id"]
        early = (
            await mission(
                factory,
                tenant,
                branch,
                latitude=41.02,
                longitude=29.02,
                timeWindowStart="05:00",
                timeWindowEnd="06:00",
            )
        )["id"]
        late = (
            await mission(
                factory,
                tenant,
                branch,
                latitude=41.02,
                longitude=29.02,
                timeWindowStart="18:58",
                timeWindowEnd="19:30",
            )
        )["id"]
        response = await _post(
            client, tenant, "/routes/plan", {"branchId": branch, "date": DAY, "timeLimitSeconds": 1}
        )
        plan = response.json()["data"]
        reasons = {u["missionId"]: u["reason"] for u in plan["unassigned"]}
        # The depot closes at 19:00: a stop served 18:58-19:03 cannot be back in time.
        assert reasons == {heavy: "capacity", early: "time_window", late: "shift_length"}
        assert [x["missionId"] for x in plan["routes"][0]["stops"]] == s["missions"]

    async def test_no_vehicle(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        branch = await factory.branch(tenant)
        made = await mission(factory, tenant, branch["id"])
        plan = (await _post(client, tenant, "/routes/plan", {"branchId": branch["id"], "date": DAY})).json()[
            "data"
        ]
        assert plan == {
            "routes": [],
            "unassigned": [{"missionId": made["id"], "reason": "no_vehicle"}],
            "creditsRequired": 0,
            "creditsRemaining": 200,
        }

    async def test_unknown_branch_is_422(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        response = await _post(
            client, tenant, "/routes/plan", {"branchId": "00000000-0000-4000-8000-000000000000", "date": DAY}
        )
        assert response.status_code == 422
        assert response.json()["error"]["details"][0]["field"] == "branchId"

    async def test_time_limit_is_bounded(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        branch = await factory.branch(tenant)
        response = await _post(
            client, tenant, "/routes/plan", {"branchId": branch["id"], "date": DAY, "timeLimitSeconds": 31}
        )
        assert response.status_code == 422

    async def test_read_only_token_is_403(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        branch = await factory.branch(tenant)
        for path in ("/routes/plan", "/missions/plan-route", "/routes/auto-optimize"):
            response = await client.post(
                f"/api/v1{path}", json={"branchId": branch["id"], "date": DAY}, headers=tenant.headers("read")
            )
            assert response.status_code == 403, path


class TestPlanMissionRoute:
    async def test_orders_the_given_missions(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        s = await plannable_day(factory, tenant, missions=5)
        chosen = s["missions"][:3]
        response = await _post(
            client, tenant, "/missions/plan-route", {"missionIds": chosen, "startTime": "09:00"}
        )
        assert response.status_code == 200, response.text
        plan = response.json()["data"]
        (route,) = plan["routes"]
        assert route["vehicleId"] is None and route["startTime"] == "09:00"
        assert sorted(x["missionId"] for x in route["stops"]) == sorted(chosen)
        assert route["stops"][0]["eta"].startswith(days.at("09:00", zone=days.ZONE)[:14])
        assert plan["creditsRequired"] == 3
        assert await _route_count(tenant) == 0

    async def test_missions_of_two_days_are_409(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        branch = await factory.branch(tenant)
        a = await mission(factory, tenant, branch["id"])
        b = await mission(factory, tenant, branch["id"], date=days.day(1))
        response = await _post(client, tenant, "/missions/plan-route", {"missionIds": [a["id"], b["id"]]})
        assert response.status_code == 409


class TestAutoOptimize:
    async def test_saves_routes_charges_once_and_announces(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant(credits=10)
        s = await plannable_day(factory, tenant)
        body = {"branchId": s["branch"]["id"], "date": DAY, "timeLimitSeconds": 1}
        response = await _post(client, tenant, "/routes/auto-optimize", body, **{"Idempotency-Key": "opt-1"})
        assert response.status_code == 200, response.text
        job = response.json()["data"]
        default = get_settings().optimizer_engine
        assert (job["status"], job["progress"], job["engine"]) == ("succeeded", 100, default)
        assert job["result"]["creditsCharged"] == 4 and job["startedAt"] <= job["finishedAt"]
        (route_id,) = job["result"]["routeIds"]
        assert job["result"]["unassigned"] == []
        route = (await client.get(f"/api/v1/routes/{route_id}", headers=tenant.headers())).json()["data"]
        assert route["optimizedAt"] is not None and route["vehicleId"] == s["vehicle"]["id"]
        assert sorted(x["missionId"] for x in route["stops"]) == sorted(s["missions"])
        assert await credits(client, tenant) == 6
        assert len([e for e in await ledger(tenant) if e.kind == "consume"]) == 4
        kinds = [e.type for e in await changes(tenant.id)]
        assert kinds.count("route.created") == 1 and kinds.count("route.optimized") == 1
        assert kinds.count("mission.status_changed") == 4
        # A replay answers the same job and does nothing again.
        replay = await _post(client, tenant, "/routes/auto-optimize", body, **{"Idempotency-Key": "opt-1"})
        assert replay.headers["Idempotent-Replayed"] == "true" and replay.content == response.content
        assert await credits(client, tenant) == 6 and await _route_count(tenant) == 1
        # Nothing is left to plan: a second run makes no route and charges nothing.
        again = (await _post(client, tenant, "/routes/auto-optimize", body)).json()["data"]
        assert again["result"] == {"routeIds": [], "unassigned": [], "creditsCharged": 0}
        assert await credits(client, tenant) == 6

    async def test_short_of_credits_is_402_and_leaves_nothing(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant(credits=3)
        s = await plannable_day(factory, tenant)
        before = await changes(tenant.id)
        response = await _post(
            client,
            tenant,
            "/routes/auto-optimize",
            {"branchId": s["branch"]["id"], "date": DAY, "timeLimitSeconds": 1},
        )
        assert response.status_code == 402
        assert response.json()["error"]["details"] == {"required": 4, "remaining": 3}
        assert await _route_count(tenant) == 0 and await credits(client, tenant) == 3
        assert await changes(tenant.id) == before
        assert [(await mission_row(tenant, m)).status for m in s["missions"]] == ["unassigned"] * 4
