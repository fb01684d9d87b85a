"""The same reports and dashboard through GraphQL: same figures, same refusals."""

from __future__ import annotations

import httpx

from tests.fixtures import days
from tests.fixtures.factories import Factory
from tests.graphql.client import gql
from tests.reports.support import DAY, NEXT, build

QUERY = """query($from: Date!, $to: Date!, $branch: UUID) {
  reportOverview(dateFrom: $from, dateTo: $to, branchId: $branch) {
    missions { total delivered byStatus { proofed failed } }
    onTime { evaluated onTime late rate }
    credits { consumed refunded net }
    daily { date missions }
  }
  reportDrivers(dateFrom: $from, dateTo: $to, branchId: $branch, first: 1) {
    nodes { driverId missions onTimeRate } pageInfo { endCursor hasNextPage }
  }
  reportFailures(dateFrom: $from, dateTo: $to) { nodes { missionId failureReason } }
  dashboardStats(date: $from, branchId: $branch) { missionsTotal creditsRemaining drivers { onRoute } }
  dashboardRecentActivity(first: 2, resourceType: ROUTE) { nodes { resourceType action changes { field } } }
  dashboardCharts(dateFrom: $from, dateTo: $to) { deliveriesPerHour { hour delivered } }
}"""


async def test_reports_and_dashboard(client: httpx.AsyncClient, factory: Factory) -> None:
    world = await build(client, factory)
    variables = {"from": DAY, "to": NEXT, "branch": world.branch["id"]}
    body = (await gql(client, world.tenant.read_token, QUERY, variables)).json()
    assert "errors" not in body, body
    data = body["data"]
    overview = data["reportOverview"]
    assert overview["missions"] == {"total": 7, "delivered": 3, "byStatus": {"proofed": 1, "failed": 1}}
    assert overview["onTime"] == {"evaluated": 2, "onTime": 1, "late": 1, "rate": 0.5}
    assert overview["credits"] == {"consumed": 5, "refunded": 1, "net": 4}
    assert [d["date"] for d in overview["daily"]] == [DAY, NEXT]
    drivers = data["reportDrivers"]
    assert drivers["nodes"] == [{"driverId": world.driver["id"], "missions": 4, "onTimeRate": 0.5}]
    assert drivers["pageInfo"]["hasNextPage"] is True and drivers["pageInfo"]["endCursor"]
    assert data["reportFailures"]["nodes"][0]["failureReason"] == "customer absent"
    assert data["dashboardStats"] == {"missionsTotal": 6, "creditsRemaining": 196, "drivers": {"onRoute": 1}}
    assert {e["resourceType"] for e in data["dashboardRecentActivity"]["nodes"]} == {"route"}
    assert sum(h["delivered"] for h in data["dashboardCharts"]["deliveriesPerHour"]) == 3


async def test_refusals_match_rest(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    period = f'dateFrom: "{days.day(-517)}", dateTo: "{days.day()}"'
    query = f"query {{ reportOverview({period}) {{ missions {{ total }} }} }}"
    [error] = (await gql(client, tenant.read_token, query)).json()["errors"]
    assert error["extensions"]["code"] == "validation_error"
    assert error["extensions"]["details"][0]["field"] == "dateTo"
    query = "query { dashboardCharts(days: 3) { dateFrom } }"
    [error] = (await gql(client, tenant.read_token, query)).json()["errors"]
    assert error["extensions"]["details"][0]["field"] == "days"
