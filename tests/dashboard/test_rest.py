"""Dashboard counters, activity feed and charts over the reports' small operation."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from app.core import clock
from tests.fixtures import days
from tests.fixtures.factories import Factory
from tests.reports.support import DAY, NEXT, World, build


async def _get(client: httpx.AsyncClient, world: World, url: str) -> Any:
    response = await client.get(f"/api/v1{url}", headers=world.tenant.headers("read"))
    assert response.status_code == 200, response.text
    return response.json()


async def _refused(client: httpx.AsyncClient, factory: Factory, url: str, field: str) -> None:
    tenant = await factory.tenant()
    response = await client.get(f"/api/v1{url}", headers=tenant.headers("read"))
    assert response.status_code == 422, response.text
    assert [d["field"] for d in response.json()["error"]["details"]] == [field]


class TestStats:
    async def test_counters_of_a_day(self, client: httpx.AsyncClient, factory: Factory) -> None:
        world = await build(client, factory)
        data = (await _get(client, world, f"/dashboard/stats?date={DAY}&branchId={world.branch['id']}"))[
            "data"
        ]
        assert data == {
            "date": DAY, "branchId": world.branch["id"], "missionsTotal": 6, "routesTotal": 1,
            "missions": {"unassigned": 1, "scheduled": 0, "inProgress": 0, "delivered": 2, "proofed": 1,
                         "failed": 1, "cancelled": 1},
            "routes": {"planned": 0, "assigned": 0, "inProgress": 0, "completed": 1},
            "drivers": {"total": 2, "active": 2, "onRoute": 1},
            "vehicles": {"total": 1, "active": 1, "onRoute": 1},
            "creditsRemaining": 196,
        }  # fmt: skip
        # The second branch has its own mission and no fleet.
        second = await _get(
            client, world, f"/dashboard/stats?date={DAY}&branchId={world.second_branch['id']}"
        )
        assert second["data"]["missionsTotal"] == 1 and second["data"]["drivers"]["total"] == 0

    async def test_default_date_is_today_in_the_branchs_zone(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        world = await build(client, factory)
        # 22:30 in London is already tomorrow in Istanbul (UTC+3).
        evening = days.moment("22:30", zone="UTC")
        with clock.frozen(evening):
            data = (await _get(client, world, "/dashboard/stats"))["data"]
        assert data["date"] == (evening.date() + dt.timedelta(days=1)).isoformat()
        assert data["creditsRemaining"] == 196

    async def test_invalid_query_is_422(self, client: httpx.AsyncClient, factory: Factory) -> None:
        await _refused(client, factory, "/dashboard/stats?date=tomorrow", "date")
        await _refused(client, factory, "/dashboard/stats?days=7", "days")


class TestRecentActivity:
    async def test_newest_first_filtered_and_paged(self, client: httpx.AsyncClient, factory: Factory) -> None:
        world = await build(client, factory)
        entries: list[dict[str, Any]] = []
        cursor = ""
        while True:
            body = await _get(client, world, f"/dashboard/recent-activity?limit=7{cursor}")
            entries += body["data"]
            if not body["pagination"]["hasMore"]:
                break
            cursor = f"&cursor={body['pagination']['nextCursor']}"
        ids = [e["id"] for e in entries]
        assert len(ids) == len(set(ids))
        assert [e["at"] for e in entries] == sorted((e["at"] for e in entries), reverse=True)
        assert not {e["resourceId"] for e in entries} & world.foreign_ids
        # The last thing done was creating the second branch's mission.
        assert (entries[0]["resourceType"], entries[0]["action"]) == ("mission", "created")
        assert entries[0]["resourceId"] == world.missions["elsewhere"]["id"]
        assert set(entries[0]) == {
            "id",
            "at",
            "resourceType",
            "resourceId",
            "action",
            "source",
            "actor",
            "changes",
        }
        routes = (await _get(client, world, "/dashboard/recent-activity?resourceType=route"))["data"]
        assert routes and {e["resourceType"] for e in routes} == {"route"}
        assert routes[-1]["action"] == "created" and routes[-1]["resourceId"] == world.route["id"]
        kinds = {e["resourceType"] for e in entries}
        assert {"branch", "depot", "driver", "vehicle", "mission", "route"} <= kinds

    @pytest.mark.parametrize(
        ("query", "field"),
        [("resourceType=invoice", "resourceType"), ("limit=201", "limit"), ("cursor=%%%", "cursor"),
         (f"since={days.day()}", "since")],
    )  # fmt: skip
    async def test_invalid_query_is_422(
        self, client: httpx.AsyncClient, factory: Factory, query: str, field: str
    ) -> None:
        await _refused(client, factory, f"/dashboard/recent-activity?{query}", field)


class TestCharts:
    async def test_series_over_a_range(self, client: httpx.AsyncClient, factory: Factory) -> None:
        world = await build(client, factory)
        url = f"/dashboard/charts?dateFrom={DAY}&dateTo={NEXT}&branchId={world.branch['id']}"
        data = (await _get(client, world, url))["data"]
        assert (data["dateFrom"], data["dateTo"], data["branchId"]) == (DAY, NEXT, world.branch["id"])
        assert data["missionsPerDay"] == [
            {"date": DAY, "total": 6, "unassigned": 1, "scheduled": 0, "inProgress": 0, "delivered": 2,
             "proofed": 1, "failed": 1, "cancelled": 1},
            {"date": NEXT, "total": 1, "unassigned": 1, "scheduled": 0, "inProgress": 0, "delivered": 0,
             "proofed": 0, "failed": 0, "cancelled": 0},
        ]  # fmt: skip
        # Finished at 10:00, 11:30 and 12:00 Istanbul time.
        hours = {h["hour"]: h["delivered"] for h in data["deliveriesPerHour"]}
        assert list(hours) == list(range(24))
        assert {h: n for h, n in hours.items() if n} == {10: 1, 11: 1, 12: 1}
        assert data["distancePerDay"] == [
            {"date": DAY, "routes": 1, "distanceMeters": world.route["totalDistanceMeters"],
             "durationSeconds": world.route["totalDurationSeconds"]},
            {"date": NEXT, "routes": 0, "distanceMeters": 0, "durationSeconds": 0},
        ]  # fmt: skip

    async def test_last_days_up_to_today(self, client: httpx.AsyncClient, factory: Factory) -> None:
        world = await build(client, factory)
        default = (await _get(client, world, "/dashboard/charts"))["data"]
        assert (
            len(default["missionsPerDay"]) == 7 and default["missionsPerDay"][-1]["date"] == default["dateTo"]
        )
        month = (await _get(client, world, "/dashboard/charts?days=30"))["data"]
        assert len(month["distancePerDay"]) == 30

    @pytest.mark.parametrize(
        ("query", "field"),
        [("days=6", "days"), ("days=91", "days"), (f"days=7&dateFrom={DAY}&dateTo={NEXT}", "days"),
         (f"dateFrom={DAY}", "dateTo"), (f"dateTo={DAY}", "dateFrom"),
         (f"dateFrom={days.day(-366)}&dateTo={DAY}", "dateTo"),
         (f"dateFrom={NEXT}&dateTo={DAY}", "dateTo"), ("range=7", "range")],
    )  # fmt: skip
    async def test_invalid_query_is_422(
        self, client: httpx.AsyncClient, factory: Factory, query: str, field: str
    ) -> None:
        await _refused(client, factory, f"/dashboard/charts?{query}", field)
