"""Settings > Webhooks in GraphQL: the REST settings endpoints' twin, admin web session only. The
rules live in the service and recovery modules; these fields convert arguments and answers."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import strawberry
from pydantic import ValidationError
from strawberry.experimental.pydantic import type as pydantic_type
from strawberry.types.unset import UNSET

from app.core.db import UnitOfWork
from app.core.envelope import validation_failed
from app.core.outbox import EVENT_TYPES
from app.core.principal import Scope
from app.core.schemas import ListQuery
from app.graphql.context import Info
from app.graphql.inputs import graphql_enum, input_type, to_model
from app.graphql.mutations import Deleted, mutation, query
from app.graphql.nodes import Node, register_node
from app.graphql.records import converter
from app.graphql.relay import Connection, connection, page_query
from app.webhooks import models, recovery
from app.webhooks.schemas import (
    DeliveryQuery,
    DeliveryStatus,
    DisabledReason,
    EndpointStatus,
    ReplayRequest,
    RotateSecret,
    WebhookDeliveryOut,
    WebhookEndpointCreate,
    WebhookEndpointOut,
    WebhookEndpointUpdate,
)
from app.webhooks.service import RevealedEndpoint, webhook_service

EndpointStatusEnum = graphql_enum(EndpointStatus)
DisabledReasonEnum = graphql_enum(DisabledReason)
DeliveryStatusEnum = graphql_enum(DeliveryStatus)


@pydantic_type(
    model=WebhookDeliveryOut,
    all_fields=True,
    description="One attempt to deliver one event, made or planned.",
)
class WebhookDelivery:
    pass


def as_delivery(record: object) -> WebhookDelivery:
    return converter(WebhookDeliveryOut)(record)


async def _deliveries(
    info: Info, endpoint: models.WebhookEndpoint, first: int, after: str | None,
    status: list[DeliveryStatus] | None, event_type: str | None,
) -> Connection[WebhookDelivery]:  # fmt: skip
    params = page_query(
        DeliveryQuery, first=first, after=after, updated_since=None, external_id=None,
        status=status, event_type=event_type,
    )  # fmt: skip
    page = await webhook_service.deliveries(info.context.uow, endpoint, params)
    return connection(page, as_delivery, after=after)  # type: ignore[no-any-return]


@strawberry.type(description="Where the company's events are POSTed, signed with its secret.")
class WebhookEndpoint(Node):
    id: strawberry.ID  # the record's UUID, unique across every type
    url: str
    description: str | None
    event_types: list[str] = strawberry.field(description="Empty: every event type.")
    status: EndpointStatusEnum  # type: ignore[valid-type]
    disabled_reason: DisabledReasonEnum | None = strawberry.field(  # type: ignore[valid-type]
        description="Why it is disabled: GONE (it answered 410), FAILING (no success for too long), MANUAL."
    )
    failing_since: dt.datetime | None = strawberry.field(
        description="First failed attempt since the last success."
    )
    created_at: dt.datetime
    updated_at: dt.datetime
    record: strawberry.Private[models.WebhookEndpoint]

    @strawberry.field(description="Attempts, made or planned, newest first; kept 30 days.")
    async def deliveries(
        self, info: Info, first: int = 50, after: str | None = None,
        status: list[DeliveryStatusEnum] | None = None,  # type: ignore[valid-type]
        event_type: str | None = None,
    ) -> Connection[WebhookDelivery]:  # fmt: skip
        return await _deliveries(info, self.record, first, after, status, event_type)


@strawberry.type(description="An endpoint just created or rotated; `secret` is shown only here.")
class WebhookEndpointWithSecret(WebhookEndpoint):
    secret: str


def _fields(record: models.WebhookEndpoint) -> dict[str, Any]:
    # Through the REST output model, so both surfaces show the same values.
    out = WebhookEndpointOut.model_validate(record)
    return {**out.model_dump(exclude={"secret"}), "record": record}


def as_endpoint(record: models.WebhookEndpoint | RevealedEndpoint) -> WebhookEndpoint:
    # Whatever the service answers, this type has no secret to show.
    plain = record.endpoint if isinstance(record, RevealedEndpoint) else record
    return WebhookEndpoint(**_fields(plain))


def with_secret(revealed: RevealedEndpoint) -> WebhookEndpointWithSecret:
    return WebhookEndpointWithSecret(**_fields(revealed.endpoint), secret=revealed.secret)


@strawberry.type
class ReplayResult:
    queued: int = strawberry.field(description="Deliveries planned, one per event.")


CreateWebhookEndpointInput = input_type(WebhookEndpointCreate, "CreateWebhookEndpointInput")


@strawberry.input(description="Absent fields stay as they are; rotate the secret with rotateWebhookSecret.")
class UpdateWebhookEndpointInput:
    url: str | None = UNSET
    description: str | None = UNSET
    event_types: list[str] | None = UNSET
    status: EndpointStatusEnum | None = UNSET  # type: ignore[valid-type]


@strawberry.input
class ReplayWebhookEventsInput:
    from_: dt.datetime = strawberry.field(
        name="from", description="Events created at or after this instant (30 days back at most)."
    )
    to: dt.datetime = strawberry.field(description="Events created before this instant.")
    event_types: list[str] | None = strawberry.field(
        default=UNSET, description="Default: every type the endpoint subscribes to."
    )


@strawberry.type
class WebhookQueries:
    @query(Scope.ADMIN)
    async def webhook_endpoints(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> Connection[WebhookEndpoint]:
        params = page_query(ListQuery, first=first, after=after, updated_since=None, external_id=None)
        return connection(await webhook_service.list(info.context.uow, params), as_endpoint, after=after)  # type: ignore[no-any-return]

    @query(Scope.ADMIN)
    async def webhook_endpoint(self, info: Info, id: uuid.UUID) -> WebhookEndpoint:
        return as_endpoint(await webhook_service.get(info.context.uow, id))

    @query(Scope.ADMIN, description="The event types an endpoint may subscribe to, in name order.")
    async def webhook_event_types(self, info: Info) -> list[str]:
        return sorted(EVENT_TYPES)

    @query(Scope.ADMIN, description="An endpoint's attempts, newest first (its `deliveries` field).")
    async def webhook_deliveries(
        self, info: Info, endpoint_id: uuid.UUID, first: int = 50, after: str | None = None,
        status: list[DeliveryStatusEnum] | None = None,  # type: ignore[valid-type]
        event_type: str | None = None,
    ) -> Connection[WebhookDelivery]:  # fmt: skip
        endpoint = await webhook_service.get(info.context.uow, endpoint_id)
        return await _deliveries(info, endpoint, first, after, status, event_type)


@strawberry.type
class WebhookMutations:
    @mutation(Scope.ADMIN, description='`eventTypes` empty or `["*"]`: every event type.')
    async def create_webhook_endpoint(
        self,
        info: Info,
        input: CreateWebhookEndpointInput,  # type: ignore[valid-type]
    ) -> WebhookEndpointWithSecret:
        return with_secret(
            await webhook_service.create(info.context.uow, to_model(WebhookEndpointCreate, input))
        )

    @mutation(Scope.ADMIN, description="Disabling records disabledReason MANUAL; enabling clears the reason.")
    async def update_webhook_endpoint(
        self, info: Info, id: uuid.UUID, input: UpdateWebhookEndpointInput
    ) -> WebhookEndpoint:
        uow = info.context.uow
        data = to_model(WebhookEndpointUpdate, input)
        return as_endpoint(await webhook_service.update(uow, await webhook_service.get(uow, id), data))

    @mutation(
        Scope.ADMIN,
        description="A new signing secret, shown once; the current ones keep signing alongside it for "
        "`overlapHours` (1..168).",
    )
    async def rotate_webhook_secret(
        self, info: Info, id: uuid.UUID, overlap_hours: int = 24
    ) -> WebhookEndpointWithSecret:
        try:
            # An argument, not an input object: its errors name `overlapHours` itself.
            checked = RotateSecret.model_validate({"overlapHours": overlap_hours})
        except ValidationError as exc:
            raise validation_failed(exc) from None
        uow = info.context.uow
        endpoint = await webhook_service.get(uow, id)
        return with_secret(await webhook_service.rotate(uow, endpoint, checked.overlap_hours))

    @mutation(Scope.ADMIN)
    async def delete_webhook_endpoint(self, info: Info, id: uuid.UUID) -> Deleted:
        uow = info.context.uow
        await webhook_service.delete(uow, await webhook_service.get(uow, id))
        return Deleted(id=strawberry.ID(str(id)))

    @mutation(
        Scope.ADMIN,
        description="One more attempt of that delivery's event, due now (PENDING). A disabled "
        "endpoint is a conflict: enable it first.",
    )
    async def redeliver_webhook(
        self, info: Info, endpoint_id: uuid.UUID, delivery_id: uuid.UUID
    ) -> WebhookDelivery:
        uow = info.context.uow
        endpoint = await webhook_service.get(uow, endpoint_id)
        return as_delivery(await recovery.redeliver(uow, endpoint, delivery_id))

    @mutation(
        Scope.ADMIN,
        description="Plan a delivery, due now, of every event created in [from, to) that the endpoint "
        "subscribes to (narrowed by `eventTypes`), oldest first.",
    )
    async def replay_webhook_events(
        self, info: Info, endpoint_id: uuid.UUID, input: ReplayWebhookEventsInput
    ) -> ReplayResult:
        uow = info.context.uow
        data = to_model(ReplayRequest, input)
        replayed = await recovery.replay(uow, await webhook_service.get(uow, endpoint_id), data)
        return ReplayResult(queued=replayed.queued)

    @mutation(
        Scope.ADMIN,
        description="Send a signed `webhook_endpoint.test` event now, once, and answer the attempt.",
    )
    async def send_webhook_test(self, info: Info, endpoint_id: uuid.UUID) -> WebhookDelivery:
        uow = info.context.uow
        return as_delivery(await recovery.send_test(uow, await webhook_service.get(uow, endpoint_id)))


async def _webhook_endpoint_node(uow: UnitOfWork, record_id: uuid.UUID) -> Any:
    return as_endpoint(await webhook_service.get(uow, record_id))


register_node("webhook_endpoint", Scope.ADMIN, _webhook_endpoint_node)
