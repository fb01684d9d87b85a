"""Settings > Webhooks through GraphQL: the same rules and error codes as the REST settings endpoints."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.core import clock
from app.core.db import unit_of_work
from app.core.jsonutil import iso_z
from app.core.principal import Principal
from app.webhooks.models import WebhookEndpoint
from app.webhooks.service import active_secrets
from app.webhooks.signing import verify
from tests.fixtures.factories import Factory, Tenant
from tests.graphql.client import error_of, gql
from tests.webhooks.conftest import Receiver

FIELDS = "id url description eventTypes status disabledReason failingSince createdAt updatedAt"
DELIVERY = (
    "id eventId eventType attempt status trigger dueAt sentAt responseStatus responseExcerpt error "
    "durationMs nextAttemptAt createdAt"
)
CREATE = f"""mutation($input: CreateWebhookEndpointInput!) {{
  createWebhookEndpoint(input: $input) {{
    ... on WebhookEndpointWithSecret {{ {FIELDS} secret }} ...Refusal }} }}"""
GET = f"query($id: UUID!) {{ webhookEndpoint(id: $id) {{ {FIELDS} }} }}"
LIST = f"""query($first: Int!, $after: String) {{
  webhookEndpoints(first: $first, after: $after) {{
    nodes {{ {FIELDS} }} pageInfo {{ endCursor hasNextPage }} }} }}"""
UPDATE = f"""mutation($id: UUID!, $input: UpdateWebhookEndpointInput!) {{
  updateWebhookEndpoint(id: $id, input: $input) {{ ... on WebhookEndpoint {{ {FIELDS} }} ...Refusal }} }}"""
ROTATE = (
    "mutation($id: UUID!, $hours: Int!) { rotateWebhookSecret(id: $id, overlapHours: $hours) {"
    " ... on WebhookEndpointWithSecret { id secret } ...Refusal } }"
)
ROTATE_DEFAULT = (
    "mutation($id: UUID!) { rotateWebhookSecret(id: $id) {"
    " ... on WebhookEndpointWithSecret { id secret } ...Refusal } }"
)
DELETE = "mutation($id: UUID!) { deleteWebhookEndpoint(id: $id) { ... on Deleted { id } ...Refusal } }"
SEND_TEST = (
    f"mutation($id: UUID!) {{ sendWebhookTest(endpointId: $id) {{"
    f" ... on WebhookDelivery {{ {DELIVERY} }} ...Refusal }} }}"
)
REDELIVER = f"""mutation($id: UUID!, $delivery: UUID!) {{
  redeliverWebhook(endpointId: $id, deliveryId: $delivery) {{
    ... on WebhookDelivery {{ {DELIVERY} }} ...Refusal }} }}"""
REPLAY = """mutation($id: UUID!, $input: ReplayWebhookEventsInput!) {
  replayWebhookEvents(endpointId: $id, input: $input) { ... on ReplayResult { queued } ...Refusal } }"""
DELIVERIES = f"""query($id: UUID!, $status: [DeliveryStatus!], $type: String) {{
  webhookDeliveries(endpointId: $id, status: $status, eventType: $type) {{
    nodes {{ {DELIVERY} }} pageInfo {{ hasNextPage }} }} }}"""
NESTED = f"""query($id: UUID!) {{
  webhookEndpoint(id: $id) {{ id deliveries(first: 10) {{ nodes {{ {DELIVERY} }} }} }} }}"""


async def _data(client: httpx.AsyncClient, credential: str, query: str, **variables: Any) -> Any:
    body = (await gql(client, credential, query, variables)).json()
    assert "errors" not in body, body
    return body["data"]


async def _error(client: httpx.AsyncClient, credential: str, query: str, **variables: Any) -> Any:
    """The refusal: a mutation's typed result, or a query's top-level error (`code`, `details`)."""
    return error_of(await gql(client, credential, query, variables))


async def _endpoint(client: httpx.AsyncClient, tenant: Tenant, url: str, **fields: Any) -> dict[str, Any]:
    data = await _data(client, tenant.admin_session, CREATE, input={"url": url, **fields})
    return data["createWebhookEndpoint"]  # type: ignore[no-any-return]


async def _record(tenant: Tenant, endpoint_id: str) -> WebhookEndpoint:
    async with unit_of_work(Principal.system(tenant.id)) as uow:
        record = await uow.scalar(select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id))
    assert record is not None
    return record


def _field(error: dict[str, Any]) -> str:
    assert error["code"] == "validation_error", error
    return error["details"][0]["field"]  # type: ignore[no-any-return]


class TestCreateWebhookEndpoint:
    async def test_the_secret_is_shown_once(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        created = await _endpoint(
            client, tenant, "https://erp.example.com/hook", description="ERP", eventTypes=["route.completed"]
        )
        assert created["secret"].startswith("whsec_")
        assert (created["status"], created["disabledReason"], created["eventTypes"]) == (
            "ENABLED", None, ["route.completed"],
        )  # fmt: skip
        got = await gql(client, tenant.admin_session, GET, {"id": created["id"]})
        listed = await gql(client, tenant.admin_session, LIST, {"first": 50})
        assert got.json()["data"]["webhookEndpoint"]["url"] == created["url"]
        assert created["secret"] not in got.text and created["secret"] not in listed.text
        # Not null later: not there at all. Only the create and rotate answers carry it.
        asked = await _error(
            client, tenant.admin_session, "query($id: UUID!) { webhookEndpoint(id: $id) { secret } }",
            id=created["id"],
        )  # fmt: skip
        assert asked["code"] == "validation_error"

    @pytest.mark.parametrize("types", [["*"], ["*", "route.completed"], []])
    async def test_star_or_nothing_is_every_type(
        self, client: httpx.AsyncClient, factory: Factory, types: list[str]
    ) -> None:
        tenant = await factory.tenant()
        assert (await _endpoint(client, tenant, "https://example.com/h", eventTypes=types))[
            "eventTypes"
        ] == []

    async def test_disabled_from_the_start_is_manual(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant()
        created = await _endpoint(client, tenant, "https://example.com/h", status="DISABLED")
        assert (created["status"], created["disabledReason"]) == ("DISABLED", "MANUAL")

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"url": "ftp://example.com/hook"}, "input.url"),
            ({"url": "not a url"}, "input.url"),
            ({"url": "https://example.com/h", "eventTypes": ["mission.exploded"]}, "input.eventTypes"),
        ],
    )
    async def test_invalid_input_names_the_field(
        self, client: httpx.AsyncClient, factory: Factory, fields: dict[str, Any], field: str
    ) -> None:
        tenant = await factory.tenant()
        assert _field(await _error(client, tenant.admin_session, CREATE, input=fields)) == field
        assert (await _data(client, tenant.admin_session, LIST, first=50))["webhookEndpoints"]["nodes"] == []


class TestWebhookEndpoints:
    async def test_pages_and_one_by_id(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        made = [await _endpoint(client, tenant, f"https://example.com/{n}") for n in range(3)]
        first = (await _data(client, tenant.admin_session, LIST, first=2))["webhookEndpoints"]
        assert first["pageInfo"]["hasNextPage"] is True and len(first["nodes"]) == 2
        rest = await _data(client, tenant.admin_session, LIST, first=2, after=first["pageInfo"]["endCursor"])
        seen = [e["id"] for e in first["nodes"] + rest["webhookEndpoints"]["nodes"]]
        assert seen == [e["id"] for e in made]
        got = (await _data(client, tenant.admin_session, GET, id=made[1]["id"]))["webhookEndpoint"]
        assert got == {k: v for k, v in made[1].items() if k != "secret"}

    async def test_page_size_is_checked(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        assert _field(await _error(client, tenant.admin_session, LIST, first=201)) == "first"


class TestUpdateWebhookEndpoint:
    async def test_disabling_is_manual_and_enabling_clears_it(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant()
        created = await _endpoint(client, tenant, "https://example.com/h", eventTypes=["route.completed"])
        disabled = await _data(
            client, tenant.admin_session, UPDATE, id=created["id"],
            input={"status": "DISABLED", "description": "paused", "eventTypes": ["*"]},
        )  # fmt: skip
        shown = disabled["updateWebhookEndpoint"]
        assert (shown["status"], shown["disabledReason"]) == ("DISABLED", "MANUAL")
        assert (shown["description"], shown["eventTypes"], shown["url"]) == ("paused", [], created["url"])
        enabled = await _data(
            client, tenant.admin_session, UPDATE, id=created["id"], input={"status": "ENABLED"}
        )
        shown = enabled["updateWebhookEndpoint"]
        assert (shown["status"], shown["disabledReason"], shown["description"]) == ("ENABLED", None, "paused")

    async def test_required_fields_may_not_be_null(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        created = await _endpoint(client, tenant, "https://example.com/h")
        error = await _error(client, tenant.admin_session, UPDATE, id=created["id"], input={"url": None})
        assert error["code"] == "validation_error"


class TestRotateWebhookSecret:
    @pytest.mark.parametrize(("query", "hours"), [(ROTATE, 2), (ROTATE_DEFAULT, 24)])
    async def test_the_old_secret_signs_for_the_overlap(
        self, client: httpx.AsyncClient, factory: Factory, query: str, hours: int
    ) -> None:
        tenant = await factory.tenant()
        created = await _endpoint(client, tenant, "https://example.com/h")
        rotated = (await _data(client, tenant.admin_session, query, id=created["id"], hours=hours))[
            "rotateWebhookSecret"
        ]
        old, new = created["secret"], rotated["secret"]
        assert new.startswith("whsec_") and new != old
        record = await _record(tenant, created["id"])
        now = clock.utcnow()
        assert active_secrets(record, now + dt.timedelta(hours=hours, minutes=-5)) == [old, new]
        assert active_secrets(record, now + dt.timedelta(hours=hours, minutes=5)) == [new]

    @pytest.mark.parametrize("hours", [0, 169])
    async def test_overlap_outside_1_to_168_is_refused(
        self, client: httpx.AsyncClient, factory: Factory, hours: int
    ) -> None:
        tenant = await factory.tenant()
        created = await _endpoint(client, tenant, "https://example.com/h")
        error = await _error(client, tenant.admin_session, ROTATE, id=created["id"], hours=hours)
        assert _field(error) == "overlapHours"
        assert len((await _record(tenant, created["id"])).secrets) == 1


class TestDeleteWebhookEndpoint:
    async def test_deleted_is_gone(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        created = await _endpoint(client, tenant, "https://example.com/h")
        deleted = await _data(client, tenant.admin_session, DELETE, id=created["id"])
        assert deleted["deleteWebhookEndpoint"]["id"] == created["id"]
        error = await _error(client, tenant.admin_session, GET, id=created["id"])
        assert error["code"] == "not_found"


class TestSendWebhookTest:
    async def test_the_receiver_gets_a_signed_test_event(
        self, client: httpx.AsyncClient, factory: Factory, receiver: Receiver
    ) -> None:
        tenant = await factory.tenant()
        created = await _endpoint(client, tenant, receiver.url, eventTypes=["route.completed"])
        sent = (await _data(client, tenant.admin_session, SEND_TEST, id=created["id"]))["sendWebhookTest"]
        assert (sent["status"], sent["responseStatus"], sent["attempt"], sent["trigger"]) == (
            "SUCCEEDED", 200, 1, "test",
        )  # fmt: skip
        assert (
            sent["eventType"] == "webhook_endpoint.test" and sent["sentAt"] and sent["durationMs"] is not None
        )
        [request] = receiver.requests
        body = json.loads(request.body)
        assert (body["type"], body["id"], body["resourceId"]) == (
            "webhook_endpoint.test", sent["eventId"], created["id"],
        )  # fmt: skip
        assert verify(request.headers["x-rouptimize-signature"], created["secret"], request.body)

    async def test_the_attempt_is_in_the_deliveries(
        self, client: httpx.AsyncClient, factory: Factory, receiver: Receiver
    ) -> None:
        tenant = await factory.tenant()
        created = await _endpoint(client, tenant, receiver.url)
        sent = (await _data(client, tenant.admin_session, SEND_TEST, id=created["id"]))["sendWebhookTest"]
        nested = await _data(client, tenant.admin_session, NESTED, id=created["id"])
        assert nested["webhookEndpoint"]["deliveries"]["nodes"] == [sent]
        matching = await _data(
            client, tenant.admin_session, DELIVERIES, id=created["id"], status=["SUCCEEDED", "FAILED"],
            type="webhook_endpoint.test",
        )  # fmt: skip
        assert matching["webhookDeliveries"]["nodes"] == [sent]
        for filters in ({"status": ["FAILED"]}, {"type": "route.completed"}):
            other = await _data(client, tenant.admin_session, DELIVERIES, id=created["id"], **filters)
            assert other["webhookDeliveries"]["nodes"] == []

    async def test_a_disabled_endpoint_is_a_conflict(
        self, client: httpx.AsyncClient, factory: Factory, receiver: Receiver
    ) -> None:
        tenant = await factory.tenant()
        created = await _endpoint(client, tenant, receiver.url, status="DISABLED")
        error = await _error(client, tenant.admin_session, SEND_TEST, id=created["id"])
        assert error["code"] == "conflict" and receiver.requests == []


class TestRedeliverWebhook:
    async def test_plans_the_next_attempt_now(
        self, client: httpx.AsyncClient, factory: Factory, receiver: Receiver
    ) -> None:
        tenant = await factory.tenant()
        created = await _endpoint(client, tenant, receiver.url)
        sent = (await _data(client, tenant.admin_session, SEND_TEST, id=created["id"]))["sendWebhookTest"]
        again = await _data(client, tenant.admin_session, REDELIVER, id=created["id"], delivery=sent["id"])
        planned = again["redeliverWebhook"]
        # A test event delivered again stays a test: tried once, saying nothing of the endpoint's health.
        assert (planned["status"], planned["attempt"], planned["trigger"], planned["eventId"]) == (
            "PENDING", 2, "test", sent["eventId"],
        )  # fmt: skip
        listed = await _data(client, tenant.admin_session, DELIVERIES, id=created["id"])
        assert [d["id"] for d in listed["webhookDeliveries"]["nodes"]] == [planned["id"], sent["id"]]

    async def test_a_delivery_of_another_endpoint_is_not_found(
        self, client: httpx.AsyncClient, factory: Factory, receiver: Receiver
    ) -> None:
        tenant = await factory.tenant()
        first = await _endpoint(client, tenant, receiver.url)
        second = await _endpoint(client, tenant, receiver.url)
        sent = (await _data(client, tenant.admin_session, SEND_TEST, id=first["id"]))["sendWebhookTest"]
        error = await _error(client, tenant.admin_session, REDELIVER, id=second["id"], delivery=sent["id"])
        assert error["code"] == "not_found"


class TestReplayWebhookEvents:
    async def test_queues_the_events_of_the_range(
        self, client: httpx.AsyncClient, factory: Factory, receiver: Receiver
    ) -> None:
        tenant = await factory.tenant()
        created = await _endpoint(client, tenant, receiver.url, eventTypes=["vehicle.created"])
        branch = await factory.branch(tenant)
        await factory.post(tenant, "/vehicles", {"name": "Van", "type": "van", "branchId": branch["id"]})
        now = clock.utcnow()
        window = {"from": iso_z(now - dt.timedelta(hours=1)), "to": iso_z(now + dt.timedelta(minutes=1))}
        for event_types, queued in ((None, 1), (["*"], 1), (["vehicle.created"], 1)):
            replayed = await _data(
                client,
                tenant.admin_session,
                REPLAY,
                id=created["id"],
                input={**window, "eventTypes": event_types},
            )
            assert replayed["replayWebhookEvents"] == {"queued": queued}, event_types
        listed = await _data(client, tenant.admin_session, DELIVERIES, id=created["id"])
        replays = [d for d in listed["webhookDeliveries"]["nodes"] if d["trigger"] == "replay"]
        assert {d["eventType"] for d in replays} == {"vehicle.created"} and len(replays) == 3
        # One event, planned again each time: newest first, each a further attempt.
        attempts = [d["attempt"] for d in replays]
        assert attempts == sorted(set(attempts), reverse=True)

    async def test_more_than_30_days_back_is_refused_on_from(
        self, client: httpx.AsyncClient, factory: Factory
    ) -> None:
        tenant = await factory.tenant()
        created = await _endpoint(client, tenant, "https://example.com/h")
        now = clock.utcnow()
        window = {"from": iso_z(now - dt.timedelta(days=31)), "to": iso_z(now)}
        error = await _error(client, tenant.admin_session, REPLAY, id=created["id"], input=window)
        assert _field(error) == "from"

    async def test_to_must_follow_from(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.tenant()
        created = await _endpoint(client, tenant, "https://example.com/h")
        now = iso_z(clock.utcnow())
        error = await _error(
            client, tenant.admin_session, REPLAY, id=created["id"], input={"from": now, "to": now}
        )
        assert _field(error) == "to"


class TestWhoMayUseThem:
    @pytest.mark.parametrize("kind", ["read", "write"])
    async def test_api_tokens_are_refused(
        self, client: httpx.AsyncClient, factory: Factory, kind: str
    ) -> None:
        tenant = await factory.tenant()
        created = await _endpoint(client, tenant, "https://example.com/h")
        token = tenant.read_token if kind == "read" else tenant.write_token
        for query, variables in (
            (LIST, {"first": 50}),
            (GET, {"id": created["id"]}),
            (CREATE, {"input": {"url": "https://example.com/x"}}),
            (ROTATE, {"id": created["id"], "hours": 1}),
            (DELETE, {"id": created["id"]}),
        ):
            error = await _error(client, token, query, **variables)
            assert error["code"] == "insufficient_scope", query
        assert len((await _record(tenant, created["id"])).secrets) == 1

    async def test_another_company_sees_nothing(
        self, client: httpx.AsyncClient, factory: Factory, receiver: Receiver
    ) -> None:
        tenant, other = await factory.tenant(), await factory.tenant()
        created = await _endpoint(client, tenant, receiver.url)
        sent = (await _data(client, tenant.admin_session, SEND_TEST, id=created["id"]))["sendWebhookTest"]
        listed = await _data(client, other.admin_session, LIST, first=50)
        assert listed["webhookEndpoints"]["nodes"] == []
        now = clock.utcnow()
        window = {"from": iso_z(now - dt.timedelta(hours=1)), "to": iso_z(now)}
        for query, variables in (
            (GET, {"id": created["id"]}),
            (DELIVERIES, {"id": created["id"]}),
            (UPDATE, {"id": created["id"], "input": {"status": "DISABLED"}}),
            (ROTATE, {"id": created["id"], "hours": 1}),
            (SEND_TEST, {"id": created["id"]}),
            (REDELIVER, {"id": created["id"], "delivery": sent["id"]}),
            (REPLAY, {"id": created["id"], "input": window}),
            (DELETE, {"id": created["id"]}),
        ):
            error = await _error(client, other.admin_session, query, **variables)
            assert error["code"] == "not_found", query
        assert len(receiver.requests) == 1
        still = (await _data(client, tenant.admin_session, GET, id=created["id"]))["webhookEndpoint"]
        assert still["status"] == "ENABLED"
