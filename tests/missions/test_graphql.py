# ruff: noqa: E501  (GraphQL documents read best on one line each)
from __future__ import annotations

from typing import Any

import httpx

from tests.fixtures import days
from tests.fixtures.factories import Factory, Tenant
from tests.fixtures.fleet import events, history
from tests.graphql.client import error_of, gql
from tests.missions.support import get, scheduled

FIELDS = "id status routeId sequence driverId failureReason proof { code attempts proofed expiresAt }"


async def _ok(response: httpx.Response, field: str) -> Any:
    body = response.json()
    assert "errors" not in body, body
    return body["data"][field]


def _code(response: httpx.Response) -> str:
    return error_of(response)["code"]  # type: ignore[no-any-return]


async def _driver_on_route(
    client: httpx.AsyncClient, factory: Factory, tenant: Tenant
) -> tuple[dict[str, Any], str]:
    """A scheduled mission on a route whose driver is signed in to the app: (mission, app token)."""
    mission, route = await scheduled(factory, tenant)
    app_user = await factory.mobile_user(tenant, branch_id=route["branchId"])
    assigned = await client.put(f"/api/v1/routes/{route['id']}/assign-driver",
                                json={"driverId": app_user["driver"]["id"]}, headers=tenant.headers())  # fmt: skip
    assert assigned.status_code == 200, assigned.text
    return mission, app_user["accessToken"]


