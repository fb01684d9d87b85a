"""Reports over a small, exactly known operation (see support.py)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.fixtures import days
from tests.fixtures.factories import Factory
from tests.reports.support import DAY, NEXT, World, build

PERIOD = f"dateFrom={DAY}&dateTo={NEXT}"
LONG_AGO = days.day(-700)  # a day with nothing on it


async def _get(client: httpx.AsyncClient, world: World, url: str, status: int = 200) -> Any:
    response = await client.get(f"/api/v1{url}", headers=world.tenant.headers("read"))
    assert response.status_code == status, response.text
    return response.json()


class TestOverview:
    async def test_exact_figures_for_a_branch(self, client: httpx.AsyncClient, factory: Factory) -> None:
        world = await build(client, factory)
        data = (await _get(client, world, f"/reports/overview?{PERIOD}&branchId={world.branch['id']}"))[
            "data"
        ]
        assert data["period"] == {"dateFrom": DAY, "dateTo": NEXT, "days": 2, "branchId": world.branch["id"]}
        assert data["missions"] == {
            "total": 7, "delivered": 3, "completionRate": 0.75,
            "byStatus": {"unassigned": 2, "scheduled": 0, "inProgress": 0, "delivered": 2, "proofed": 1,
                         "failed": 1, "cancelled": 1},
        }  # fmt: skip
        # 10:00 inside 09:00-12:00; 11:30 after 10:00; the window-less one is not rated.
        assert data["onTime"] == {
            "evaluated": 2, "onTime": 1, "early": 0, "late": 1, "withoutWindow": 1, "rate": 0.5,
        }  # fmt: skip
        assert data["failures"] == {"total": 1, "reasons": [{"reason": "customer absent", "count": 1}]}
        assert data["proof"] == {"required": 2, "proofed": 1, "pending": 1, "rate": 0.5}
        distance, duration = world.route["totalDistanceMeters"], world.route["totalDurationSeconds"]
        assert distance > 0
        assert data["routes"] == {
            "total": 1, "completed": 1, "totalDistanceMeters": distance, "totalDurationSeconds": duration,
            "byStatus": {"planned": 0, "assigned": 0, "inProgress": 0, "completed": 1},
        }  # fmt: skip
        # Five missions scheduled, the cancelled one (never started) refunded.
        assert data["credits"] == {"consumed": 5, "refunded": 1, "net": 4}
        assert data["daily"] == [
            {"date": DAY, "missions": 6, "delivered": 3, "failed": 1, "cancelled": 1, "onTime": 1,
             "routes": 1, "distanceMeters": distance, "durationSeconds": duration},
            {"date": NEXT, "missions": 1, "delivered": 0, "failed": 0, "cancelled": 0, "onTime": 0,
             "routes": 0, "distanceMeters": 0, "durationSeconds": 0},
        ]  # fmt: skip

    async def test_company_wide_counts_every_branch_and_no_other_company(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        world = await build(client, factory)
        data = (await _get(client, world, f"/reports/overview?{PERIOD}"))["data"]
        assert data["missions"]["total"] == 8  # the second branch's mission too
        assert data["failures"]["reasons"] == [{"reason": "customer absent", "count": 1}]
        assert data["routes"]["total"] == 1
        # An empty period is all zeros, with null rates.
        empty = await _get(client, world, f"/reports/overview?dateFrom={LONG_AGO}&dateTo={LONG_AGO}")
        empty = empty["data"]
        assert empty["missions"]["total"] == 0 and empty["onTime"]["rate"] is None
        assert empty["proof"]["rate"] is None and empty["daily"][0]["missions"] == 0

    @pytest.mark.parametrize(
        ("query", "field"),
        [
            (f"dateTo={DAY}", "dateFrom"),
            (f"dateFrom={DAY}", "dateTo"),
            (f"dateFrom={NEXT}&dateTo={DAY}", "dateTo"),
            (f"dateFrom={days.day(-366)}&dateTo={DAY}", "dateTo"),  # 367 days
            (f"dateFrom=26-11-2026&dateTo={DAY}", "dateFrom"),
            (f"{PERIOD}&status=failed", "status"),
            (f"{PERIOD}&branchId=not-a-uuid", "branchId"),
        ],
    )
    async def test_invalid_query_is_422(
        self, client: httpx.AsyncClient, factory: Factory, query: str, field: str
    ) -> None:
        tenant = await factory.tenant()
        response = await client.get(f"/api/v1/reports/overview?{query}", headers=tenant.headers("read"))
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "validation_error"
        assert [d["field"] for d in response.json()["error"]["details"]] == [field]

    async def test_a_full_year_is_allowed(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        url = f"/api/v1/reports/overview?dateFrom={days.day(-365)}&dateTo={DAY}"
        response = await client.get(url, headers=tenant.headers("read"))
        assert response.status_code == 200 and len(response.json()["data"]["daily"]) == 366

    async def test_another_companys_branch_is_422(self, client: httpx.AsyncClient, factory: Factory) -> None:
        world = await build(client, factory)
        branch = await factory.branch(world.other)
        response = await client.get(
            f"/api/v1/reports/overview?{PERIOD}&branchId={branch['id']}", headers=world.tenant.headers("read")
        )
        assert response.status_code == 422
        assert response.json()["error"]["details"] == [
            {"field": "branchId", "issue": "does not name a record of your company"}
        ]


class TestDetails:
    async def test_sections(self, client: httpx.AsyncClient, factory: Factory) -> None:
        world = await build(client, factory)
        m, branch = world.missions, world.branch["id"]

        async def rows(section: str) -> list[dict[str, Any]]:
            body = await _get(client, world, f"/reports/details/{section}?{PERIOD}&branchId={branch}")
            assert body["pagination"] == {"limit": 50, "nextCursor": None, "hasMore": False}
            return body["data"]  # type: ignore[no-any-return]

        missions = {r["id"]: r for r in await rows("missions")}
        assert set(missions) == {v["id"] for k, v in m.items() if k != "elsewhere"}
        assert missions[m["proofed"]["id"]]["onTime"] is True
        assert missions[m["late"]["id"]]["onTime"] is False
        assert missions[m["no_window"]["id"]]["onTime"] is None
        assert missions[m["proofed"]["id"]]["finishedAt"] == days.at("10:00", zone=days.ZONE)
        assert missions[m["proofed"]["id"]]["driverId"] == world.driver["id"]

        [route] = await rows("routes")
        assert (route["id"], route["stops"], route["delivered"], route["failed"]) == (
            world.route["id"], 4, 3, 1,
        )  # fmt: skip

        drivers = {r["driverId"]: r for r in await rows("drivers")}
        assert drivers[world.driver["id"]] == {
            "driverId": world.driver["id"], "name": f"{world.driver['firstName']} {world.driver['lastName']}",
            "branchId": branch, "status": "active", "routes": 1, "completedRoutes": 1, "missions": 4,
            "delivered": 3, "failed": 1, "onTime": 1, "evaluated": 2, "onTimeRate": 0.5,
            "distanceMeters": world.route["totalDistanceMeters"],
            "durationSeconds": world.route["totalDurationSeconds"],
        }  # fmt: skip
        idle = drivers[world.idle_driver["id"]]
        assert (idle["routes"], idle["missions"], idle["onTimeRate"]) == (0, 0, None)

        [vehicle] = await rows("vehicles")
        assert vehicle["vehicleId"] == world.vehicle["id"]
        # 10 + 20 + 30 + 40 kg on a 200 kg van; the cancelled mission left the route.
        assert (vehicle["routes"], vehicle["stops"], vehicle["loadWeightKg"]) == (1, 4, 100.0)
        assert (vehicle["weightUtilization"], vehicle["volumeUtilization"]) == (0.5, None)

        [failure] = await rows("failures")
        assert (failure["missionId"], failure["failureReason"]) == (m["failed"]["id"], "customer absent")

        proof = {r["missionId"]: r for r in await rows("proof")}
        assert set(proof) == {m["proofed"]["id"], m["no_window"]["id"]}
        assert (
            proof[m["proofed"]["id"]]["proofed"] is True and proof[m["no_window"]["id"]]["proofed"] is False
        )

    async def test_pages_never_skip_or_repeat(self, client: httpx.AsyncClient, factory: Factory) -> None:
        world = await build(client, factory)
        seen: list[str] = []
        cursor = ""
        for _ in range(5):
            body = await _get(client, world, f"/reports/details/missions?{PERIOD}&limit=3{cursor}")
            seen += [r["id"] for r in body["data"]]
            if not body["pagination"]["hasMore"]:
                break
            cursor = f"&cursor={body['pagination']['nextCursor']}"
        assert len(seen) == len(set(seen)) == 8
        assert not set(seen) & world.foreign_ids

    async def test_other_company_sees_only_its_own(self, client: httpx.AsyncClient, factory: Factory) -> None:
        world = await build(client, factory)
        response = await client.get(
            f"/api/v1/reports/details/failures?{PERIOD}", headers=world.other.headers("read")
        )
        [row] = response.json()["data"]
        assert row["failureReason"] == "foreign reason" and row["missionId"] in world.foreign_ids

    async def test_unknown_section_is_404(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        response = await client.get(
            f"/api/v1/reports/details/payroll?{PERIOD}", headers=tenant.headers("read")
        )
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"

    async def test_invalid_query_is_422(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        for query, field in (
            (f"{PERIOD}&limit=0", "limit"),
            (f"{PERIOD}&cursor=garbage", "cursor"),
            (f"dateFrom={days.day(-517)}&dateTo={DAY}", "dateTo"),
        ):
            response = await client.get(
                f"/api/v1/reports/details/drivers?{query}", headers=tenant.headers("read")
            )
            assert response.status_code == 422, query
            assert response.json()["error"]["details"][0]["field"] == field
