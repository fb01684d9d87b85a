"""Nothing is lost: a receiver down then up, a worker killed mid-delivery, messages Redis lost, two
workers at once; and the rules of the schedule (Retry-After, disabling a failing endpoint,
history kept 30 days, every address checked when a name is resolved)."""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import inspect
import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import redis
from sqlalchemy import func, select, update

from app.core import clock
from app.core.db import unit_of_work
from app.core.principal import Principal
from app.settings import get_settings
from app.webhooks import addresses
from app.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.fixtures.factories import Factory, Tenant
from tests.fixtures.workers import Workers
from tests.webhooks.conftest import Receiver
from tests.webhooks.support import ENDPOINTS, attempts, endpoint, vehicle
from workers.maintenance import expire_webhook_history_before
from workers.webhooks import resend_due, resend_pending


class Listener:
    """A receiver on a fixed port that can be down (nothing listening) and brought up, that may
    answer slowly, and counts what it received by event id."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self.received: collections.Counter[str] = collections.Counter()
        self.delay = 0.0
        self.server: ThreadingHTTPServer | None = None

    def up(self) -> None:
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                time.sleep(listener.delay)
                listener.received[json.loads(body)["id"]] += 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def down(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    async def wait_for(self, events: set[str], seconds: float = 60) -> None:
        await _until(lambda: events <= set(self.received), seconds)


@pytest.fixture
def listener() -> Iterator[Listener]:
    state = Listener()
    yield state
    state.down()


async def _all_events(tenant: Tenant, count: int) -> set[str]:
    """The events fanned out to the tenant's endpoint, once there are `count` of them (or 60 s passed)."""
    for _ in range(600):
        events = await _events(tenant)
        if len(events) >= count:
            return events
        await asyncio.sleep(0.1)
    return await _events(tenant)


async def _events(tenant: Tenant) -> set[str]:
    async with unit_of_work(Principal.system(tenant.id)) as uow:
        rows = await uow.scalars(
            select(WebhookDelivery.event_id).where(WebhookDelivery.company_id == tenant.id)
        )
    return set(rows)


async def _vans(client: httpx.AsyncClient, factory: Factory, tenant: Tenant, count: int) -> None:
    branch = await factory.branch(tenant)
    for _ in range(count):
        await vehicle(client, factory, tenant, branch["id"])


async def test_a_receiver_down_then_up_gets_every_event(
    client: httpx.AsyncClient, factory: Factory, listener: Listener, delivering: None
) -> None:
    tenant = await factory.tenant()
    hook = await endpoint(client, tenant, listener.url, eventTypes=["vehicle.created"])
    await _vans(client, factory, tenant, 5)
    await asyncio.sleep(2.5)  # attempts 1-3 are refused: nothing listens
    listener.up()
    events = await _all_events(tenant, 5)
    await listener.wait_for(events)
    assert len(events) == 5 and set(listener.received) == events
    made = await attempts(client, tenant, str(hook["id"]), 10, limit=200)
    refused = [a for a in made if a["status"] == "retrying"]
    assert refused and all(a["error"] and a["responseStatus"] is None for a in refused)
    assert {a["eventId"] for a in made if a["status"] == "succeeded"} == events


async def test_a_worker_killed_mid_delivery_loses_nothing(
    client: httpx.AsyncClient, factory: Factory, listener: Listener, private_workers: Workers
) -> None:
    tenant = await factory.tenant()
    listener.delay = 3.0
    listener.up()
    await endpoint(client, tenant, listener.url, eventTypes=["vehicle.created"])
    first = private_workers.start()
    await _vans(client, factory, tenant, 1)
    await _until(lambda: _sending(tenant), 60)
    await asyncio.sleep(0.5)
    Workers.kill(first)  # mid-request: the receiver is still answering
    [event] = await _events(tenant)
    assert await _sending(tenant) == 1
    listener.delay = 0
    private_workers.start()
    # Time passes beyond the attempt's lease (the timeout plus a margin): the sweep hands it on.
    async with unit_of_work(Principal.system(tenant.id)) as uow:
        await uow.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.company_id == tenant.id, WebhookDelivery.status == "sending")
            .values(lease_until=clock.utcnow() - dt.timedelta(seconds=1))
        )
    assert await resend_due() >= 1
    await listener.wait_for({event})
    await _until(lambda: _nothing_sending(tenant), 30)
    # At least once: the killed attempt reached the receiver too, with the same event id.
    assert listener.received[event] >= 1 and await _sending(tenant) == 0


