"""The events feed: a company's events of the last 30 days, oldest first, as webhooks deliver them."""

from __future__ import annotations

import datetime as dt
import json

import httpx
import pytest
from sqlalchemy import update

from app.core import clock
from app.core.db import unit_of_work
from app.core.outbox import WebhookEvent
from app.core.principal import Principal
from app.settings import get_settings
from tests.fixtures.factories import Factory
from tests.webhooks.conftest import Receiver
from tests.webhooks.support import endpoint, vehicle

FEED = "/api/v1/events"


async def test_oldest_first_paged_filtered_and_as_delivered(
    client: httpx.AsyncClient, factory: Factory, receiver: Receiver, delivering: None
) -> None:
    tenant, other = await factory.tenant(), await factory.tenant()
    await endpoint(client, tenant, receiver.url, eventTypes=["vehicle.created"])
    branch = await factory.branch(tenant)
    vans = [await vehicle(client, factory, tenant, branch["id"]) for _ in range(3)]
    await vehicle(client, factory, other)

    async def read(**params: object) -> dict[str, object]:
        response = await client.get(FEED, params=params, headers=tenant.headers("read"))
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    everything = (await read())["data"]
    created = [e for e in everything if e["type"] == "vehicle.created"]
    assert [e["resourceId"] for e in created] == [v["id"] for v in vans]
    assert [e["type"] for e in everything] == ["vehicle.created"] * 3  # branches emit no events
    ids = [e["id"] for e in everything]
    assert ids == sorted(ids)
    first = await read(limit=2)
    assert [e["id"] for e in first["data"]] == ids[:2]
    assert first["pagination"] == {"limit": 2, "nextCursor": ids[1], "hasMore": True}
    assert [e["id"] for e in (await read(after=ids[1]))["data"]] == ids[2:]
    assert (await read(types=["route.created"]))["data"] == []
    # Exactly the body a webhook delivered, and the same one by id.
    delivered = {json.loads(r.body)["id"]: json.loads(r.body) for r in receiver.wait_for(3)}
    assert delivered == {e["id"]: e for e in everything}
    one = await client.get(f"{FEED}/{ids[0]}", headers=tenant.headers("read"))
    assert one.json() == {"data": everything[0]}
    # Deleting the endpoint they were delivered to takes nothing from the feed.
    [hook] = (await client.get("/companies/me/webhook-endpoints", headers=tenant.headers("admin"))).json()[
        "data"
    ]
    deleted = await client.delete(
        f"/companies/me/webhook-endpoints/{hook['id']}", headers=tenant.headers("admin")
    )
    assert deleted.status_code == 204 and (await read())["data"] == everything
    assert (await client.get(f"{FEED}/{ids[0]}", headers=other.headers("read"))).status_code == 404


@pytest.mark.parametrize(
    ("params", "field"),
    [({"after": "evt_nope"}, "after"), ({"types": "mission.eaten"}, "types"), ({"limit": 0}, "limit"),
     ({"limit": 201}, "limit"), ({"since": "x"}, "since")],
)  # fmt: skip
async def test_invalid_queries_are_422(
    client: httpx.AsyncClient, factory: Factory, params: dict[str, object], field: str
) -> None:
    tenant = await factory.tenant()
    response = await client.get(FEED, params=params, headers=tenant.headers("read"))
    assert response.status_code == 422, response.text
    assert field in response.json()["error"]["details"][0]["field"]


async def test_events_older_than_30_days_are_gone(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    van = await vehicle(client, factory, tenant)
    [event] = (await client.get(FEED, headers=tenant.headers("read"))).json()["data"]
    assert event["resourceId"] == van["id"]
    async with unit_of_work(Principal.system(tenant.id)) as uow:
        await uow.execute(
            update(WebhookEvent)
            .where(WebhookEvent.id == event["id"])
            .values(created_at=clock.utcnow() - dt.timedelta(days=30, minutes=1))
        )
    assert (await client.get(FEED, headers=tenant.headers("read"))).json()["data"] == []
    assert (await client.get(f"{FEED}/{event['id']}", headers=tenant.headers("read"))).status_code == 404
    assert (await client.get(f"{FEED}/garbage", headers=tenant.headers("read"))).status_code == 404


async def test_events_appear_once_they_have_settled(
    client: httpx.AsyncClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A transaction still open may commit an earlier event id after a later one was read: the
    feed shows events only once the settle window has passed, so paging with `after` skips none."""
    monkeypatch.setattr(get_settings(), "events_feed_settle_seconds", 5.0)
    tenant = await factory.tenant()
    await vehicle(client, factory, tenant)
    assert (await client.get(FEED, headers=tenant.headers("read"))).json()["data"] == []
    with clock.frozen(clock.utcnow() + dt.timedelta(seconds=6)):
        [event] = (await client.get(FEED, headers=tenant.headers("read"))).json()["data"]
        assert (await client.get(f"{FEED}/{event['id']}", headers=tenant.headers("read"))).status_code == 200
