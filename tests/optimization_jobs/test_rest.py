"""Auto-optimize jobs an integrator follows over REST: `Prefer: respond-async`, the jobs list, one
job, cancel, and the engine chosen per request."""

from __future__ import annotations

import uuid

import httpx
import pytest

from app.core.db import unit_of_work
from app.core.principal import Principal
from app.optimization_jobs import service as jobs
from app.settings import get_settings
from tests.fixtures.factories import Factory
from tests.optimization_jobs.support import ASYNC, JOBS, auto_optimize, follow, job_row, plan
from tests.routes.support import DAY, changes, credits, plannable_day
from tests.routes.test_planning import _route_count as route_count


@pytest.mark.usefixtures("delivering")
class TestRespondAsync:
    async def test_202_then_followed_to_the_end(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant(credits=10)
        day = await plannable_day(factory, tenant)
        response = await auto_optimize(client, tenant, plan(day, engine="ortools"), **ASYNC)
        assert response.status_code == 202, response.text
        job = response.json()["data"]
        assert response.headers["location"] == f"{JOBS}/{job['id']}"
        assert response.headers["preference-applied"] == "respond-async"
        assert (job["status"], job["progress"], job["result"], job["startedAt"]) == ("queued", 0, None, None)
        assert (job["engine"], job["branchId"], job["date"]) == ("ortools", day["branch"]["id"], DAY)
        done = await follow(client, tenant, job["id"])
        assert (done["status"], done["progress"], done["error"]) == ("succeeded", 100, None), done
        assert done["createdAt"] <= done["startedAt"] <= done["finishedAt"]
        (route_id,) = done["result"]["routeIds"]
        assert done["result"]["creditsCharged"] == 4 and done["result"]["unassigned"] == []
        assert await credits(client, tenant) == 6
        kinds = [e.type for e in await changes(tenant.id)]
        assert kinds.count("route.created") == kinds.count("route.optimized") == 1
        route = await client.get(f"/api/v1/routes/{route_id}", headers=tenant.headers("read"))
        assert route.json()["data"]["optimizedAt"] is not None

    async def test_a_refusal_fails_the_job_and_saves_nothing(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant(credits=3)
        day = await plannable_day(factory, tenant)
        response = await auto_optimize(client, tenant, plan(day), **ASYNC)
        done = await follow(client, tenant, response.json()["data"]["id"])
        assert done["status"] == "failed" and done["progress"] == 100 and done["result"] is None
        assert done["error"]["code"] == "insufficient_credits"
        assert done["error"]["details"] == {"required": 4, "remaining": 3}
        assert await route_count(tenant) == 0 and await credits(client, tenant) == 3

    async def test_prefer_among_other_preferences(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant(credits=10)
        day = await plannable_day(factory, tenant, missions=1)
        prefer = {"Prefer": "return=minimal, RESPOND-ASYNC; foo=bar, wait=10"}
        assert (await auto_optimize(client, tenant, plan(day), **prefer)).status_code == 202
        # Another branch's day: the queued job may be saving the first one's missions meanwhile.
        other_day = await plannable_day(factory, tenant, missions=1)
        unknown = await auto_optimize(client, tenant, plan(other_day), Prefer="respond-asynchronously")
        assert unknown.status_code == 200 and "preference-applied" not in unknown.headers


class TestWithoutPreference:
    async def test_answers_the_finished_job(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant(credits=20)
        day = await plannable_day(factory, tenant, missions=12)
        response = await auto_optimize(client, tenant, plan(day))
        assert response.status_code == 200 and "location" not in response.headers
        job = response.json()["data"]
        default = get_settings().optimizer_engine
        assert (job["status"], job["engine"], job["result"]["creditsCharged"]) == ("succeeded", default, 12)
        assert (await follow(client, tenant, job["id"])) == job

    async def test_engine_is_validated(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        day = await plannable_day(factory, tenant, missions=1)
        for body in (plan(day, engine="gurobi"), plan(day, engine=1)):
            response = await auto_optimize(client, tenant, body)
            assert response.status_code == 422
            assert [d["field"] for d in response.json()["error"]["details"]] == ["engine"]
        assert (await client.get(JOBS, headers=tenant.headers("read"))).json()["data"] == []


class TestList:
    async def test_filters_and_pages(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant, other = await factory.tenant(credits=20), await factory.tenant(credits=20)
        first, second = await plannable_day(factory, tenant, 2), await plannable_day(factory, tenant, 2)
        # No broker in this process: queued jobs stay queued.
        queued = (await auto_optimize(client, tenant, plan(first), **ASYNC)).json()["data"]
        done = (await auto_optimize(client, tenant, plan(second))).json()["data"]
        await auto_optimize(client, other, plan(await plannable_day(factory, other, 1)))

        async def ids(**params: object) -> list[str]:
            response = await client.get(JOBS, params=params, headers=tenant.headers("read"))
            assert response.status_code == 200, response.text
            return [j["id"] for j in response.json()["data"]]

        assert await ids() == [queued["id"], done["id"]]
        assert await ids(status="queued") == [queued["id"]]
        assert await ids(status=["succeeded", "failed"]) == [done["id"]]
        assert await ids(branchId=second["branch"]["id"]) == [done["id"]]
        assert await ids(date=DAY, limit=1) == [queued["id"]]
        page = await client.get(JOBS, params={"limit": 1}, headers=tenant.headers("read"))
        assert await ids(limit=1, cursor=page.json()["pagination"]["nextCursor"]) == [done["id"]]
        for params, field in (({"status": "lost"}, "status"), ({"date": "soon"}, "date"),
                              ({"limit": 0}, "limit"), ({"branchId": "x"}, "branchId")):  # fmt: skip
            bad = await client.get(JOBS, params=params, headers=tenant.headers("read"))
            assert bad.status_code == 422, params
            assert field in bad.json()["error"]["details"][0]["field"]

    async def test_another_companys_job_is_not_found(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant, other = await factory.tenant(credits=20), await factory.tenant()
        day = await plannable_day(factory, tenant, 1)
        job = (await auto_optimize(client, tenant, plan(day))).json()["data"]
        for url in (f"{JOBS}/{job['id']}", f"{JOBS}/{uuid.uuid4()}", f"{JOBS}/nope"):
            assert (await client.get(url, headers=other.headers("read"))).status_code == 404
        cancel = await client.post(f"{JOBS}/{job['id']}/cancel", headers=other.headers())
        assert cancel.status_code == 404


class TestCancel:
    async def test_a_queued_job_is_cancelled_once(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant(credits=20)
        day = await plannable_day(factory, tenant)
        job = (await auto_optimize(client, tenant, plan(day), **ASYNC)).json()["data"]
        url = f"{JOBS}/{job['id']}/cancel"
        assert (await client.post(url, headers=tenant.headers("read"))).status_code == 403
        first = await client.post(url, headers=tenant.headers(**{"Idempotency-Key": "stop-1"}))
        assert first.status_code == 200, first.text
        cancelled = first.json()["data"]
        assert (cancelled["status"], cancelled["progress"], cancelled["result"]) == ("cancelled", 100, None)
        assert cancelled["finishedAt"] is not None
        replay = await client.post(url, headers=tenant.headers(**{"Idempotency-Key": "stop-1"}))
        assert replay.headers["idempotent-replayed"] == "true" and replay.content == first.content
        again = await client.post(url, headers=tenant.headers())
        assert again.status_code == 409 and again.json()["error"]["details"] == {"status": "cancelled"}
        # A message for it arriving late starts nothing.
        async with unit_of_work(Principal.system(tenant.id)) as uow:
            assert await jobs.begin_run(uow, uuid.UUID(job["id"])) is None
        assert await route_count(tenant) == 0 and await credits(client, tenant) == 20

    async def test_a_running_job_saves_nothing(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant(credits=20)
        day = await plannable_day(factory, tenant)
        job_id = (await auto_optimize(client, tenant, plan(day), **ASYNC)).json()["data"]["id"]
        principal = Principal.system(tenant.id)
        async with unit_of_work(principal) as uow:
            run_number = await jobs.begin_run(uow, uuid.UUID(job_id))
        assert run_number == 1
        cancelled = await client.post(f"{JOBS}/{job_id}/cancel", headers=tenant.headers())
        assert cancelled.json()["data"]["status"] == "cancelled"

        async def report(progress: int) -> bool:
            async with unit_of_work(principal) as uow:
                return await jobs.record_progress(uow, uuid.UUID(job_id), run_number, progress)

        await jobs.run(principal, uuid.UUID(job_id), run_number, report)
        assert (await job_row(tenant, job_id)).status == "cancelled"
        assert await route_count(tenant) == 0 and await credits(client, tenant) == 20

    async def test_a_finished_job_is_409(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant(credits=20)
        day = await plannable_day(factory, tenant, 1)
        job = (await auto_optimize(client, tenant, plan(day))).json()["data"]
        response = await client.post(f"{JOBS}/{job['id']}/cancel", headers=tenant.headers())
        assert response.status_code == 409
        error = response.json()["error"]
        assert (error["code"], error["details"]) == ("conflict", {"status": "succeeded"})
        assert error["message"] == "The job is already succeeded."


async def test_documented_in_openapi(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert {"get"} <= set(paths[JOBS]) and {"get"} <= set(paths[f"{JOBS}/{{id}}"])
    cancel = paths[f"{JOBS}/{{id}}/cancel"]["post"]
    assert cancel["x-scope"] == "write" and "409" in cancel["responses"]
    start = paths["/api/v1/routes/auto-optimize"]["post"]
    assert {"200", "202", "402"} <= set(start["responses"])
    assert set(start["responses"]["202"]["headers"]) == {"Location", "Preference-Applied"}
    assert "Prefer" in [p["name"] for p in start["parameters"] if p["in"] == "header"]
    engine = start["requestBody"]["content"]["application/json"]["schema"]
    assert engine
