from __future__ import annotations

import asyncio
import datetime as dt
import json

import httpx
from sqlalchemy import func, select, update

from app.core import clock
from app.core.db import unit_of_work
from app.core.outbox import WebhookEvent
from app.core.principal import Principal
from app.webhooks.signing import verify
from tests.fixtures import days
from tests.fixtures.factories import Factory, Tenant
from tests.webhooks.conftest import Receiver

VEHICLE = {"name": "Van 1", "type": "van"}


async def _endpoint(
    client: httpx.AsyncClient, tenant: Tenant, url: str, **fields: object
) -> dict[str, object]:
    response = await client.post(
        "/companies/me/webhook-endpoints", json={"url": url, **fields}, headers=tenant.headers("admin")
    )
    assert response.status_code == 201, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


async def _vehicle(client: httpx.AsyncClient, factory: Factory, tenant: Tenant) -> dict[str, object]:
    branch = await factory.branch(tenant)
    response = await client.post(
        "/api/v1/vehicles", json={**VEHICLE, "branchId": branch["id"]}, headers=tenant.headers()
    )
    assert response.status_code == 201, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


async def _deliveries(
    client: httpx.AsyncClient, tenant: Tenant, endpoint_id: object, count: int
) -> list[dict[str, object]]:
    for _ in range(150):
        response = await client.get(
            f"/companies/me/webhook-endpoints/{endpoint_id}/deliveries", headers=tenant.headers("admin")
        )
        rows = response.json()["data"]
        # An attempt is `sending` from before the receiver has it until its answer is recorded.
        if len(rows) >= count and all(row["status"] != "sending" for row in rows):
            return rows  # type: ignore[no-any-return]
        await asyncio.sleep(0.1)
    return rows  # type: ignore[no-any-return]


async def test_signed_delivery_of_a_committed_change(
    client: httpx.AsyncClient, factory: Factory, receiver: Receiver, delivering: None
) -> None:
    tenant = await factory.tenant()
    endpoint = await _endpoint(client, tenant, receiver.url, eventTypes=["vehicle.created"])
    vehicle = await _vehicle(client, factory, tenant)
    [request] = receiver.wait_for(1)
    body = json.loads(request.body)
    assert body["type"] == "vehicle.created" and body["resourceId"] == vehicle["id"]
    assert body["data"] == vehicle and body["companyId"] == str(tenant.id)
    assert body["id"].startswith("evt_") and body["timestamp"].endswith("Z")
    assert request.headers["x-rouptimize-event-id"] == body["id"]
    assert request.headers["x-rouptimize-event-type"] == "vehicle.created"
    assert verify(request.headers["x-rouptimize-signature"], str(endpoint["secret"]), request.body)
    assert not verify(request.headers["x-rouptimize-signature"], "whsec_wrong", request.body)
    [attempt] = await _deliveries(client, tenant, endpoint["id"], 1)
    assert (attempt["status"], attempt["attempt"], attempt["responseStatus"]) == ("succeeded", 1, 200)


async def test_failures_are_retried_with_backoff_then_succeed(
    client: httpx.AsyncClient, factory: Factory, receiver: Receiver, delivering: None
) -> None:
    tenant = await factory.tenant()
    receiver.statuses = [500, 503]
    endpoint = await _endpoint(client, tenant, receiver.url, eventTypes=["vehicle.created"])
    await _vehicle(client, factory, tenant)
    requests = receiver.wait_for(3, timeout=40)
    assert len(requests) == 3
    assert len({r.headers["x-rouptimize-event-id"] for r in requests}) == 1
    attempts = await _deliveries(client, tenant, endpoint["id"], 3)
    assert [(a["attempt"], a["status"]) for a in attempts] == [
        (3, "succeeded"),
        (2, "retrying"),
        (1, "retrying"),
    ]
    assert attempts[1]["nextAttemptAt"] is not None and attempts[1]["responseStatus"] == 503


async def test_gone_is_not_retried_and_disables_the_endpoint(
    client: httpx.AsyncClient, factory: Factory, receiver: Receiver, delivering: None
) -> None:
    tenant = await factory.tenant()
    receiver.statuses = [410]
    endpoint = await _endpoint(client, tenant, receiver.url)
    await _vehicle(client, factory, tenant)
    receiver.wait_for(1)
    await asyncio.sleep(3)
    assert len(receiver.requests) == 1
    [attempt] = await _deliveries(client, tenant, endpoint["id"], 1)
    assert (attempt["status"], attempt["responseStatus"]) == ("failed", 410)
    # 410 Gone: the receiver asks for no more; the endpoint is disabled and says why.
    listed = await client.get("/companies/me/webhook-endpoints", headers=tenant.headers("admin"))
    [shown] = listed.json()["data"]
    assert (shown["status"], shown["disabledReason"]) == ("disabled", "gone")


