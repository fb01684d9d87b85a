from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import event

from app.core import db
from app.graphql.schema import schema
from tests.fixtures.factories import Factory, Tenant
from tests.graphql.client import error_of, gql
from tests.routes.support import DAY, changes, credits, mission, move, verify

SDL = str(schema)
DRIVER_APP = "startMission(" in SDL and "deliverMission(" in SDL

FIELDS = "id name status date driverId vehicleId totalDistanceMeters stops { missionId sequence eta status }"
CREATE = (
    f"mutation($input: CreateRouteInput!) {{ createRoute(input: $input) {{"
    f" ... on Route {{ {FIELDS} }} ...Refusal }} }}"
)
ASSIGN_DRIVER = (
    f"mutation($id: UUID!, $d: UUID) {{ assignRouteDriver(id: $id, driverId: $d) {{"
    f" ... on Route {{ {FIELDS} }} ...Refusal }} }}"
)
ASSIGN_VEHICLE = (
    f"mutation($id: UUID!, $v: UUID) {{ assignRouteVehicle(id: $id, vehicleId: $v) {{"
    f" ... on Route {{ {FIELDS} }} ...Refusal }} }}"
)
ADD = f"""mutation($id: UUID!, $input: AddRouteMissionsInput!) {{
  addRouteMissions(id: $id, input: $input) {{ ... on Route {{ {FIELDS} }} ...Refusal }} }}"""
REORDER = f"""mutation($id: UUID!, $ids: [UUID!]!) {{
  reorderRouteMissions(id: $id, missionIds: $ids) {{ ... on Route {{ {FIELDS} }} ...Refusal }} }}"""
READ = """query($id: UUID!) { route(id: $id) { id status branch { id } driver { id } vehicle { id }
  startDepot { id } endDepot { id } stops { missionId sequence } } }"""
TIMELINE = (
    "query($id: UUID!) { routeTimeline(id: $id) { status events { kind missionId } stops { missionId } } }"
)


async def _ok(response: httpx.Response, name: str) -> Any:
    body = response.json()
    assert "errors" not in body, body
    return body["data"][name]


def _error(response: httpx.Response) -> dict[str, Any]:
    return error_of(response)


async def _setup(
    factory: Factory, tenant: Tenant, n: int = 2, **fields: Any
) -> tuple[dict[str, Any], list[Any]]:
    branch = await factory.branch(tenant)
    return branch, [await mission(factory, tenant, branch["id"], **fields) for _ in range(n)]


