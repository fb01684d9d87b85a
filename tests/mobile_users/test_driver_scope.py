"""A driver session holds the `driver` scope only: the driver app's own fields answer with the
driver's own profile, routes and missions, and every company-wide field refuses it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from graphql import GraphQLObjectType, GraphQLUnionType, build_schema, get_named_type
from strawberry.permission import PermissionExtension

from app.core.principal import Scope
from app.graphql.permissions import HasScope, IsDriver
from app.graphql.schema import schema
from app.mobile_users.service import DRIVER_SCOPES
from app.mobile_users.types import PUBLIC_MUTATIONS
from tests.fixtures import days
from tests.fixtures.factories import Factory, Tenant
from tests.graphql.client import error_of, gql
from tests.missions.support import get

DRIVER_QUERIES = {"myDriverProfile", "myRoutes", "myRoute", "myMissions", "myMission"}
DRIVER_MUTATIONS = {"registerDevice", "startMission", "deliverMission", "verifyMissionProof", "failMission"}

PROFILE = "{ myDriverProfile { id firstName branch { id } mobileUser { id } } }"
ROUTES_OF_DAY = (
    "query($d: Date!) { myRoutes(date: $d) { nodes { id stops { missionId sequence } } "
    "pageInfo { hasNextPage } } }"
)
ROUTE = "query($id: UUID!) { myRoute(id: $id) { id status driverId } }"
MISSIONS = "{ myMissions { nodes { id customerName address status } pageInfo { hasNextPage } } }"
MISSIONS_ON_ROUTE = "query($r: UUID!) { myMissions(routeId: $r, status: [SCHEDULED]) { nodes { id } } }"
MISSION = (
    "query($id: UUID!) { myMission(id: $id) { id customerName customerPhone latitude "
    "proof { required attempts code } } }"
)
REGISTER = (
    "mutation($i: RegisterDeviceInput!) { registerDevice(input: $i) {"
    " ... on Device { id deviceId } ...Refusal } }"
)
MOVE = "mutation($id: UUID!) {{ {verb}(id: $id) {{ ... on Mission {{ id status }} ...Refusal }} }}"
VERIFY = (
    "mutation($id: UUID!, $c: String!) { verifyMissionProof(id: $id, code: $c) {"
    " ... on Mission { id status } ...Refusal } }"
)
FAIL = (
    'mutation($id: UUID!) { failMission(id: $id, reason: "Closed") {'
    " ... on Mission { status failureReason } ...Refusal } }"
)


@dataclass
class DriverDay:
    """One branch's day: my route (two missions, a vehicle and a depot), another driver's route
    (one mission) and a mission on no route."""

    tenant: Tenant
    branch: dict[str, Any]
    me: dict[str, Any]
    other: dict[str, Any]
    vehicle: dict[str, Any]
    depot: dict[str, Any]
    my_route: dict[str, Any]
    my_missions: list[dict[str, Any]]
    their_route: dict[str, Any]
    their_mission: dict[str, Any]
    loose_mission: dict[str, Any]

    @property
    def token(self) -> str:
        return self.me["accessToken"]  # type: ignore[no-any-return]


async def _day(factory: Factory) -> DriverDay:
    tenant = await factory.tenant()
    branch = await factory.branch(tenant)
    me = await factory.mobile_user(tenant, branch_id=branch["id"])
    other = await factory.mobile_user(tenant, branch_id=branch["id"])
    vehicle = await factory.vehicle(tenant, branch["id"])
    depot = await factory.depot(tenant, branch["id"])
    mine = [await factory.mission(tenant, branch["id"], customerName=f"Mine {n}") for n in (1, 2)]
    theirs = await factory.mission(tenant, branch["id"], customerName="Theirs")
    loose = await factory.mission(tenant, branch["id"], customerName="Nobody's")
    my_route = await factory.route(
        tenant, branch["id"], missionIds=[m["id"] for m in mine], driverId=me["driver"]["id"],
        vehicleId=vehicle["id"], startDepotId=depot["id"], endDepotId=depot["id"],
    )  # fmt: skip
    their_route = await factory.route(
        tenant, branch["id"], missionIds=[theirs["id"]], driverId=other["driver"]["id"]
    )
    return DriverDay(tenant, branch, me, other, vehicle, depot, my_route, mine, their_route, theirs, loose)


def _data(response: httpx.Response, field: str) -> Any:
    body = response.json()
    assert "errors" not in body, body
    return body["data"][field]


def _error(response: httpx.Response) -> dict[str, Any]:
    """A query's top-level error, or a mutation's typed refusal: with nothing else answered."""
    body = response.json()
    assert body.get("data") is None or all(v is None or "code" in v for v in body["data"].values()), body
    return error_of(response)


async def _read(client: httpx.AsyncClient, token: str, document: str, field: str, **variables: Any) -> Any:
    return _data(await gql(client, token, document, variables), field)


async def _code(client: httpx.AsyncClient, token: str, document: str, **variables: Any) -> str:
    return _error(await gql(client, token, document, variables))["code"]  # type: ignore[no-any-return]


def _ids(items: list[dict[str, Any]]) -> set[str]:
    return {item["id"] for item in items}


class TestCompanyWideFieldsRefuseADriver:
    async def test_lists_and_records_of_the_company_are_insufficient_scope(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        day = await _day(factory)
        mine, their_route = day.my_missions[0]["id"], day.their_route["id"]
        window = f'dateFrom: "{days.day(-7)}", dateTo: "{days.day()}"'
        refused = [
            "{ missions { nodes { id customerName customerPhone address } } }",
            f'{{ missions(routeId: "{their_route}") {{ nodes {{ id }} }} }}',
            f'{{ mission(id: "{mine}") {{ id }} }}',
            f'{{ missionHistory(id: "{mine}") {{ nodes {{ action }} }} }}',
            "{ routes { nodes { id } } }",
            f'{{ route(id: "{day.my_route["id"]}") {{ id }} }}',
            f'{{ routeTimeline(id: "{day.my_route["id"]}") {{ status }} }}',
            "{ drivers { nodes { id phone } } }",
            f'{{ driver(id: "{day.me["driver"]["id"]}") {{ id }} }}',
            "{ mobileUsers { nodes { id email } } }",
            "{ vehicles { nodes { id } } }",
            "{ vehicleDriverAssignments { nodes { id } } }",
            "{ branches { nodes { id } } }",
            "{ depots { nodes { id } } }",
            "{ me { name company { creditsRemaining } } }",
            "{ creditLedger { id } }",
            "{ apiTokens { nodes { id name prefix } } }",
            "{ webhookEndpoints { nodes { id url } } }",
            f"{{ reportOverview({window}) {{ __typename }} }}",
            f"{{ reportDrivers({window}) {{ nodes {{ __typename }} }} }}",
            "{ dashboardStats { __typename } }",
            "{ dashboardRecentActivity { nodes { __typename } } }",
            "{ optimizationJobs { nodes { id } } }",
        ]
        for document in refused:
            error = _error(await gql(client, day.token, document))
            assert error["code"] == "insufficient_scope", (document, error)
        details = _error(await gql(client, day.token, "{ missions { nodes { id } } }"))["details"]
        assert details == {"requiredScope": "read"}

    async def test_dispatcher_writes_are_insufficient_scope(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        day = await _day(factory)
        mission, route = day.my_missions[0]["id"], day.my_route["id"]
        writes = [
            f'mutation {{ updateMission(id: "{mission}", input: {{status: CANCELLED}}) {{'
            f" ... on Mission {{ id }} ...Refusal }} }}",
            f'mutation {{ reassignMission(id: "{mission}", routeId: null) {{'
            f" ... on Mission {{ id }} ...Refusal }} }}",
            f'mutation {{ regenerateProofCode(id: "{mission}") {{'
            f" ... on Mission {{ proof {{ code }} }} ...Refusal }} }}",
            f'mutation {{ verifyProofOfDelivery(id: "{mission}", code: "12345") {{'
            f" ... on Mission {{ id }} ...Refusal }} }}",
            f'mutation {{ reorderRouteMissions(id: "{route}", missionIds: []) {{'
            f" ... on Route {{ id }} ...Refusal }} }}",
            f'mutation {{ assignRouteDriver(id: "{route}", driverId: null) {{'
            f" ... on Route {{ id }} ...Refusal }} }}",
        ]
        for document in writes:
            assert _error(await gql(client, day.token, document))["code"] == "insufficient_scope", document
        assert (await get(client, day.tenant, mission))["status"] == "scheduled"

    async def test_rest_stays_closed_to_driver_sessions(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        day = await _day(factory)
        headers = {"Authorization": f"Bearer {day.token}"}
        for path in ("/api/v1/missions", f"/api/v1/routes/{day.my_route['id']}", "/api/v1/me",
                     "/companies/me/api-tokens"):  # fmt: skip
            response = await client.get(path, headers=headers)
            assert (response.status_code, response.json()["error"]["code"]) == (403, "insufficient_scope"), (
                path
            )

    def test_only_the_driver_apps_fields_admit_the_driver_scope(self) -> None:
        """Every root field declares its permission; a driver session passes only `@isDriver`
        ones, and no company-wide field can be opened to drivers by giving them a scope."""
        assert DRIVER_SCOPES == {Scope.DRIVER}
        admitted: set[str] = set()
        for root in ("Query", "Mutation", "Subscription"):
            for field in schema.get_type_by_name(root).fields:  # type: ignore[union-attr]
                name = schema.config.name_converter.get_graphql_name(field)
                checks = [
                    p for e in field.extensions if isinstance(e, PermissionExtension) for p in e.permissions
                ]
                if name in PUBLIC_MUTATIONS:
                    assert checks == [], name
                    continue
                assert len(checks) == 1, name
                if isinstance(checks[0], IsDriver):
                    admitted.add(name)
                else:
                    assert isinstance(checks[0], HasScope) and checks[0].scope not in DRIVER_SCOPES, name
        assert admitted == DRIVER_QUERIES | DRIVER_MUTATIONS

    def test_what_driver_fields_reach_is_pinned(self) -> None:
        """The object fields reachable from the driver app's fields. Each one leads from a record of
        the driver's own to another of the driver's own (the route's branch, vehicle and depots, the
        driver's account and phones, a mission's route); a new one must be checked before it joins."""
        sdl = build_schema(str(schema))
        roots = [sdl.query_type, sdl.mutation_type]
        pending = [
            f.type
            for root in roots
            if root
            for name, f in root.fields.items()
            if name in DRIVER_QUERIES | DRIVER_MUTATIONS
        ]
        reachable: set[str] = set()
        seen: set[str] = set()
        while pending:
            target = get_named_type(pending.pop())
            if isinstance(target, GraphQLUnionType):  # a mutation's result: its payload and refusals
                pending.extend(target.types)
                continue
            if not isinstance(target, GraphQLObjectType) or target.name in seen:
                continue
            seen.add(target.name)
            for name, field in target.fields.items():
                if isinstance(get_named_type(field.type), GraphQLObjectType):
                    reachable.add(f"{target.name}.{name}")
                    pending.append(field.type)
        assert reachable == {
            "Driver.branch", "Driver.mobileUser", "MobileUser.devices",
            "Route.branch", "Route.driver", "Route.vehicle", "Route.startDepot", "Route.endDepot",
            "Route.stops", "Vehicle.branch", "Depot.branch",
            "Mission.branch", "Mission.route", "Mission.proof", "Mission.driver", "Mission.vehicle",
            "RouteConnection.nodes", "RouteConnection.edges", "RouteConnection.pageInfo", "RouteEdge.node",
            "MissionConnection.nodes", "MissionConnection.edges", "MissionConnection.pageInfo",
            "MissionEdge.node", "ValidationError.fields",
        }  # fmt: skip


class TestTheDriversOwnRecords:
    async def test_profile_routes_and_missions_are_the_drivers_own(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        day = await _day(factory)
        profile = await _read(client, day.token, PROFILE, "myDriverProfile")
        assert (profile["id"], profile["mobileUser"]["id"]) == (day.me["driver"]["id"], day.me["id"])
        routes = await _read(client, day.token, ROUTES_OF_DAY, "myRoutes", d=days.day())
        stops = [{"missionId": m["id"], "sequence": n} for n, m in enumerate(day.my_missions, 1)]
        assert routes["nodes"] == [{"id": day.my_route["id"], "stops": stops}]
        assert (await _read(client, day.token, ROUTES_OF_DAY, "myRoutes", d=days.day(1)))["nodes"] == []
        route = await _read(client, day.token, ROUTE, "myRoute", id=day.my_route["id"])
        assert (route["status"], route["driverId"]) == ("ASSIGNED", day.me["driver"]["id"])

        missions = await _read(client, day.token, MISSIONS, "myMissions")
        assert _ids(missions["nodes"]) == _ids(day.my_missions)
        on_route = await _read(client, day.token, MISSIONS_ON_ROUTE, "myMissions", r=day.my_route["id"])
        assert _ids(on_route["nodes"]) == _ids(day.my_missions)
        one = await _read(client, day.token, MISSION, "myMission", id=day.my_missions[0]["id"])
        assert (one["customerName"], one["proof"]["code"]) == ("Mine 1", None)

    async def test_other_drivers_records_are_not_found(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        day = await _day(factory)
        elsewhere = await _day(factory)
        for route_id in (day.their_route["id"], elsewhere.my_route["id"], str(uuid.uuid4())):
            assert await _code(client, day.token, ROUTE, id=route_id) == "not_found"
        for mission in (day.their_mission, day.loose_mission, elsewhere.my_missions[0]):
            assert await _code(client, day.token, MISSION, id=mission["id"]) == "not_found"
        # Another driver's route as a filter answers like an unknown id, not with an empty page.
        for route_id in (day.their_route["id"], str(uuid.uuid4())):
            refused = _error(await gql(client, day.token, MISSIONS_ON_ROUTE, {"r": route_id}))
            issue = {"field": "routeId", "issue": "does not name a route of yours"}
            assert (refused["code"], refused["details"]) == ("validation_error", [issue])
        theirs = await _read(client, day.other["accessToken"], MISSIONS, "myMissions")
        assert _ids(theirs["nodes"]) == {day.their_mission["id"]}

    async def test_nested_fields_stay_on_the_drivers_records(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        day = await _day(factory)
        await _read(
            client, day.token, REGISTER, "registerDevice", i={"deviceId": "phone-1", "platform": "IOS"}
        )
        await _read(client, day.other["accessToken"], REGISTER, "registerDevice",
                    i={"deviceId": "phone-2", "platform": "ANDROID"})  # fmt: skip
        walk = """{ myRoutes { nodes {
            branch { id } vehicle { id branch { id } } startDepot { id branch { id } } endDepot { id }
            driver { id branch { id } mobileUser { id devices { deviceId } } } } } }"""
        route = (await _read(client, day.token, walk, "myRoutes"))["nodes"][0]
        assert route == {
            "branch": {"id": day.branch["id"]},
            "vehicle": {"id": day.vehicle["id"], "branch": {"id": day.branch["id"]}},
            "startDepot": {"id": day.depot["id"], "branch": {"id": day.branch["id"]}},
            "endDepot": {"id": day.depot["id"]},
            "driver": {"id": day.me["driver"]["id"], "branch": {"id": day.branch["id"]},
                       "mobileUser": {"id": day.me["id"], "devices": [{"deviceId": "phone-1"}]}},
        }  # fmt: skip
        walk = "{ myMissions { nodes { branch { id } route { id driver { id } stops { missionId } } } } }"
        for item in (await _read(client, day.token, walk, "myMissions"))["nodes"]:
            assert item["route"]["id"] == day.my_route["id"]
            assert item["route"]["driver"] == {"id": day.me["driver"]["id"]}
            assert {s["missionId"] for s in item["route"]["stops"]} == _ids(day.my_missions)

    async def test_a_route_taken_away_is_gone_at_once(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        day = await _day(factory)
        moved = day.my_missions[1]["id"]
        off = await client.post(
            f"/api/v1/missions/{moved}/reassign", json={"routeId": None}, headers=day.tenant.headers()
        )
        assert off.status_code == 200, off.text
        assert await _code(client, day.token, MISSION, id=moved) == "not_found"
        assert await _code(client, day.token, MOVE.format(verb="startMission"), id=moved) == "not_found"

        successor = await factory.mobile_user(day.tenant, branch_id=day.branch["id"])
        handed = await client.put(
            f"/api/v1/routes/{day.my_route['id']}/assign-driver",
            json={"driverId": successor["driver"]["id"]},
            headers=day.tenant.headers(),
        )
        assert handed.status_code == 200, handed.text
        assert (await _read(client, day.token, "{ myRoutes { nodes { id } } }", "myRoutes"))["nodes"] == []
        assert (await _read(client, day.token, MISSIONS, "myMissions"))["nodes"] == []
        assert await _code(client, day.token, ROUTE, id=day.my_route["id"]) == "not_found"
        taken = await _read(client, successor["accessToken"], ROUTE, "myRoute", id=day.my_route["id"])
        assert taken["id"] == day.my_route["id"]

    async def test_other_credentials_may_not_use_the_driver_fields(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        day = await _day(factory)
        for credential in (day.tenant.admin_session, day.tenant.write_token, day.tenant.read_token):
            for document in (PROFILE, MISSIONS, "{ myRoutes { nodes { id } } }"):
                error = _error(await gql(client, credential, document))
                assert (error["code"], error["details"]) == (
                    "insufficient_scope",
                    {"requiredScope": "driver"},
                )


class TestTheDriverAppsWrites:
    async def test_the_day_of_work_on_the_drivers_own_missions(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        day = await _day(factory)
        first, second = day.my_missions
        device = await _read(
            client, day.token, REGISTER, "registerDevice", i={"deviceId": "p", "platform": "IOS"}
        )
        assert device["deviceId"] == "p"
        started = await _read(
            client, day.token, MOVE.format(verb="startMission"), "startMission", id=first["id"]
        )
        assert started["status"] == "IN_PROGRESS"
        delivered = await _read(client, day.token, MOVE.format(verb="deliverMission"), "deliverMission",
                                id=first["id"])  # fmt: skip
        assert delivered["status"] == "DELIVERED"
        proofed = await _read(client, day.token, VERIFY, "verifyMissionProof", id=first["id"],
                              c=first["proof"]["code"])  # fmt: skip
        assert proofed["status"] == "PROOFED"
        await _read(client, day.token, MOVE.format(verb="startMission"), "startMission", id=second["id"])
        failed = await _read(client, day.token, FAIL, "failMission", id=second["id"])
        assert (failed["status"], failed["failureReason"]) == ("FAILED", "Closed")
        done = await _read(client, day.token, ROUTE, "myRoute", id=day.my_route["id"])
        assert done["status"] == "COMPLETED"

    async def test_writes_on_other_missions_are_not_found_and_change_nothing(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        day = await _day(factory)
        theirs = day.their_mission
        code = theirs["proof"]["code"]
        for mission in (theirs, day.loose_mission):
            for verb in ("startMission", "deliverMission"):
                assert await _code(client, day.token, MOVE.format(verb=verb), id=mission["id"]) == "not_found"
            assert await _code(client, day.token, FAIL, id=mission["id"]) == "not_found"
            assert await _code(client, day.token, VERIFY, id=mission["id"], c=code) == "not_found"
        after = await get(client, day.tenant, theirs["id"])
        assert (after["status"], after["proof"]["attempts"]) == ("scheduled", 0)