async def test_rotation_signs_with_both_secrets(
    client: httpx.AsyncClient, factory: Factory, receiver: Receiver, delivering: None
) -> None:
    tenant = await factory.tenant()
    endpoint = await _endpoint(client, tenant, receiver.url, eventTypes=["vehicle.created"])
    rotated = await client.patch(
        f"/companies/me/webhook-endpoints/{endpoint['id']}",
        json={"rotateSecret": True},
        headers=tenant.headers("admin"),
    )
    new_secret = rotated.json()["data"]["secret"]
    assert new_secret != endpoint["secret"]
    await _vehicle(client, factory, tenant)
    [request] = receiver.wait_for(1)
    header = request.headers["x-rouptimize-signature"]
    assert header.count("v1=") == 2
    assert verify(header, new_secret, request.body) and verify(header, str(endpoint["secret"]), request.body)


async def test_events_not_subscribed_or_rolled_back_are_not_sent(
    client: httpx.AsyncClient, factory: Factory, receiver: Receiver, delivering: None
) -> None:
    tenant = await factory.tenant()
    await _endpoint(client, tenant, receiver.url, eventTypes=["route.completed"])
    await _vehicle(client, factory, tenant)
    refused = await client.post(
        "/api/v1/vehicles", json={"name": "x", "type": "spaceship"}, headers=tenant.headers()
    )
    assert refused.status_code == 422
    await asyncio.sleep(3)
    assert receiver.requests == []


async def test_sweeper_resends_lost_fan_outs(
    client: httpx.AsyncClient, factory: Factory, receiver: Receiver, worker: object
) -> None:
    """No broker in the API process (as if Redis was away at commit): the event waits in the outbox
    and the periodic sweep hands it to delivery."""
    tenant = await factory.tenant()
    await _endpoint(client, tenant, receiver.url, eventTypes=["vehicle.created"])
    vehicle = await _vehicle(client, factory, tenant)
    async with unit_of_work(Principal.system(tenant.id)) as uow:
        pending = await uow.scalar(
            select(func.count())
            .select_from(WebhookEvent)
            .where(WebhookEvent.resource_id == vehicle["id"], WebhookEvent.status == "pending")
        )
        assert pending == 1
        # Age the event past the sweep threshold instead of waiting for it.
        await uow.execute(
            update(WebhookEvent)
            .where(WebhookEvent.resource_id == vehicle["id"])
            .values(created_at=clock.utcnow() - dt.timedelta(minutes=1))
        )
    [request] = receiver.wait_for(1, timeout=60)
    assert json.loads(request.body)["resourceId"] == vehicle["id"]


async def test_every_event_of_one_transaction_is_delivered(
    client: httpx.AsyncClient, factory: Factory, receiver: Receiver, delivering: None
) -> None:
    """A bulk import commits many events at once; they go to delivery as one message."""
    tenant = await factory.tenant()
    await _endpoint(client, tenant, receiver.url, eventTypes=["mission.created"])
    branch = await factory.branch(tenant)
    base = {"branchId": branch["id"], "date": days.day(5), "latitude": 41.0}
    missions = [{**base, "longitude": 29.0 + i / 100} for i in range(3)]
    response = await client.post(
        "/api/v1/missions/bulk", json={"missions": missions}, headers=tenant.headers()
    )
    assert response.status_code == 200
    created = {item["data"]["id"] for item in response.json()["data"]}
    requests = receiver.wait_for(3)
    assert {json.loads(r.body)["resourceId"] for r in requests} == created


async def test_the_sweep_drains_a_backlog_page_after_page(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    """Events lost in bulk (an import whose hand-off never reached the broker) are all fanned out by
    one sweep, not one page per run."""
    from workers.webhooks import resend_pending

    tenant = await factory.tenant()
    vehicles = [await _vehicle(client, factory, tenant) for _ in range(5)]
    ids = [v["id"] for v in vehicles]
    async with unit_of_work(Principal.system(tenant.id)) as uow:
        # Older than anything else pending in the database, so they come first.
        await uow.execute(
            update(WebhookEvent)
            .where(WebhookEvent.resource_id.in_(ids))
            .values(created_at=clock.utcnow() - dt.timedelta(days=365))
        )
    assert await resend_pending(page=2, budget_seconds=5) >= 5
    async with unit_of_work(Principal.system(tenant.id)) as uow:
        statuses = await uow.scalars(select(WebhookEvent.status).where(WebhookEvent.resource_id.in_(ids)))
    assert statuses == ["dispatched"] * 5