async def test_create_read_list_reorder_and_delete(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    branch, (a, b, c) = await _setup(factory, tenant, 3)
    depot = await factory.depot(tenant, branch["id"])
    token = tenant.admin_session
    created = await _ok(await gql(client, token, CREATE, {"input": {
        "branchId": branch["id"], "date": DAY, "missionIds": [a["id"], b["id"]], "startDepotId": depot["id"],
    }}), "createRoute")  # fmt: skip
    assert created["status"] == "PLANNED" and [s["sequence"] for s in created["stops"]] == [1, 2]
    rest = (await client.get(f"/api/v1/routes/{created['id']}", headers=tenant.headers("read"))).json()[
        "data"
    ]
    assert rest["status"] == "planned" and [s["missionId"] for s in rest["stops"]] == [a["id"], b["id"]]
    read = await _ok(await gql(client, tenant.read_token, READ, {"id": created["id"]}), "route")
    assert read["branch"] == {"id": branch["id"]} and read["startDepot"] == {"id": depot["id"]}
    assert read["driver"] is None and read["endDepot"] is None
    added = await _ok(
        await gql(
            client, token, ADD, {"id": created["id"], "input": {"missionIds": [c["id"]], "position": 2}}
        ),
        "addRouteMissions",
    )
    assert [s["missionId"] for s in added["stops"]] == [a["id"], c["id"], b["id"]]
    order = [b["id"], a["id"], c["id"]]
    reordered = await _ok(
        await gql(client, token, REORDER, {"id": created["id"], "ids": order}), "reorderRouteMissions"
    )
    assert [s["missionId"] for s in reordered["stops"]] == order
    wrong = _error(await gql(client, token, REORDER, {"id": created["id"], "ids": order[:2]}))
    assert wrong["code"] == "validation_error"
    listed = await _ok(
        await gql(
            client,
            token,
            f'{{ routes(status: [PLANNED], date: "{DAY}") '
            "{ nodes { id stops { sequence } } pageInfo { hasNextPage } } }",
        ),
        "routes",
    )
    assert listed["nodes"] == [
        {"id": created["id"], "stops": [{"sequence": 1}, {"sequence": 2}, {"sequence": 3}]}
    ]
    deleted = await _ok(await gql(client, token, "mutation($id: UUID!) { deleteRoute(id: $id) {"
        " ... on Deleted { id } ...Refusal } }",
                                  {"id": created["id"]}), "deleteRoute")  # fmt: skip
    assert deleted == {"id": created["id"]}
    missing = _error(await gql(client, token, READ, {"id": created["id"]}))
    assert missing["code"] == "not_found"
    types = [e.type for e in await changes(tenant.id)]
    assert types.count("route.created") == types.count("route.deleted") == 1
    assert types.count("route.reordered") == 2


async def test_refusals_have_codes_and_leave_nothing(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant(credits=1)
    branch, (a, b) = await _setup(factory, tenant, 2)
    token = tenant.write_token
    short = _error(await gql(client, token, CREATE, {"input": {
        "branchId": branch["id"], "date": DAY, "missionIds": [a["id"], b["id"]]}}))  # fmt: skip
    assert (short["code"], short["details"]) == ("insufficient_credits", {"required": 2, "remaining": 1})
    assert (await _ok(await gql(client, token, "{ routes { nodes { id } } }"), "routes"))["nodes"] == []
    inactive = await factory.vehicle(tenant, branch["id"], status="inactive")
    route = await factory.route(tenant, branch["id"])
    refused = _error(await gql(client, token, ASSIGN_VEHICLE, {"id": route["id"], "v": inactive["id"]}))
    assert refused["code"] == "conflict"
    unknown = _error(
        await gql(
            client, token, ASSIGN_DRIVER, {"id": route["id"], "d": "00000000-0000-4000-8000-000000000000"}
        )
    )
    assert unknown["details"] == [{"field": "driverId", "issue": "does not name a record of your company"}]
    read_only = _error(await gql(client, tenant.read_token, ASSIGN_DRIVER, {"id": route["id"], "d": None}))
    assert read_only["code"] == "insufficient_scope"
    assert await credits(client, tenant) == 1
    assert [e.type for e in await changes(tenant.id) if not e.type.startswith("vehicle")] == ["route.created"]


async def test_complete_life_cycle_through_graphql(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    branch, (a, b) = await _setup(factory, tenant, 2, proofRequired=True)
    driver_user = await factory.mobile_user(tenant, branchId=branch["id"])
    vehicle = await factory.vehicle(tenant, branch["id"])
    token = tenant.admin_session
    body = {"input": {"branchId": branch["id"], "date": DAY, "missionIds": [a["id"], b["id"]]}}
    route = await _ok(await gql(client, token, CREATE, body), "createRoute")
    await _ok(await gql(client, token, ASSIGN_DRIVER, {"id": route["id"], "d": driver_user["driverId"]}),
              "assignRouteDriver")  # fmt: skip
    assigned = await _ok(await gql(client, token, ASSIGN_VEHICLE, {"id": route["id"], "v": vehicle["id"]}),
                         "assignRouteVehicle")  # fmt: skip
    assert (assigned["status"], assigned["driverId"]) == ("ASSIGNED", driver_user["driverId"])

    async def field_move(made: dict[str, Any], verb: str, status: str) -> None:
        if DRIVER_APP:
            query = f"mutation($id: UUID!) {{ {verb}(id: $id) {{ ... on Mission {{ id status }} }} }}"
            await _ok(await gql(client, driver_user["accessToken"], query, {"id": made["id"]}), verb)
        else:
            await move(client, tenant, made["id"], status)

    for made in (a, b):
        await field_move(made, "startMission", "in_progress")
        await field_move(made, "deliverMission", "delivered")
        if "verifyProofOfDelivery(" in SDL:
            query = (
                "mutation($id: UUID!, $c: String!) { verifyProofOfDelivery(id: $id, code: $c) {"
                " ... on Mission { status } ...Refusal } }"
            )
            variables = {"id": made["id"], "c": made["proof"]["code"]}
            done = await _ok(await gql(client, token, query, variables), "verifyProofOfDelivery")
            assert done["status"] == "PROOFED"
        else:
            await verify(client, tenant, made)
    timeline = await _ok(await gql(client, tenant.read_token, TIMELINE, {"id": route["id"]}), "routeTimeline")
    assert timeline["status"] == "COMPLETED"
    kinds = [e["kind"] for e in timeline["events"]]
    assert kinds[0] == "route_started" and kinds.count("proof_verified") == 2
    assert [e.type for e in await changes(tenant.id, route["id"])].count("route.completed") == 1


async def test_routes_with_stops_and_fleet_load_in_fixed_queries(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.tenant()
    branch, made = await _setup(factory, tenant, 4)
    for i in range(4):
        driver = await factory.driver(tenant, branch["id"])
        vehicle = await factory.vehicle(tenant, branch["id"])
        await factory.route(tenant, branch["id"], missionIds=[made[i]["id"]], driverId=driver["id"],
                            vehicleId=vehicle["id"])  # fmt: skip
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    engine = db.engine().sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        query = "{ routes { nodes { id stops { missionId } driver { id } vehicle { id } branch { id } } } }"
        response = await gql(client, tenant.read_token, query)
        rest = await client.get("/api/v1/routes", headers=tenant.headers("read"))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    items = response.json()["data"]["routes"]["nodes"]
    assert len(items) == 4 and all(len(i["stops"]) == 1 and i["driver"] and i["vehicle"] for i in items)
    assert len(rest.json()["data"]) == 4
    for table in ("mission", "driver", "vehicle", "branch"):
        selects = [s for s in statements if f"FROM {table} " in s or s.rstrip().endswith(f"FROM {table}")]
        # Once for GraphQL (a loader, or the page's stops) and once for REST's stops.
        assert len(selects) == (2 if table == "mission" else 1), (table, selects)