class TestMissionGraphql:
    async def test_create_read_update_delete(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        branch = await factory.branch(tenant)
        created = await _ok(await gql(client, tenant.admin_session, f"""mutation($input: CreateMissionInput!) {{
            createMission(input: $input) {{ ... on Mission {{ {FIELDS} branch {{ id }} }} ...Refusal }} }}""", {"input": {
            "branchId": branch["id"], "date": days.day(), "latitude": 41, "longitude": 29,
            "timeWindowStart": "09:00", "type": "PICKUP"}}), "createMission")  # fmt: skip
        assert len(created["proof"]["code"]) == 5 and created["branch"]["id"] == branch["id"]
        bad = await gql(client, tenant.admin_session, """mutation($input: CreateMissionInput!) {
            createMission(input: $input) { ... on Mission { id } ...Refusal } }""", {"input": {
            "branchId": branch["id"], "date": days.day(), "latitude": 91, "longitude": 29}})  # fmt: skip
        assert _code(bad) == "validation_error"
        updated = await _ok(await gql(client, tenant.admin_session, f"""mutation {{
            updateMission(id: "{created['id']}", input: {{status: CANCELLED, notes: "x"}}) {{ ... on Mission {{ {FIELDS} notes }} ...Refusal }} }}"""),
            "updateMission")  # fmt: skip
        assert (updated["status"], updated["notes"]) == ("CANCELLED", "x")
        read = await _ok(await gql(client, tenant.read_token, f"""{{ mission(id: "{created['id']}") {{ {FIELDS} }}
            missions(status: [CANCELLED]) {{ nodes {{ id }} pageInfo {{ hasNextPage }} }} }}"""), "missions")  # fmt: skip
        assert read["nodes"] == [{"id": created["id"]}]
        history_page = await _ok(await gql(client, tenant.read_token, f"""{{ missionHistory(id: "{created['id']}")
            {{ nodes {{ action source actor {{ type }} changes {{ field from to }} }} }} }}"""), "missionHistory")  # fmt: skip
        assert [e["action"] for e in history_page["nodes"]] == ["status_changed", "updated", "created"]
        assert history_page["nodes"][0]["changes"][0] == {
            "field": "status",
            "from": "unassigned",
            "to": "cancelled",
        }
        assert (
            history_page["nodes"][0]["source"] == "graphql"
            and history_page["nodes"][0]["actor"]["type"] == "user"
        )
        deleted = await _ok(await gql(client, tenant.admin_session, f"""mutation {{
            deleteMission(id: "{created['id']}") {{ ... on Deleted {{ id }} ...Refusal }} }}"""), "deleteMission")  # fmt: skip
        assert deleted == {"id": created["id"]}
        assert [e.type for e in await events(tenant.id, created["id"])] == [
            "mission.created", "mission.updated", "mission.status_changed", "mission.deleted"]  # fmt: skip

    async def test_route_field_and_reassign(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        mission, route = await scheduled(factory, tenant)
        data = await _ok(await gql(client, tenant.read_token, f"""{{ mission(id: "{mission['id']}") {{
            route {{ id stops {{ missionId }} }} }} }}"""), "mission")  # fmt: skip
        assert data["route"] == {"id": route["id"], "stops": [{"missionId": mission["id"]}]}
        off = await _ok(await gql(client, tenant.write_token, f"""mutation {{
            reassignMission(id: "{mission['id']}", routeId: null) {{ ... on Mission {{ {FIELDS} route {{ id }} }} ...Refusal }} }}"""),
            "reassignMission")  # fmt: skip
        assert (off["status"], off["route"]) == ("UNASSIGNED", None)

    async def test_bulk(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        branch = await factory.branch(tenant)
        item = {
            "branchId": branch["id"],
            "date": days.day(),
            "latitude": 41,
            "longitude": 29,
            "externalId": "g-1",
        }
        results = await _ok(await gql(client, tenant.write_token, f"""mutation($m: [CreateMissionInput!]!) {{
            bulkCreateMissions(missions: $m) {{ index status mission {{ {FIELDS} }} error {{ code details }} }} }}""",
            {"m": [item, {**item, "latitude": 95, "externalId": "g-2"}, item]}), "bulkCreateMissions")  # fmt: skip
        assert [r["status"] for r in results] == ["created", "error", "error"]
        assert len(results[0]["mission"]["proof"]["code"]) == 5
        assert results[1]["error"]["details"][0]["field"] == "latitude"
        assert results[2]["error"]["details"] == {"field": "externalId", "duplicateOfIndex": 0}

    async def test_wrong_code_is_spent_and_regenerate(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant()
        mission, _ = await scheduled(factory, tenant)
        await client.patch(f"/api/v1/missions/{mission['id']}", json={"status": "in_progress"},
                           headers=tenant.headers())  # fmt: skip
        wrong = "00000" if mission["proof"]["code"] != "00000" else "11111"
        verify = f'mutation {{ verifyProofOfDelivery(id: "{mission["id"]}", code: "{wrong}") {{ ... on Mission {{ id }} ...Refusal }} }}'
        refused = await gql(client, tenant.write_token, verify, **{"Idempotency-Key": "g-verify"})
        assert _code(refused) == "invalid_proof_code"
        assert error_of(refused)["details"] == {"attemptsRemaining": 4}
        replay = await gql(client, tenant.write_token, verify, **{"Idempotency-Key": "g-verify"})
        assert replay.headers["idempotent-replayed"] == "true"
        assert (await get(client, tenant, mission["id"]))["proof"]["attempts"] == 1
        fresh = await _ok(await gql(client, tenant.write_token, f"""mutation {{
            regenerateProofCode(id: "{mission['id']}") {{ ... on Mission {{ {FIELDS} }} ...Refusal }} }}"""), "regenerateProofCode")  # fmt: skip
        assert fresh["proof"]["attempts"] == 0 and len(fresh["proof"]["code"]) == 5
        stale = await gql(
            client,
            tenant.write_token,
            f"""mutation {{
            verifyProofOfDelivery(id: "{mission["id"]}", code: "{mission["proof"]["code"]}") {{ ... on Mission {{ id }} ...Refusal }} }}""",
        )
        if mission["proof"]["code"] != fresh["proof"]["code"]:
            assert _code(stale) == "invalid_proof_code"
        proofed = await _ok(await gql(client, tenant.write_token, f"""mutation {{
            verifyProofOfDelivery(id: "{mission['id']}", code: "{fresh['proof']['code']}") {{ ... on Mission {{ {FIELDS} }} ...Refusal }} }}"""),
            "verifyProofOfDelivery")  # fmt: skip
        assert proofed["status"] == "PROOFED" and proofed["proof"]["proofed"]
        assert "regenerated" in str([e.changes for e in await history(tenant.id, mission["id"])])


class TestDriverApp:
    async def test_start_deliver_and_fail(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        mission, app_token = await _driver_on_route(client, factory, tenant)
        started = await _ok(await gql(client, app_token, f"""mutation {{
            startMission(id: "{mission['id']}", latitude: 41.01, longitude: 29.02) {{ ... on Mission {{ {FIELDS} }} ...Refusal }} }}"""),
            "startMission")  # fmt: skip
        assert started["status"] == "IN_PROGRESS"
        delivered = await _ok(await gql(client, app_token, f"""mutation {{
            deliverMission(id: "{mission['id']}") {{ ... on Mission {{ {FIELDS} }} ...Refusal }} }}"""), "deliverMission")  # fmt: skip
        assert delivered["status"] == "DELIVERED"
        entries = await history(tenant.id, mission["id"])
        assert (entries[-1].source, entries[-1].actor_type) == ("mobile", "driver")

        second, token_two = await _driver_on_route(client, factory, tenant)
        await _ok(await gql(client, token_two, f'mutation {{ startMission(id: "{second["id"]}") {{ ... on Mission {{ id }} ...Refusal }} }}'),
                  "startMission")  # fmt: skip
        failed = await _ok(await gql(client, token_two, f"""mutation {{
            failMission(id: "{second['id']}", reason: "Closed") {{ ... on Mission {{ {FIELDS} }} ...Refusal }} }}"""), "failMission")  # fmt: skip
        assert (failed["status"], failed["failureReason"]) == ("FAILED", "Closed")

    async def test_only_the_routes_driver(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        mission, _ = await _driver_on_route(client, factory, tenant)
        stranger = await factory.mobile_user(tenant)
        start = f'mutation {{ startMission(id: "{mission["id"]}") {{ ... on Mission {{ id }} ...Refusal }} }}'
        # Another driver's mission is as missing to a driver as an unknown one.
        assert _code(await gql(client, stranger["accessToken"], start)) == "not_found"
        assert _code(await gql(client, tenant.write_token, start)) == "insufficient_scope"
        assert _code(await gql(client, tenant.admin_session, start)) == "insufficient_scope"
        other = await factory.tenant()
        outsider = await factory.mobile_user(other)
        assert _code(await gql(client, outsider["accessToken"], start)) == "not_found"
        wrong_move = (
            f'mutation {{ deliverMission(id: "{mission["id"]}") {{ ... on Mission {{ id }} ...Refusal }} }}'
        )
        assert (await get(client, tenant, mission["id"]))["status"] == "scheduled"
        assert _code(await gql(client, stranger["accessToken"], wrong_move)) == "not_found"


class TestDriverProof:
    async def test_driver_verifies_the_customers_code(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant()
        mission, app_token = await _driver_on_route(client, factory, tenant)
        code = mission["proof"]["code"]
        await _ok(await gql(client, app_token, f'mutation {{ startMission(id: "{mission["id"]}") {{ ... on Mission {{ id }} ...Refusal }} }}'),
                  "startMission")  # fmt: skip
        wrong = "00000" if code != "00000" else "11111"
        verify = 'mutation {{ verifyMissionProof(id: "{id}", code: "{code}") {{ ... on Mission {{ {fields} }} ...Refusal }} }}'
        refused = await gql(client, app_token, verify.format(id=mission["id"], code=wrong, fields="id"))
        assert _code(refused) == "invalid_proof_code"
        assert (await get(client, tenant, mission["id"]))["proof"]["attempts"] == 1
        proofed = await _ok(
            await gql(client, app_token, verify.format(id=mission["id"], code=code, fields=FIELDS)),
            "verifyMissionProof",
        )
        assert proofed["status"] == "PROOFED"
        entries = await history(tenant.id, mission["id"])
        assert entries[-1].source == "mobile" and entries[-1].actor_type == "driver"

    async def test_only_the_routes_driver_may_verify(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant()
        mission, _ = await _driver_on_route(client, factory, tenant)
        stranger = await factory.mobile_user(tenant)
        verify = f'mutation {{ verifyMissionProof(id: "{mission["id"]}", code: "{mission["proof"]["code"]}") {{ ... on Mission {{ id }} ...Refusal }} }}'
        assert _code(await gql(client, stranger["accessToken"], verify)) == "not_found"
        assert (await get(client, tenant, mission["id"]))["proof"]["attempts"] == 0
