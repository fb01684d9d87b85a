"""Planning through REST: previews persist and charge nothing; auto-optimize saves routes the way
manual routes are saved (credits once per mission, events), synchronously or on the worker."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from app.core import clock, jobs
from app.core.db import unit_of_work
from app.core.principal import Principal
from app.routes import optimizing
from app.routes.models import OptimizationJob, Route
from app.settings import get_settings
from tests.fixtures import days
from tests.fixtures.factories import Factory, Tenant
from tests.routes.support import DAY, changes, credits, ledger, mission, mission_row
from workers.optimization import sweep_stale_jobs

# Around the factory depot (41.01, 29.01): a few kilometres apart.
SPOTS = [(41.02, 29.03), (41.03, 29.00), (41.00, 29.04), (41.04, 29.02), (40.99, 29.00), (41.02, 28.99)]


async def _setup(factory: Factory, tenant: Tenant, missions: int = 4, **vehicle: Any) -> dict[str, Any]:
    branch = await factory.branch(tenant)
    depot = await factory.depot(tenant, branch["id"])
    van = await factory.vehicle(tenant, branch["id"], **vehicle)
    ids = [
        (await mission(factory, tenant, branch["id"], latitude=lat, longitude=lng))["id"]
        for lat, lng in SPOTS[:missions]
    ]
    return {"branch": branch, "depot": depot, "vehicle": van, "missions": ids}


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
        s = await _setup(factory, tenant, capacityWeightKg=100)
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
        s = await _setup(factory, tenant)
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
        s = await _setup(factory, tenant, missions=1, capacityWeightKg=50, capacityItems=10)
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
        s = await _setup(factory, tenant, missions=5)
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
        s = await _setup(factory, tenant)
        body = {"branchId": s["branch"]["id"], "date": DAY, "timeLimitSeconds": 1}
        response = await _post(client, tenant, "/routes/auto-optimize", body, **{"Idempotency-Key": "opt-1"})
        assert response.status_code == 200, response.text
        job = response.json()["data"]
        assert (job["status"], job["progress"]) == ("succeeded", 100)
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
        assert again["result"] == {"routeIds": [], "unassigned": []}
        assert await credits(client, tenant) == 6

    async def test_short_of_credits_is_402_and_leaves_nothing(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant(credits=3)
        s = await _setup(factory, tenant)
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


@pytest.mark.usefixtures("delivering")
class TestAutoOptimizeOnTheWorker:
    async def test_big_run_is_queued_and_done_by_the_worker(
        self, client: httpx.AsyncClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        tenant, response = await _queue_job(client, factory, monkeypatch, credits=10)
        job = response.json()["data"]
        assert response.status_code == 200 and job["status"] == "queued" and job["result"] is None
        done = await _poll(client, tenant, job["jobId"])
        assert done["status"] == "SUCCEEDED" and done["progress"] == 100, done
        assert len(done["result"]["routeIds"]) == 1
        assert await credits(client, tenant) == 6

    async def test_failure_is_reported_on_the_job(
        self, client: httpx.AsyncClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        tenant, response = await _queue_job(client, factory, monkeypatch, credits=3)
        done = await _poll(client, tenant, response.json()["data"]["jobId"])
        assert done["status"] == "FAILED"
        assert done["error"]["code"] == "insufficient_credits"
        assert await _route_count(tenant) == 0 and await credits(client, tenant) == 3


async def _queue_job(
    client: httpx.AsyncClient, factory: Factory, monkeypatch: pytest.MonkeyPatch, credits: int
) -> tuple[Tenant, httpx.Response]:
    """An auto-optimize run too big to solve in its request (the limit lowered to 2 missions), so
    it is queued for the worker: the tenant and the answer."""
    monkeypatch.setattr(optimizing, "SYNC_MAX_MISSIONS", 2)
    tenant = await factory.tenant(credits=credits)
    s = await _setup(factory, tenant)
    body = {"branchId": s["branch"]["id"], "date": DAY, "timeLimitSeconds": 1}
    return tenant, await _post(client, tenant, "/routes/auto-optimize", body)


async def _poll(client: httpx.AsyncClient, tenant: Tenant, job_id: str, limit: float = 60) -> dict[str, Any]:
    query = """query($id: UUID!) { optimizationJob(id: $id) { jobId status progress
        result { routeIds unassigned { missionId reason } } error { code message } } }"""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while True:
        response = await client.post(
            "/graphql", json={"query": query, "variables": {"id": job_id}}, headers=tenant.headers("read")
        )
        job: dict[str, Any] = response.json()["data"]["optimizationJob"]
        if job["status"] in ("SUCCEEDED", "FAILED") or loop.time() > deadline:
            return job
        await asyncio.sleep(0.3)


class TestJobsLeftBehind:
    """The sweep finds auto-optimize jobs whose message was lost, or whose worker died mid-run."""

    async def _queued_job(
        self, client: httpx.AsyncClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
    ) -> tuple[Tenant, str]:
        # No broker in this process: the job's message is lost, as if Redis was away at commit.
        tenant, response = await _queue_job(client, factory, monkeypatch, credits=10)
        assert response.json()["data"]["status"] == "queued"
        return tenant, response.json()["data"]["jobId"]

    async def _age(self, tenant: Tenant, job_id: str, **values: Any) -> None:
        async with unit_of_work(Principal.system(tenant.id)) as uow:
            await uow.execute(
                update(OptimizationJob)
                .where(OptimizationJob.id == job_id)
                .values(updated_at=clock.utcnow() - dt.timedelta(hours=1), **values)
            )

    async def test_a_lost_message_is_sent_again(
        self, client: httpx.AsyncClient, factory: Factory, monkeypatch: pytest.MonkeyPatch, worker: object
    ) -> None:
        tenant, job_id = await self._queued_job(client, factory, monkeypatch)
        await asyncio.sleep(1)
        assert (await _poll(client, tenant, job_id, limit=0))["status"] == "QUEUED"
        await self._age(tenant, job_id)
        jobs.configure(get_settings().redis_url)
        try:
            await sweep_stale_jobs()
        finally:
            jobs.close()
        done = await _poll(client, tenant, job_id)
        assert done["status"] == "SUCCEEDED" and len(done["result"]["routeIds"]) == 1, done

    async def test_a_job_whose_worker_died_is_failed(
        self, client: httpx.AsyncClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        tenant, job_id = await self._queued_job(client, factory, monkeypatch)
        await self._age(tenant, job_id, status="running", progress=10)
        await sweep_stale_jobs()
        job = await _poll(client, tenant, job_id, limit=0)
        assert job["status"] == "FAILED" and job["error"]["code"] == "internal_error"
        assert "start it again" in job["error"]["message"]
        assert await _route_count(tenant) == 0 and await credits(client, tenant) == 10


async def test_progress_is_recorded_while_the_solver_runs(
    client: httpx.AsyncClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pollers see a running job's progress move, recorded in transactions of its own while the
    solver searches, then 100 once it is saved."""
    monkeypatch.setattr(optimizing, "PROGRESS_EVERY_SECONDS", 0.1)
    tenant, response = await _queue_job(client, factory, monkeypatch, credits=10)
    job_id = uuid.UUID(response.json()["data"]["jobId"])
    solve = optimizing.solve

    async def slow_solve(setting: Any) -> Any:
        await asyncio.sleep(0.6)  # a search long enough to be watched
        return await solve(setting)

    monkeypatch.setattr(optimizing, "solve", slow_solve)
    monkeypatch.setattr(optimizing, "solve_seconds", lambda setting: 0.6)
    principal = Principal.system(tenant.id)
    recorded: list[int] = []

    async def record(progress: int) -> None:
        async with unit_of_work(principal) as uow:
            await optimizing.record_progress(uow, job_id, progress)

    async def report(progress: int) -> None:
        # Bounded: were the job's row locked while it solves, this would wait for ever.
        await asyncio.wait_for(record(progress), timeout=5)
        recorded.append((await _poll(client, tenant, str(job_id), limit=0))["progress"])

    async with unit_of_work(principal) as uow:
        assert await optimizing.start_job(uow, job_id)
    async with unit_of_work(principal) as uow:
        await optimizing.run_job(uow, job_id, report)
    done = await _poll(client, tenant, str(job_id), limit=0)
    assert done["status"] == "SUCCEEDED" and done["progress"] == 100
    assert len(recorded) >= 3 and recorded == sorted(recorded), recorded
    assert all(10 < p <= 90 for p in recorded), recorded
