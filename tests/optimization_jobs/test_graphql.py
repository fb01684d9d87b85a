"""Optimization jobs in GraphQL: the same rules as REST, and a subscription (graphql-transport-ws on
the real server) that pushes each progress step and ends with the final state."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from app.graphql.subscriptions import MAX_SUBSCRIPTIONS_PER_CONNECTION
from app.settings import get_settings
from tests.fixtures.factories import Factory, Tenant
from tests.graphql.client import gql
from tests.optimization_jobs.support import JOBS
from tests.routes.support import DAY, credits, plannable_day

FIELDS = (
    "id status progress engine branchId date startedAt finishedAt "
    "result { routeIds creditsCharged } error { code }"
)
START = f"""mutation($input: PlanRoutesInput!, $async: Boolean!) {{
  autoOptimizeRoutes(input: $input, respondAsync: $async) {{
    ... on OptimizationJob {{ {FIELDS} }} ...Refusal }} }}"""
CANCEL = (
    f"mutation($id: UUID!) {{ cancelOptimizationJob(id: $id) {{"
    f" ... on OptimizationJob {{ {FIELDS} }} ...Refusal }} }}"
)
WATCH = f"subscription($id: UUID!) {{ optimizationJob(id: $id) {{ {FIELDS} }} }}"


async def _start(
    client: httpx.AsyncClient, tenant: Tenant, day: dict[str, Any], respond_async: bool, **input: Any
) -> dict[str, Any]:
    variables = {"input": {"branchId": day["branch"]["id"], "date": DAY, "timeLimitSeconds": 1, **input},
                 "async": respond_async}  # fmt: skip
    body = (await gql(client, tenant.write_token, START, variables)).json()
    assert "errors" not in body, body
    return body["data"]["autoOptimizeRoutes"]  # type: ignore[no-any-return]


async def test_start_list_and_cancel(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant, other = await factory.tenant(credits=20), await factory.tenant()
    done = await _start(client, tenant, await plannable_day(factory, tenant, 2), False, engine="ORTOOLS")
    assert (done["status"], done["engine"], done["result"]["creditsCharged"]) == ("SUCCEEDED", "ORTOOLS", 2)
    queued = await _start(client, tenant, await plannable_day(factory, tenant, 2), True)
    assert (queued["status"], queued["progress"], queued["engine"]) == (
        "QUEUED",
        0,
        get_settings().optimizer_engine.upper(),
    )
    queued_jobs = "{ optimizationJobs(status: [QUEUED]) { nodes { id } pageInfo { hasNextPage } } }"
    listed = await gql(client, tenant.read_token, queued_jobs)
    assert listed.json()["data"]["optimizationJobs"] == {
        "nodes": [{"id": queued["id"]}],
        "pageInfo": {"hasNextPage": False},
    }

    refused = (await gql(client, tenant.read_token, CANCEL, {"id": queued["id"]})).json()
    assert refused["errors"][0]["extensions"]["code"] == "insufficient_scope"
    foreign = (await gql(client, other.write_token, CANCEL, {"id": queued["id"]})).json()
    assert foreign["data"]["cancelOptimizationJob"]["code"] == "not_found"
    cancelled = (await gql(client, tenant.write_token, CANCEL, {"id": queued["id"]})).json()
    assert cancelled["data"]["cancelOptimizationJob"]["status"] == "CANCELLED"
    again = (await gql(client, tenant.write_token, CANCEL, {"id": done["id"]})).json()
    refused_again = again["data"]["cancelOptimizationJob"]
    assert (refused_again["code"], refused_again["details"]) == ("conflict", {"status": "succeeded"})
    # REST reads the same jobs.
    rest = await client.get(f"{JOBS}/{queued['id']}", headers=tenant.headers("read"))
    assert rest.json()["data"]["status"] == "cancelled" and await credits(client, tenant) == 18


async def _subscribe(server: str, credential: str, job_id: str) -> list[dict[str, Any]]:
    """Every message of one subscription, up to its `complete`."""
    url = server.replace("http://", "ws://") + "/graphql"
    messages: list[dict[str, Any]] = []
    async with connect(url, subprotocols=["graphql-transport-ws"], open_timeout=10) as ws:  # type: ignore[list-item]
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {credential}"}})
        )
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe",
                                  "payload": {"query": WATCH, "variables": {"id": job_id}}}))  # fmt: skip
        while True:
            message = json.loads(await ws.recv())
            if message["type"] == "ping":
                await ws.send(json.dumps({"type": "pong"}))
                continue
            messages.append(message)
            if message["type"] in ("complete", "error"):
                return messages


@pytest.mark.usefixtures("delivering")
async def test_subscription_pushes_progress_to_the_final_state(
    client: httpx.AsyncClient, factory: Factory, api_server: str
) -> None:
    tenant = await factory.tenant(credits=100)
    day = await plannable_day(factory, tenant, missions=60)  # about 3.5 s of search
    job = await _start(client, tenant, day, True, timeLimitSeconds=30)
    messages = await _subscribe(api_server, tenant.read_token, job["id"])
    assert messages[-1]["type"] == "complete"
    states = [m["payload"]["data"]["optimizationJob"] for m in messages[:-1]]
    progress = [s["progress"] for s in states]
    assert progress == sorted(progress) and len(set(progress)) == len(progress) >= 3, progress
    assert any(10 < p < 100 for p in progress), progress
    final = states[-1]
    assert (final["status"], final["progress"], final["result"]["creditsCharged"]) == ("SUCCEEDED", 100, 60)
    assert all(s["status"] in ("QUEUED", "RUNNING") for s in states[:-1])


async def test_subscription_needs_a_credential_and_sees_only_its_company(
    client: httpx.AsyncClient, factory: Factory, api_server: str
) -> None:
    tenant, other = await factory.tenant(credits=20), await factory.tenant()
    done = await _start(client, tenant, await plannable_day(factory, tenant, 1), False)
    # A finished job: its final state at once, then complete.
    messages = await _subscribe(api_server, tenant.read_token, done["id"])
    assert [m["type"] for m in messages] == ["next", "complete"]
    assert messages[0]["payload"]["data"]["optimizationJob"]["status"] == "SUCCEEDED"
    foreign = await _subscribe(api_server, other.read_token, done["id"])
    assert foreign[0]["payload"]["errors"][0]["extensions"]["code"] == "not_found"
    url = api_server.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": "Bearer rpt_test_nope"}})
        )
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


async def test_the_socket_serves_subscriptions_only_and_rechecks_the_credential(
    client: httpx.AsyncClient, factory: Factory, api_server: str
) -> None:
    tenant = await factory.tenant(credits=20)
    done = await _start(client, tenant, await plannable_day(factory, tenant, 1), False)
    url = api_server.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(
            json.dumps(
                {"type": "connection_init", "payload": {"Authorization": f"Bearer {tenant.write_token}"}}
            )
        )
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        mutation = 'mutation { createBranch(input: {name: "x"}) { ... on Branch { id } } }'
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": mutation}}))
        answer = json.loads(await ws.recv())
        assert "over HTTP" in json.dumps(answer) and "uow" not in json.dumps(answer)
        # The token is deleted while the socket is open: the next subscription is refused.
        token_id = str(tenant.write_token_id)
        deleted = await client.delete(f"/companies/me/api-tokens/{token_id}", headers=tenant.headers("admin"))
        assert deleted.status_code == 204
        await ws.send(json.dumps({"id": "2", "type": "subscribe",
                                  "payload": {"query": WATCH, "variables": {"id": done["id"]}}}))  # fmt: skip
        refused = json.loads(await ws.recv())
        while refused["type"] == "ping" or refused.get("id") == "1":
            refused = json.loads(await ws.recv())
        assert refused["payload"]["errors"][0]["extensions"]["code"] == "unauthorized"


@pytest.mark.usefixtures("delivering")
async def test_one_connection_holds_a_bounded_number_of_subscriptions(
    client: httpx.AsyncClient, factory: Factory, api_server: str
) -> None:
    tenant = await factory.tenant(credits=100)
    day = await plannable_day(factory, tenant, missions=60)
    job = await _start(client, tenant, day, True, timeLimitSeconds=30)
    url = api_server.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=["graphql-transport-ws"], open_timeout=10) as ws:  # type: ignore[list-item]
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {tenant.read_token}"}}
        await ws.send(json.dumps(init))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        watch = {"query": WATCH, "variables": {"id": job["id"]}}
        for n in range(MAX_SUBSCRIPTIONS_PER_CONNECTION + 1):
            await ws.send(json.dumps({"id": str(n), "type": "subscribe", "payload": watch}))
        refused, completed = None, 0
        while refused is None and completed <= MAX_SUBSCRIPTIONS_PER_CONNECTION:
            message = json.loads(await ws.recv())
            refused = message if message["type"] == "error" else None
            completed += message["type"] == "complete"
    assert refused is not None and refused["id"] == str(MAX_SUBSCRIPTIONS_PER_CONNECTION)
    assert "limit" in refused["payload"][0]["message"]


async def test_a_subscription_sent_over_http_is_refused_as_a_client_error(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.tenant()
    variables = {"id": str(uuid.uuid4())}
    posted = await gql(client, tenant.read_token, WATCH, variables)
    got = await client.get(
        "/graphql",
        params={"query": WATCH, "variables": json.dumps(variables)},
        headers=tenant.headers("read"),
    )
    for response in (posted, got):
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["code"] == "validation_error" and "WebSocket" in json.dumps(error)