async def _until(check: Callable[[], Any], seconds: float) -> None:
    """Wait until `check()` (awaited when it is a coroutine) is true, or `seconds` pass."""
    for _ in range(int(seconds * 10)):
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        await asyncio.sleep(0.1)


async def _nothing_sending(tenant: Tenant) -> bool:
    return await _sending(tenant) == 0


async def _sending(tenant: Tenant) -> int:
    async with unit_of_work(Principal.system(tenant.id)) as uow:
        count = await uow.scalar(
            select(func.count())
            .select_from(WebhookDelivery)
            .where(WebhookDelivery.company_id == tenant.id, WebhookDelivery.status == "sending")
        )
    return int(count or 0)


async def test_messages_redis_lost_are_recovered_from_the_database(
    client: httpx.AsyncClient, factory: Factory, listener: Listener, private_workers: Workers,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    tenant = await factory.tenant()
    listener.up()
    await endpoint(client, tenant, listener.url, eventTypes=["vehicle.created"])
    await _vans(client, factory, tenant, 4)  # no worker yet: the fan-out messages wait in Redis
    lose_every_message = redis.Redis.from_url(private_workers.redis_url).flushdb
    lose_every_message()  # as a Redis restart without persistence would
    private_workers.start()
    monkeypatch.setattr(get_settings(), "webhook_sweep_after_seconds", 0)  # the sweep's patience, spent
    assert await resend_pending() >= 4
    lose_every_message()  # the fan-outs planned attempts and sent their messages: lose those too
    await resend_due()
    events = await _all_events(tenant, 4)
    await listener.wait_for(events)
    assert len(events) == 4 and all(listener.received[e] >= 1 for e in events)


async def test_two_workers_deliver_each_event_once_per_attempt(
    client: httpx.AsyncClient, factory: Factory, listener: Listener, private_workers: Workers,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    tenant = await factory.tenant()
    listener.up()
    await endpoint(client, tenant, listener.url, eventTypes=["vehicle.created"])
    private_workers.start(threads=4)
    private_workers.start(threads=4)
    await _vans(client, factory, tenant, 30)
    # Sweeps racing the messages send duplicates: a claim lets only one of them through.
    monkeypatch.setattr(get_settings(), "webhook_sweep_after_seconds", 0)
    for _ in range(3):
        await resend_due()
        await asyncio.sleep(0.3)
    events = await _all_events(tenant, 30)
    await listener.wait_for(events)
    await asyncio.sleep(1)
    assert len(events) == 30 and set(listener.received.values()) == {1}


# --- the schedule's rules, one attempt at a time in this process -----------------------------------


async def _plan_one(
    client: httpx.AsyncClient, factory: Factory, tenant: Tenant, url: str
) -> tuple[dict[str, Any], uuid.UUID]:
    """An endpoint and the first planned attempt of one event to it (fanned out here)."""
    from app.webhooks import delivery

    hook = await endpoint(client, tenant, url, eventTypes=["vehicle.created"])
    van = await vehicle(client, factory, tenant)
    async with unit_of_work(Principal.system(tenant.id)) as uow:
        event_id = (await client.get("/api/v1/events", headers=tenant.headers("read"))).json()["data"][-1][
            "id"
        ]
        assert van["id"]
        [planned] = await delivery.fan_out(uow, [event_id])
        planned_id = planned.id
    return hook, planned_id


async def _deliver(tenant: Tenant, delivery_id: uuid.UUID) -> None:
    from app.webhooks import delivery

    assert await delivery.deliver(tenant.id, [delivery_id]) == 1


async def test_retry_after_is_honoured(
    client: httpx.AsyncClient, factory: Factory, receiver: Receiver
) -> None:
    tenant = await factory.tenant()
    receiver.statuses = [429]
    receiver.retry_after = "120"
    hook, planned = await _plan_one(client, factory, tenant, receiver.url)
    await _deliver(tenant, planned)
    [pending, made] = await attempts(client, tenant, str(hook["id"]), 2)
    assert (made["status"], made["responseStatus"]) == ("retrying", 429)
    wait = dt.datetime.fromisoformat(made["nextAttemptAt"]) - dt.datetime.fromisoformat(made["sentAt"])
    assert dt.timedelta(seconds=119) <= wait <= dt.timedelta(seconds=121)
    assert (pending["status"], pending["attempt"], pending["dueAt"]) == ("pending", 2, made["nextAttemptAt"])


async def test_an_endpoint_failing_for_days_is_disabled(
    client: httpx.AsyncClient, factory: Factory, receiver: Receiver
) -> None:
    tenant = await factory.tenant()
    receiver.statuses = [500, 500]
    hook, planned = await _plan_one(client, factory, tenant, receiver.url)
    await _deliver(tenant, planned)
    [listed] = (await client.get(ENDPOINTS, headers=tenant.headers("admin"))).json()["data"]
    assert listed["status"] == "enabled" and listed["failingSince"] is not None
    [pending, _] = await attempts(client, tenant, str(hook["id"]), 2)
    later = clock.utcnow() + dt.timedelta(seconds=get_settings().webhook_disable_after_seconds)
    with clock.frozen(later):
        await _deliver(tenant, uuid.UUID(pending["id"]))
    [listed] = (await client.get(ENDPOINTS, headers=tenant.headers("admin"))).json()["data"]
    assert (listed["status"], listed["disabledReason"]) == ("disabled", "failing")
    assert [a["status"] for a in await attempts(client, tenant, str(hook["id"]))] == ["failed", "retrying"]


async def test_history_is_kept_30_days(
    client: httpx.AsyncClient, factory: Factory, receiver: Receiver
) -> None:
    tenant = await factory.tenant()
    hook, planned = await _plan_one(client, factory, tenant, receiver.url)
    await _deliver(tenant, planned)
    assert len(await attempts(client, tenant, str(hook["id"]))) == 1
    async with unit_of_work(Principal.system(None)) as uow:
        await expire_webhook_history_before(uow, clock.utcnow() - dt.timedelta(days=1))
    assert len(await attempts(client, tenant, str(hook["id"]))) == 1
    async with unit_of_work(Principal.system(None)) as uow:
        # What the daily cleanup does 30 days and a minute from now.
        assert await expire_webhook_history_before(uow, clock.utcnow() + dt.timedelta(minutes=1)) >= 1
    assert await attempts(client, tenant, str(hook["id"])) == []
    assert (await client.get("/api/v1/events", headers=tenant.headers("read"))).json()["data"] == []


async def test_a_name_resolving_to_a_private_address_is_refused_at_delivery(
    client: httpx.AsyncClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = await factory.tenant()
    hook, planned = await _plan_one(client, factory, tenant, "https://hooks.example.com/rouptimize")
    looked_up: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        looked_up.append(host)
        return ["10.0.0.5"]

    async def no_connection(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a connection was opened to a refused address")

    monkeypatch.setattr(addresses, "resolve", resolve)
    monkeypatch.setattr(get_settings(), "webhook_allow_private_networks", False)
    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", no_connection)
    await _deliver(tenant, planned)
    [_, made] = await attempts(client, tenant, str(hook["id"]), 2)
    assert looked_up == ["hooks.example.com"] and made["responseStatus"] is None
    assert "10.0.0.5" in made["error"] and made["status"] == "retrying"
    async with unit_of_work(Principal.system(tenant.id)) as uow:
        record = await uow.scalar(select(WebhookEndpoint).where(WebhookEndpoint.id == uuid.UUID(hook["id"])))
    assert record is not None and record.failing_since is not None


async def test_an_answer_holding_a_nul_byte_is_recorded(
    client: httpx.AsyncClient, factory: Factory, receiver: Receiver
) -> None:
    """PostgreSQL text holds no NUL: a binary answer must not leave the attempt unrecorded (and sent
    again for ever)."""
    tenant = await factory.tenant()
    receiver.body = b"ok\x00\x01binary"
    hook, planned = await _plan_one(client, factory, tenant, receiver.url)
    await _deliver(tenant, planned)
    [made] = await attempts(client, tenant, str(hook["id"]), 1)
    assert (made["status"], made["responseStatus"]) == ("succeeded", 200)
    assert made["responseExcerpt"] == "ok\ufffd\x01binary"
