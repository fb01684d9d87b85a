"""Lists are Cursor Connections, and every record type is a `Node` found by its id alone."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import event

from app.core import db
from tests.fixtures.factories import Factory, Tenant
from tests.graphql.client import gql
from tests.optimization_jobs.support import ASYNC, auto_optimize, plan
from tests.routes.support import plannable_day
from tests.webhooks.support import endpoint

PAGE = """query($after: String) { branches(first: 2, after: $after) {
  edges { cursor node { id name } } nodes { id }
  pageInfo { hasNextPage hasPreviousPage startCursor endCursor } totalCount } }"""
NODE = "query($id: ID!) { node(id: $id) { __typename id } }"


async def _data(client: httpx.AsyncClient, credential: str, query: str, **variables: Any) -> Any:
    body = (await gql(client, credential, query, variables)).json()
    assert "errors" not in body, body
    return body["data"]


async def test_paging_forwards_reaches_every_record_once(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    made = [(await factory.branch(tenant, name=f"B{n}"))["id"] for n in range(5)]
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = (await _data(client, tenant.read_token, PAGE, after=after))["branches"]
        pages += 1
        edges, info = page["edges"], page["pageInfo"]
        assert [e["node"]["id"] for e in edges] == [n["id"] for n in page["nodes"]]
        assert (info["startCursor"], info["endCursor"]) == (edges[0]["cursor"], edges[-1]["cursor"])
        assert info["hasPreviousPage"] is (after is not None) and page["totalCount"] == 5
        seen += [e["node"]["id"] for e in edges]
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    assert seen == made and pages == 3
    # Any edge's cursor resumes right after its node.
    first = (await _data(client, tenant.read_token, PAGE))["branches"]
    resumed = (await _data(client, tenant.read_token, PAGE, after=first["edges"][0]["cursor"]))["branches"]
    assert [n["id"] for n in resumed["nodes"]] == made[1:3]


async def test_total_count_follows_the_filters(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    branch = await factory.branch(tenant)
    await factory.vehicle(tenant, branch["id"], type="truck")
    await factory.vehicle(tenant, branch["id"])
    counts = (
        "{ all: vehicles { totalCount } trucks: vehicles(type: TRUCK) { totalCount } "
        "first: vehicles(first: 1) { totalCount nodes { id } } }"
    )
    data = await _data(client, tenant.read_token, counts)
    assert (data["all"]["totalCount"], data["trucks"]["totalCount"]) == (2, 1)
    assert data["first"]["totalCount"] == 2 and len(data["first"]["nodes"]) == 1


async def _one_of_each(client: httpx.AsyncClient, factory: Factory, tenant: Tenant) -> dict[str, str]:
    """A record of every Node type: {typename: id}."""
    day = await plannable_day(factory, tenant, 2)
    branch_id = day["branch"]["id"]
    mission = await factory.mission(tenant, branch_id)
    assignment = await factory.assignment(tenant)
    job = await auto_optimize(client, tenant, plan(day), **ASYNC)
    tokens = await client.get("/companies/me/api-tokens", headers=tenant.headers("admin"))
    user = await factory.mobile_user(tenant)
    return {
        "Branch": branch_id,
        "Depot": (await factory.depot(tenant, branch_id))["id"],
        "Vehicle": (await factory.vehicle(tenant, branch_id))["id"],
        "Driver": (await factory.driver(tenant, branch_id))["id"],
        "Route": (await factory.route(tenant, branch_id))["id"],
        "Mission": mission["id"],
        "VehicleDriverAssignment": assignment["id"],
        "OptimizationJob": job.json()["data"]["id"],
        "ApiToken": tokens.json()["data"][0]["id"],
        "MobileUser": user["id"],
        "WebhookEndpoint": (await endpoint(client, tenant, "https://hooks.example.com/in"))["id"],
    }


async def test_node_finds_every_record_type(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant, other = await factory.tenant(credits=50), await factory.tenant()
    records = await _one_of_each(client, factory, tenant)
    for typename, record_id in records.items():
        found = (await _data(client, tenant.admin_session, NODE, id=record_id))["node"]
        assert found == {"__typename": typename, "id": record_id}
        # Another company's id is not found, exactly like one that names nothing.
        assert (await _data(client, other.admin_session, NODE, id=record_id))["node"] is None
    ids = [records["Mission"], "00000000-0000-4000-8000-000000000000", "not-an-id", records["Branch"]]
    many = await _data(client, tenant.read_token, "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", ids=ids)
    assert many["nodes"] == [{"id": records["Mission"]}, None, None, {"id": records["Branch"]}]
    # Each type keeps its scope: a token cannot read API tokens through `node` either.
    refused = (await gql(client, tenant.read_token, NODE, {"id": records["ApiToken"]})).json()
    assert refused["errors"][0]["extensions"]["code"] == "insufficient_scope"


async def test_a_mission_shows_its_driver_and_vehicle(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    branch = await factory.branch(tenant)
    driver, vehicle = await factory.driver(tenant, branch["id"]), await factory.vehicle(tenant, branch["id"])
    mission = await factory.mission(tenant, branch["id"])
    route = await factory.route(
        tenant, branch["id"], driverId=driver["id"], vehicleId=vehicle["id"], missionIds=[mission["id"]]
    )
    loose = await factory.mission(tenant, branch["id"])
    query = (
        "query($id: ID!) { node(id: $id) { ... on Mission { driver { id } vehicle { id } route { id } } } }"
    )
    on_route = (await _data(client, tenant.read_token, query, id=mission["id"]))["node"]
    assert on_route == {
        "driver": {"id": driver["id"]},
        "vehicle": {"id": vehicle["id"]},
        "route": {"id": route["id"]},
    }
    assert (await _data(client, tenant.read_token, query, id=loose["id"]))["node"] == {
        "driver": None,
        "vehicle": None,
        "route": None,
    }


async def test_a_page_of_missions_loads_each_neighbour_kind_in_one_query(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.tenant()
    branch = await factory.branch(tenant)
    for _ in range(2):
        missions = [(await factory.mission(tenant, branch["id"]))["id"] for _ in range(3)]
        driver, vehicle = (
            await factory.driver(tenant, branch["id"]),
            await factory.vehicle(tenant, branch["id"]),
        )
        await factory.route(
            tenant, branch["id"], driverId=driver["id"], vehicleId=vehicle["id"], missionIds=missions
        )
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    query = "{ missions { nodes { id route { id stops { missionId } } driver { id } vehicle { id } } } }"
    engine = db.engine().sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        page = (await _data(client, tenant.read_token, query))["missions"]["nodes"]
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(page) == 6 and all(m["route"] and m["driver"] and m["vehicle"] for m in page)
    assert all(len(m["route"]["stops"]) == 3 for m in page)
    # Each kind of neighbour is read once for the whole page (the routes' stops: one read of their
    # missions), whatever the number of missions on it.
    for table in ("route", "driver", "vehicle", "mission"):
        reads = [s for s in statements if f"FROM {table} \nWHERE {table}.company_id" in s]
        assert len(reads) == 1, (table, statements)
