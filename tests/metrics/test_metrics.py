"""/metrics: every family is exposed and moves after the work it counts, no label carries a tenant's
data, and the endpoints are protected as the README says (METRICS_TOKEN, METRICS_PORT, production)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import dramatiq
import httpx
import pytest
from dramatiq.brokers.redis import RedisBroker
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from app.core import clock
from app.core.db import unit_of_work
from app.core.metrics import BoundedNames
from app.core.principal import Principal
from app.core.ratelimit import RateLimiter
from app.settings import get_settings
from tests.fixtures.factories import Factory, Tenant
from tests.fixtures.workers import Workers, private_redis
from tests.routes.support import DAY, mission, plannable_day
from tests.webhooks.conftest import Receiver, receiver  # noqa: F401 (a fixture)
from tests.webhooks.support import endpoint, vehicle
from workers.metrics import QueueCollector

TOKEN = "metrics-" + "s" * 40


def samples(exposition: str) -> list[Any]:
    return [s for family in text_string_to_metric_families(exposition) for s in family.samples]


def value(exposition: str, name: str, **labels: str) -> float:
    """The sum of `name`'s samples whose labels include `labels` (0 when there is none)."""
    return sum(s.value for s in samples(exposition) if s.name == name and labels.items() <= s.labels.items())


def label_values(exposition: str) -> set[str]:
    return {v for s in samples(exposition) for v in s.labels.values()}


def assert_no_tenant_data(exposition: str, tenant: Tenant, *more: str) -> None:
    """Nothing that names or opens a company: ids, emails, tokens (nor their prefixes), URLs."""
    secrets = [str(tenant.id), tenant.admin_email, tenant.write_token, tenant.read_token,
               tenant.write_token[:16], tenant.read_token[:16], tenant.admin_session[:24],
               str(tenant.write_token_id), *more]  # fmt: skip
    for secret in secrets:
        assert secret not in exposition, secret
    for label in label_values(exposition):
        assert "@" not in label and "://" not in label and not label.startswith("rpt_"), label


async def scrape(client: httpx.AsyncClient, **headers: str) -> str:
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return response.text


