"""Where the contract's "Decisions that settle common questions" are easy to get wrong."""

from __future__ import annotations

import httpx

from tests.fixtures.factories import Factory


async def test_a_nul_character_is_a_422_on_its_field(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    body = b'{"name": "Van", "type": "van", "branchId": "%s", "notes": "a\\u0000b"}'
    branch = await factory.branch(tenant)
    response = await client.post(
        "/api/v1/vehicles", content=body.replace(b"%s", branch["id"].encode()),
        headers=tenant.headers(**{"Content-Type": "application/json"}),
    )  # fmt: skip
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"][0]["field"] == "notes"
    query = "mutation($i: CreateBranchInput!) { createBranch(input: $i) { ... on Branch { id } ...Refusal } }"
    graphql = await client.post(
        "/graphql", content=b'{"query": "%s", "variables": {"i": {"name": "x\\u0000"}}}' % query.encode(),
        headers=tenant.headers("admin", **{"Content-Type": "application/json"}),
    )  # fmt: skip
    assert graphql.status_code == 422 and graphql.json()["error"]["details"][0]["field"] == "variables.i.name"


async def test_a_missing_record_is_404_before_a_body_too_large(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.tenant()
    huge = b'{"name": "' + b"x" * (6 * 1024 * 1024) + b'"}'
    missing = await client.patch(
        "/api/v1/vehicles/00000000-0000-4000-8000-000000000000", content=huge,
        headers=tenant.headers(**{"Content-Type": "application/json"}),
    )  # fmt: skip
    assert missing.status_code == 404
    vehicle = await factory.vehicle(tenant)
    too_large = await client.patch(
        f"/api/v1/vehicles/{vehicle['id']}", content=huge,
        headers=tenant.headers(**{"Content-Type": "application/json"}),
    )  # fmt: skip
    assert too_large.status_code == 413


async def test_a_repeatable_query_parameter_is_named_as_sent(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.tenant()
    response = await client.get(
        "/api/v1/missions",
        params=[("status", "scheduled"), ("status", "lost")],
        headers=tenant.headers("read"),
    )
    assert response.status_code == 422
    assert [d["field"] for d in response.json()["error"]["details"]] == ["status"]


async def test_export_rows_of_missions_on_no_route_carry_null_names(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.tenant()
    mission = await factory.mission(tenant)
    response = await client.get("/api/v1/missions/export", headers=tenant.headers("read"))
    [row] = [r for r in response.json()["data"] if r["id"] == mission["id"]]
    assert (row["routeName"], row["driverName"], row["vehicleName"]) == (None, None, None)


async def test_a_list_filter_naming_another_companys_record_is_422(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant, other = await factory.tenant(), await factory.tenant()
    foreign_branch, foreign_driver = await factory.branch(other), await factory.driver(other)
    for path, params, field in (
        ("/api/v1/missions", {"branchId": foreign_branch["id"]}, "branchId"),
        ("/api/v1/routes", {"driverId": foreign_driver["id"]}, "driverId"),
        ("/api/v1/vehicles", {"branchId": "00000000-0000-4000-8000-000000000000"}, "branchId"),
        ("/api/v1/optimization-jobs", {"branchId": foreign_branch["id"]}, "branchId"),
    ):
        response = await client.get(path, params=params, headers=tenant.headers("read"))
        assert response.status_code == 422, (path, response.text)
        assert response.json()["error"]["details"] == [
            {"field": field, "issue": "does not name a record of your company"}
        ]
    mine = await factory.branch(tenant)
    assert (await client.get("/api/v1/missions", params={"branchId": mine["id"]},
                             headers=tenant.headers("read"))).status_code == 200  # fmt: skip
