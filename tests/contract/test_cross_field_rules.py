"""Rules that read several fields name the offending field in `details`, never `body`: the same
field on REST and, under `input.`, on GraphQL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.core import jsonutil
from tests.fixtures import days
from tests.fixtures.factories import Factory, Tenant
from tests.graphql.client import gql


def _fields(response: httpx.Response) -> list[str]:
    """The fields a refusal names: REST's envelope, or a mutation's typed ValidationError."""
    body = response.json()
    if "error" in body:
        return [d["field"] for d in body["error"]["details"]]
    [refused] = body["data"].values()
    assert refused["__typename"] == "ValidationError", body
    return [issue["field"] for issue in refused["fields"]]


@pytest.fixture
async def fleet(factory: Factory) -> dict[str, Any]:
    tenant = await factory.tenant()
    branch = await factory.branch(tenant)
    return {
        "tenant": tenant,
        "branch": branch,
        "vehicle": await factory.vehicle(tenant, branch["id"]),
        "driver": await factory.driver(tenant, branch["id"]),
        "mission": await factory.mission(tenant, branch["id"]),
        "other": await factory.mission(tenant, branch["id"]),
    }


async def _both(
    client: httpx.AsyncClient, tenant: Tenant, path: str, mutation: str, type_name: str, body: dict[str, Any]
) -> tuple[list[str], list[str]]:
    rest = await client.post(f"/api/v1{path}", json=body, headers=tenant.headers())
    assert rest.status_code == 422, rest.text
    query = (
        f"mutation($i: {type_name}!) {{ {mutation}(input: $i) {{ __typename ... on ValidationError "
        "{ fields { field issue } } } }"
    )
    graphql = await gql(client, tenant.admin_session, query, {"i": body})
    return _fields(rest), _fields(graphql)


async def test_time_window_end(client: httpx.AsyncClient, fleet: dict[str, Any]) -> None:
    body = {"branchId": fleet["branch"]["id"], "date": days.day(), "latitude": 41.0, "longitude": 29.0,
            "timeWindowStart": "12:00", "timeWindowEnd": "09:00"}  # fmt: skip
    rest, graphql = await _both(
        client, fleet["tenant"], "/missions", "createMission", "CreateMissionInput", body
    )
    assert rest == ["timeWindowEnd"] and graphql == ["input.timeWindowEnd"]


async def test_time_window_of_a_patch_names_the_field_sent(
    client: httpx.AsyncClient, fleet: dict[str, Any]
) -> None:
    tenant, mission = fleet["tenant"], fleet["mission"]
    await client.patch(
        f"/api/v1/missions/{mission['id']}",
        json={"timeWindowStart": "09:00", "timeWindowEnd": "12:00"},
        headers=tenant.headers(),
    )
    rest = await client.patch(
        f"/api/v1/missions/{mission['id']}", json={"timeWindowStart": "13:00"}, headers=tenant.headers()
    )
    assert rest.status_code == 422 and _fields(rest) == ["timeWindowStart"]
    query = (
        "mutation($id: UUID!, $i: UpdateMissionInput!) { updateMission(id: $id, input: $i) {"
        " __typename ... on ValidationError { fields { field issue } } } }"
    )
    graphql = await gql(
        client, tenant.admin_session, query, {"id": mission["id"], "i": {"timeWindowEnd": "08:00"}}
    )
    assert _fields(graphql) == ["timeWindowEnd"]


async def test_ends_at(client: httpx.AsyncClient, fleet: dict[str, Any]) -> None:
    body = {"vehicleId": fleet["vehicle"]["id"], "driverId": fleet["driver"]["id"],
            "startsAt": days.at("18:00"), "endsAt": days.at("06:00")}  # fmt: skip
    rest, graphql = await _both(
        client, fleet["tenant"], "/vehicle-driver-assignments", "createVehicleDriverAssignment",
        "CreateVehicleDriverAssignmentInput", body,
    )  # fmt: skip
    assert rest == ["endsAt"] and graphql == ["input.endsAt"]


async def test_a_repeated_mission_id(client: httpx.AsyncClient, fleet: dict[str, Any]) -> None:
    ids = [fleet["mission"]["id"], fleet["other"]["id"], fleet["mission"]["id"]]
    body = {"branchId": fleet["branch"]["id"], "date": days.day(), "missionIds": ids}
    rest, graphql = await _both(client, fleet["tenant"], "/routes", "createRoute", "CreateRouteInput", body)
    assert rest == ["missionIds[2]"] and graphql == ["input.missionIds[2]"]


async def test_a_branch_needs_both_coordinates(client: httpx.AsyncClient, fleet: dict[str, Any]) -> None:
    body = {"name": "Half", "latitude": 41.0}
    rest, graphql = await _both(
        client, fleet["tenant"], "/branches", "createBranch", "CreateBranchInput", body
    )
    assert rest == ["longitude"] and graphql == ["input.longitude"]


async def test_required_fields_of_a_patch_are_named(client: httpx.AsyncClient, fleet: dict[str, Any]) -> None:
    tenant, mission = fleet["tenant"], fleet["mission"]
    rest = await client.patch(
        f"/api/v1/missions/{mission['id']}",
        json={"priority": None, "latitude": None},
        headers=tenant.headers(),
    )
    assert rest.status_code == 422 and _fields(rest) == ["latitude", "priority"]


async def test_query_dates_are_iso_8601_only(client: httpx.AsyncClient, fleet: dict[str, Any]) -> None:
    headers = fleet["tenant"].headers()
    for query, field in [("updatedSince=0.5", "updatedSince"), ("date=0", "date"),
                         (f"updatedSince={days.day()}T10:00:00", "updatedSince")]:  # fmt: skip
        response = await client.get(f"/api/v1/missions?{query}", headers=headers)
        assert response.status_code == 422 and _fields(response) == [field], query
    for body_date in ["0", "20261126"]:
        body = {"branchId": fleet["branch"]["id"], "date": body_date, "latitude": 41.0, "longitude": 29.0}
        response = await client.post("/api/v1/missions", json=body, headers=headers)
        assert response.status_code == 422 and _fields(response) == ["date"], body_date


async def test_an_unserved_method_of_a_concrete_path_is_405(
    client: httpx.AsyncClient, fleet: dict[str, Any]
) -> None:
    headers = fleet["tenant"].headers()
    response = await client.patch("/api/v1/missions/bulk", json={}, headers=headers)
    assert response.status_code == 405 and response.headers["allow"] == "POST"
    response = await client.request("OPTIONS", f"/api/v1/missions/{fleet['mission']['id']}", headers=headers)
    assert response.status_code == 405 and response.headers["allow"] == "DELETE, GET, HEAD, PATCH"


async def test_a_bulk_item_with_a_number_beyond_64_bits_fails_alone(
    client: httpx.AsyncClient, fleet: dict[str, Any]
) -> None:
    item = {"branchId": fleet["branch"]["id"], "date": days.day(), "latitude": 41.0, "longitude": 29.0}
    huge = jsonutil.dumps(item)[:-1] + b', "items": 1000000000000000000000000}'  # 25 digits
    body = b'{"missions": [%s, %s]}' % (jsonutil.dumps({**item, "items": 1}), huge)
    headers = fleet["tenant"].headers(**{"Content-Type": "application/json"})
    response = await client.post("/api/v1/missions/bulk", content=body, headers=headers)
    assert response.status_code == 200, response.text
    first, second = response.json()["data"]
    assert first["status"] == "created"
    assert second["status"] == "error" and second["error"]["details"][0]["field"] == "items"