async def test_http_requests_are_counted_by_route_template(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.tenant()
    branch = await factory.branch(tenant)
    made = await mission(factory, tenant, branch["id"])
    route = "/api/v1/missions/{id}"
    before = await scrape(client)
    answer = await client.get(f"/api/v1/missions/{made['id']}", headers=tenant.headers("read"))
    assert answer.status_code == 200
    stray = uuid.uuid4().hex
    assert (await client.get(f"/no-such-place/{stray}")).status_code == 404
    after = await scrape(client)

    counted = "rouptimize_http_requests_total"
    assert value(after, counted, route=route, method="GET", status="200") == (
        value(before, counted, route=route, method="GET", status="200") + 1
    )
    timed = "rouptimize_http_request_duration_seconds_count"
    assert (
        value(after, timed, route=route, method="GET") == value(before, timed, route=route, method="GET") + 1
    )
    assert value(after, counted, route="unmatched", status="404") >= 1
    assert made["id"] not in after and stray not in after
    assert_no_tenant_data(after, tenant, branch["id"])


async def test_graphql_operations_by_name_and_type(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    family = "rouptimize_graphql_operations_total"
    before = await scrape(client)
    for document in (
        "query Fleet { me { company { id } } }",
        "{ me { company { id } } }",
        "query Broken { nope }",
    ):
        await client.post("/graphql", json={"query": document}, headers=tenant.headers("admin"))
    after = await scrape(client)
    for labels in (
        {"operation": "Fleet", "type": "query", "outcome": "ok"},
        {"operation": "anonymous", "type": "query", "outcome": "ok"},
        {"operation": "Broken", "type": "query", "outcome": "error"},
    ):
        assert value(after, family, **labels) == value(before, family, **labels) + 1, labels
    assert_no_tenant_data(after, tenant)


def test_operation_names_are_bounded() -> None:
    names = BoundedNames(limit=2)
    assert [names(n) for n in ("A", "B", "C", "A")] == ["A", "B", "other", "A"]
    fresh = BoundedNames(limit=10)
    # Only GraphQL names, and not long ones: nothing else a client writes becomes a label.
    for odd in ("a@b.test", "x" * 65, "9lives", "", "é", "a-b"):
        assert fresh(odd) == "other", odd


async def test_rate_limit_refusals(
    client: httpx.AsyncClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = await factory.tenant()
    family = "rouptimize_rate_limit_refusals_total"
    before = await scrape(client)
    monkeypatch.setattr(get_settings(), "rate_limit_burst", 1)
    monkeypatch.setattr(get_settings(), "credential_attempts_per_account", 1)
    wrong = {"email": tenant.admin_email, "password": "not-the-password"}
    with clock.frozen(clock.utcnow()):  # no refill meanwhile, however slow the machine
        codes = [
            (await client.get("/api/v1/me", headers=tenant.headers("read"))).status_code for _ in range(2)
        ]
        logins = [(await client.post("/auth/login", json=wrong)).status_code for _ in range(2)]
    assert codes == [200, 429] and logins == [401, 429]
    after = await scrape(client)
    assert value(after, family, limit="api_token") == value(before, family, limit="api_token") + 1
    assert value(after, family, limit="login_account") == value(before, family, limit="login_account") + 1
    assert_no_tenant_data(after, tenant)


async def test_rate_limiter_failing_open_is_counted(client: httpx.AsyncClient) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    limiter = RateLimiter(f"redis://127.0.0.1:{port}/0")
    before = await scrape(client)
    try:
        assert (await limiter.hit("api:metrics-test")).allowed
    finally:
        await limiter.close()
    after = await scrape(client)
    family = "rouptimize_rate_limit_fail_open_total"
    assert value(after, family) == value(before, family) + 1


async def test_idempotent_replays(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    family = "rouptimize_idempotent_replays_total"
    before = await scrape(client)
    body = {"name": "Replayed", "latitude": 41.0, "longitude": 29.0}
    headers = tenant.headers(**{"Idempotency-Key": f"key-{uuid.uuid4().hex}"})
    first = await client.post("/api/v1/branches", json=body, headers=headers)
    again = await client.post("/api/v1/branches", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    mutation = {"query": "mutation Make($i: CreateBranchInput!) { createBranch(input: $i) {"
        " ... on Branch { id } } }",
                "variables": {"i": {"name": "Replayed too"}}}  # fmt: skip
    graphql_headers = tenant.headers("admin", **{"Idempotency-Key": f"key-{uuid.uuid4().hex}"})
    made = await client.post("/graphql", json=mutation, headers=graphql_headers)
    replayed = await client.post("/graphql", json=mutation, headers=graphql_headers)
    assert replayed.headers["idempotent-replayed"] == "true" and replayed.content == made.content
    after = await scrape(client)
    for surface in ("api", "graphql"):
        assert value(after, family, surface=surface) == value(before, family, surface=surface) + 1
    assert_no_tenant_data(after, tenant, first.json()["data"]["id"])


async def test_outbox_backlog_is_read_at_scrape_time(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    branch = await factory.branch(tenant)
    # The in-process API has no broker: the event waits in the outbox (for the sweeper, if a worker runs).
    await mission(factory, tenant, branch["id"])
    after = await scrape(client)
    assert value(after, "rouptimize_outbox_pending_events") >= 1
    assert "rouptimize_outbox_oldest_pending_age_seconds" in after
    assert value(after, "rouptimize_outbox_oldest_pending_age_seconds") >= 0
    assert_no_tenant_data(after, tenant)


async def test_database_pool_in_use_and_idle(client: httpx.AsyncClient) -> None:
    def connections(state: str) -> float:
        labels = {"pool": "app", "client": "sqlalchemy", "state": state}
        return REGISTRY.get_sample_value("rouptimize_db_pool_connections", labels) or 0.0

    await scrape(client)  # the pool exists
    idle_before = connections("idle") + connections("in_use")
    async with unit_of_work(Principal.system(None)) as uow:
        await uow.flush()
        await uow.driver_connection()  # holds a connection until the block ends
        held = connections("in_use")
    assert held >= 1
    assert connections("in_use") == held - 1
    assert connections("idle") + connections("in_use") >= idle_before


async def test_solver_runs_by_engine(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    day = await plannable_day(factory, tenant, missions=2, capacityWeightKg=100)
    await mission(factory, tenant, day["branch"]["id"], weightKg=500)  # heavier than the van takes
    before = await scrape(client)
    answer = await client.post(
        "/api/v1/routes/plan",
        json={"branchId": day["branch"]["id"], "date": DAY, "timeLimitSeconds": 1, "engine": "pyvrp"},
        headers=tenant.headers(),
    )
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["data"]["unassigned"]) == 1
    after = await scrape(client)
    runs = "rouptimize_solver_runs_total"
    assert (
        value(after, runs, engine="pyvrp", outcome="ok")
        == value(before, runs, engine="pyvrp", outcome="ok") + 1
    )
    timed = "rouptimize_solver_run_duration_seconds_count"
    assert value(after, timed, engine="pyvrp") == value(before, timed, engine="pyvrp") + 1
    assert value(after, "rouptimize_solver_run_duration_seconds_sum", engine="pyvrp") > value(
        before, "rouptimize_solver_run_duration_seconds_sum", engine="pyvrp"
    )
    left = "rouptimize_solver_unassigned_missions_total"
    assert value(after, left, engine="pyvrp") == value(before, left, engine="pyvrp") + 1
    assert_no_tenant_data(after, tenant, *day["missions"])


class TestPublicPort:
    async def test_open_outside_production_without_a_token(self, client: httpx.AsyncClient) -> None:
        assert "rouptimize_http_requests_total" in await scrape(client)

    async def test_token_is_required_once_set(
        self, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(get_settings(), "metrics_token", TOKEN)
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
            refused = await client.get("/metrics", headers=headers)
            assert refused.status_code == 401, headers
            assert refused.headers["www-authenticate"] == "Bearer"
            assert refused.json()["error"]["code"] == "unauthorized"
        assert "rouptimize_" in await scrape(client, Authorization=f"Bearer {TOKEN}")

    async def test_production_serves_it_only_with_a_token(
        self, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(get_settings(), "environment", "production")
        hidden = await client.get("/metrics")
        assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "route_not_found"
        monkeypatch.setattr(get_settings(), "metrics_token", TOKEN)
        assert (await client.get("/metrics")).status_code == 401
        assert "rouptimize_" in await scrape(client, Authorization=f"Bearer {TOKEN}")

    async def test_a_metrics_port_takes_it_off_the_public_port(
        self, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(get_settings(), "metrics_port", 9464)
        assert (await client.get("/metrics")).status_code == 404


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(url: str, process: subprocess.Popen[bytes], **headers: str) -> httpx.Response:
    deadline = time.monotonic() + 60
    while True:
        try:
            return httpx.get(url, headers=headers, timeout=2)
        except httpx.TransportError:
            assert process.poll() is None and time.monotonic() < deadline, f"nothing answered at {url}"
            time.sleep(0.2)


async def _answer(http: httpx.AsyncClient, url: str, process: subprocess.Popen[bytes], **headers: str) -> Any:
    """The first answer at `url`, once the process listens there."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return await http.get(url, headers=headers)
        except httpx.TransportError:
            assert process.poll() is None and time.monotonic() < deadline, f"nothing answered at {url}"
            await asyncio.sleep(0.2)


async def test_worker_serves_queues_and_counts_deliveries(
    client: httpx.AsyncClient,
    factory: Factory,
    private_workers: Workers,
    receiver: Receiver,  # noqa: F811
) -> None:
    port = _free_port()
    worker = private_workers.start(WORKER_METRICS_PORT=str(port), METRICS_TOKEN=TOKEN)
    url = f"http://127.0.0.1:{port}/metrics"
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(timeout=5) as http:
        assert (await _answer(http, url, worker)).status_code == 401
        assert (await http.get(url, headers={"Authorization": "Bearer wrong"})).status_code == 401
        first = (await http.get(url, headers=bearer)).text
        for queue in ("webhooks", "optimization", "maintenance"):
            assert f'rouptimize_dramatiq_queue_messages{{queue="{queue}",state="ready"}}' in first
            assert f'rouptimize_dramatiq_oldest_message_age_seconds{{queue="{queue}"}}' in first

        tenant = await factory.tenant()
        hook = await endpoint(client, tenant, receiver.url)
        await vehicle(client, factory, tenant)
        succeeded, ran = "rouptimize_webhook_deliveries_total", "rouptimize_worker_messages_total"
        for _ in range(150):  # counted once the receiver's answer is in and the message is done
            after = (await http.get(url, headers=bearer)).text
            delivered = value(after, succeeded, outcome="succeeded") > value(
                first, succeeded, outcome="succeeded"
            )
            if delivered and value(after, ran, actor="webhook.deliver") > value(
                first, ran, actor="webhook.deliver"
            ):
                break
            await asyncio.sleep(0.1)
    assert receiver.requests
    # At least this test's delivery: the worker also sends other companies' pending attempts.
    assert value(after, succeeded, outcome="succeeded") >= value(first, succeeded, outcome="succeeded") + 1
    lag = "rouptimize_webhook_delivery_lag_seconds_count"
    assert value(after, lag) >= value(first, lag) + 1
    assert value(after, ran, actor="webhook.deliver", outcome="ok") > value(
        first, ran, actor="webhook.deliver"
    )
    assert "rouptimize_db_pool_connections" in after
    assert_no_tenant_data(after, tenant, receiver.url, hook["id"], "127.0.0.1:")


def test_queue_depth_and_age_come_from_redis(services: Any) -> None:
    broker = RedisBroker(url=private_redis(services.redis_url, db=8))  # nobody consumes this database
    try:
        broker.flush_all()
        broker.declare_queue("webhooks")
        for delay in (None, None, 3_600_000):
            message: dramatiq.Message[Any] = dramatiq.Message(
                queue_name="webhooks", actor_name="webhook.deliver", args=(), kwargs={}, options={}
            )
            broker.enqueue(message, delay=delay)
        time.sleep(0.05)
        families = {f.name: f for f in QueueCollector(broker).collect()}
        depth = {
            (s.labels["queue"], s.labels["state"]): s.value
            for s in families["rouptimize_dramatiq_queue_messages"].samples
        }
        assert depth[("webhooks", "ready")] == 2
        assert depth[("webhooks", "delayed")] == 1
        assert depth[("webhooks", "dead")] == 0
        (age,) = families["rouptimize_dramatiq_oldest_message_age_seconds"].samples
        assert 0.05 <= age.value < 60
    finally:
        broker.flush_all()
        broker.client.connection_pool.disconnect()


@pytest.fixture
def production_api(services: Any) -> Iterator[tuple[str, str]]:
    """`rouptimize serve-api` as production runs it, metrics on a port of their own: both base URLs."""
    port, metrics_port = _free_port(), _free_port()
    env = {
        **os.environ, **services.env(), "ROUPTIMIZE_DATA_DIR": str(get_settings().data_dir),
        "ENVIRONMENT": "production", "TOKEN_HASH_SECRET": "t" * 32, "SESSION_SECRET": "s" * 32,
        "WEBHOOK_SIGNING_SECRET": "w" * 32, "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "false",
        "CLOCK_OFFSET_SECONDS": "0", "METRICS_PORT": str(metrics_port), "METRICS_TOKEN": TOKEN,
    }  # fmt: skip
    log = open(get_settings().data_dir / "production-api.log", "wb")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve-api", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=log, stderr=log,
    )  # fmt: skip
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz", process)
        yield f"http://127.0.0.1:{port}", f"http://127.0.0.1:{metrics_port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def test_production_api_serves_metrics_on_its_metrics_port_only(production_api: tuple[str, str]) -> None:
    public, private = production_api
    assert httpx.get(f"{public}/healthz").status_code == 200
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert httpx.get(f"{public}/metrics", headers=bearer).status_code == 404
    assert httpx.get(f"{private}/metrics").status_code == 401
    exposition = httpx.get(f"{private}/metrics", headers=bearer, timeout=10).text
    assert value(exposition, "rouptimize_http_requests_total", route="/healthz", status="200") >= 1
    assert value(exposition, "rouptimize_http_requests_total", route="/metrics", status="404") >= 1
    # The outbox query ran on the API's event loop for this scrape's thread.
    assert "rouptimize_outbox_pending_events" in exposition
    assert "process_resident_memory_bytes" in exposition
