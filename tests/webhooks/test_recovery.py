"""What an admin does after an outage: redeliver one event, replay a range, send a test event; and
what an endpoint's state says (disabled and why, rotation overlaps)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid

import httpx
import pytest
from sqlalchemy import func, select

from app.core import clock
from app.core.db import unit_of_work
from app.core.outbox import WebhookEvent
from app.core.principal import Principal
from app.webhooks.models import WebhookEndpoint
from app.webhooks.service import active_secrets
from tests.fixtures.factories import Factory, Tenant
from tests.webhooks.conftest import Receiver
from tests.webhooks.support import ENDPOINTS, attempts, endpoint, standard_verify, vehicle


async def _succeeded_delivery(
    client: httpx.AsyncClient, factory: Factory, tenant: Tenant, receiver: Receiver
) -> tuple[dict[str, object], dict[str, object]]:
    hook = await endpoint(client, tenant, receiver.url, eventTypes=["vehicle.created"])
    await vehicle(client, factory, tenant)
    receiver.wait_for(1)
    [made] = await attempts(client, tenant, str(hook["id"]), 1, status="succeeded")
    return hook, made


@pytest.mark.usefixtures("delivering")
class TestRedeliver:
    async def test_one_more_attempt_of_the_same_event(
        self, client: httpx.AsyncClient, factory: Factory, receiver: Receiver
    ) -> None:
        tenant = await factory.tenant()
        hook, made = await _succeeded_delivery(client, factory, tenant, receiver)
        url = f"{ENDPOINTS}/{hook['id']}/deliveries/{made['id']}/redeliver"
        response = await client.post(url, headers=tenant.headers("admin", **{"Idempotency-Key": "again-1"}))
        assert response.status_code == 200, response.text
        planned = response.json()["data"]
        assert (planned["status"], planned["attempt"], planned["trigger"]) == ("pending", 2, "redeliver")
        assert planned["eventId"] == made["eventId"]
        replayed = await client.post(url, headers=tenant.headers("admin", **{"Idempotency-Key": "again-1"}))
        assert replayed.headers["idempotent-replayed"] == "true" and replayed.json() == response.json()
        second = receiver.wait_for(2)[1]
        assert json.loads(second.body)["id"] == made["eventId"] == second.headers["webhook-id"]
        newest = (await attempts(client, tenant, str(hook["id"]), 2, status="succeeded"))[0]
        assert (newest["id"], newest["attempt"]) == (planned["id"], 2)

    async def test_refusals(self, client: httpx.AsyncClient, factory: Factory, receiver: Receiver) -> None:
        tenant, other = await factory.tenant(), await factory.tenant()
        hook, made = await _succeeded_delivery(client, factory, tenant, receiver)
        another = await endpoint(client, tenant, receiver.url)
        base = f"{ENDPOINTS}/{hook['id']}/deliveries"
        for url, headers, status in (
            (f"{base}/{made['id']}/redeliver", tenant.headers("write"), 403),
            (f"{base}/{made['id']}/redeliver", other.headers("admin"), 404),
            (f"{ENDPOINTS}/{another['id']}/deliveries/{made['id']}/redeliver", tenant.headers("admin"), 404),
            (f"{base}/not-an-id/redeliver", tenant.headers("admin"), 404),
        ):
            assert (await client.post(url, headers=headers)).status_code == status, url
        await client.patch(
            f"{ENDPOINTS}/{hook['id']}", json={"status": "disabled"}, headers=tenant.headers("admin")
        )
        disabled = await client.post(f"{base}/{made['id']}/redeliver", headers=tenant.headers("admin"))
        assert disabled.status_code == 409
        assert disabled.json()["error"]["details"] == {"status": "disabled", "disabledReason": "manual"}


@pytest.mark.usefixtures("delivering")
class TestReplay:
    async def test_a_range_is_delivered_again(
        self, client: httpx.AsyncClient, factory: Factory, receiver: Receiver
    ) -> None:
        tenant = await factory.tenant()
        branch = await factory.branch(tenant)
        started = clock.utcnow()
        hook = await endpoint(client, tenant, receiver.url, eventTypes=["route.completed"])
        vans = [await vehicle(client, factory, tenant, branch["id"]) for _ in range(3)]
        await _until_dispatched(tenant)
        # Subscribed to every type only after the events went out: a replay backfills it.
        widened = await client.patch(
            f"{ENDPOINTS}/{hook['id']}", json={"eventTypes": ["*"]}, headers=tenant.headers("admin")
        )
        assert widened.json()["data"]["eventTypes"] == [] and receiver.requests == []
        body = {"from": started.isoformat(), "to": clock.utcnow().isoformat()}
        response = await client.post(
            f"{ENDPOINTS}/{hook['id']}/replay", json=body, headers=tenant.headers("admin")
        )
        assert response.status_code == 200, response.text
        assert response.json()["data"] == {"queued": 3}
        received = [json.loads(r.body) for r in receiver.wait_for(3)]
        assert sorted(r["resourceId"] for r in received) == sorted(v["id"] for v in vans)
        assert {a["trigger"] for a in await attempts(client, tenant, str(hook["id"]), 3)} == {"replay"}
        narrowed = {**body, "eventTypes": ["route.created"]}
        again = await client.post(
            f"{ENDPOINTS}/{hook['id']}/replay", json=narrowed, headers=tenant.headers("admin")
        )
        assert again.json()["data"] == {"queued": 0}

    @pytest.mark.parametrize(
        ("shift", "field"),
        [({"from": -31 * 24}, "from"), ({"to": -2}, "to"), ({"eventTypes": ["x.y"]}, "eventTypes")],
    )
    async def test_invalid_ranges_are_422(
        self,
        client: httpx.AsyncClient,
        factory: Factory,
        receiver: Receiver,
        shift: dict[str, object],
        field: str,
    ) -> None:
        tenant = await factory.tenant()
        hook = await endpoint(client, tenant, receiver.url)
        now = clock.utcnow()
        body: dict[str, object] = {"from": (now - dt.timedelta(hours=1)).isoformat(), "to": now.isoformat()}
        for name, value in shift.items():
            body[name] = (now + dt.timedelta(hours=value)).isoformat() if isinstance(value, int) else value
        response = await client.post(
            f"{ENDPOINTS}/{hook['id']}/replay", json=body, headers=tenant.headers("admin")
        )
        assert response.status_code == 422, response.text
        assert response.json()["error"]["details"][0]["field"].startswith(field)


async def _until_dispatched(tenant: Tenant) -> None:
    for _ in range(300):
        async with unit_of_work(Principal.system(tenant.id)) as uow:
            pending = await uow.scalar(
                select(func.count())
                .select_from(WebhookEvent)
                .where(WebhookEvent.company_id == tenant.id, WebhookEvent.status == "pending")
            )
        if not pending:
            return
        await asyncio.sleep(0.1)


class TestSendTest:
    async def test_a_signed_test_event_and_its_attempt(
        self, client: httpx.AsyncClient, factory: Factory, receiver: Receiver
    ) -> None:
        tenant = await factory.tenant()
        hook = await endpoint(client, tenant, receiver.url, eventTypes=["route.completed"])
        response = await client.post(f"{ENDPOINTS}/{hook['id']}/test", headers=tenant.headers("admin"))
        assert response.status_code == 200, response.text
        made = response.json()["data"]
        assert (made["status"], made["responseStatus"], made["trigger"]) == ("succeeded", 200, "test")
        assert made["eventType"] == "webhook_endpoint.test" and made["durationMs"] >= 0
        [request] = receiver.requests
        payload = standard_verify(str(hook["secret"]), request.body, request.headers)
        assert payload["type"] == "webhook_endpoint.test" and payload["data"]["endpointId"] == hook["id"]
        # Not an event of the company: the feed does not show it.
        assert (await client.get("/api/v1/events", headers=tenant.headers("read"))).json()["data"] == []

    async def test_a_failing_receiver_is_tried_once_and_shown(
        self, client: httpx.AsyncClient, factory: Factory, receiver: Receiver
    ) -> None:
        tenant = await factory.tenant()
        receiver.statuses = [500]
        hook = await endpoint(client, tenant, receiver.url)
        made = (await client.post(f"{ENDPOINTS}/{hook['id']}/test", headers=tenant.headers("admin"))).json()[
            "data"
        ]
        assert (made["status"], made["responseStatus"], made["nextAttemptAt"]) == ("failed", 500, None)
        assert len(await attempts(client, tenant, str(hook["id"]))) == 1


class TestEndpointState:
    async def test_manual_disable_and_enable(
        self, client: httpx.AsyncClient, factory: Factory, receiver: Receiver
    ) -> None:
        tenant = await factory.tenant()
        hook = await endpoint(client, tenant, receiver.url)
        assert hook["disabledReason"] is None
        url, admin = f"{ENDPOINTS}/{hook['id']}", tenant.headers("admin")
        off = (await client.patch(url, json={"status": "disabled"}, headers=admin)).json()["data"]
        assert (off["status"], off["disabledReason"]) == ("disabled", "manual")
        on = (await client.patch(url, json={"status": "enabled"}, headers=admin)).json()["data"]
        assert (on["status"], on["disabledReason"], on["failingSince"]) == ("enabled", None, None)

    async def test_rotation_keeps_the_old_secret_for_the_overlap(
        self, client: httpx.AsyncClient, factory: Factory, receiver: Receiver
    ) -> None:
        tenant = await factory.tenant()
        hook = await endpoint(client, tenant, receiver.url)
        url, admin = f"{ENDPOINTS}/{hook['id']}", tenant.headers("admin")
        for bad in (0, 169, "1"):
            refused = await client.patch(url, json={"rotateSecret": {"overlapHours": bad}}, headers=admin)
            assert refused.status_code == 422 and "rotateSecret" in refused.text
        rotated = await client.patch(url, json={"rotateSecret": {"overlapHours": 2}}, headers=admin)
        new = rotated.json()["data"]["secret"]
        assert new.startswith("whsec_") and new != hook["secret"] and "secret" not in (
            await client.get(ENDPOINTS, headers=admin)).json()["data"][0]  # fmt: skip
        async with unit_of_work(Principal.system(tenant.id)) as uow:
            record = await uow.scalar(
                select(WebhookEndpoint).where(WebhookEndpoint.id == uuid.UUID(hook["id"]))
            )
        assert record is not None and set(active_secrets(record)) == {hook["secret"], new}
        later = clock.utcnow() + dt.timedelta(hours=2, seconds=1)
        assert active_secrets(record, later) == [new]
