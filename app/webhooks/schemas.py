from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Annotated, ClassVar

from pydantic import AfterValidator, Field, StringConstraints, WithJsonSchema

from app.core.outbox import EVENT_TYPES
from app.core.schemas import InputModel, OutModel, QueryModel, ResourceOut, ShortText, UpdateModel
from app.webhooks.addresses import check_url


class EndpointStatus(enum.StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"


class DisabledReason(enum.StrEnum):
    GONE = "gone"
    FAILING = "failing"
    MANUAL = "manual"


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SUCCEEDED = "succeeded"
    RETRYING = "retrying"
    FAILED = "failed"
    CANCELLED = "cancelled"


EVERY_TYPE = "*"


def _check_types(values: list[str]) -> list[str]:
    """The subscribed types; `*` (or an empty list) means every type, stored as the empty list."""
    if EVERY_TYPE in values:
        return []
    unknown = sorted(set(values) - EVENT_TYPES)
    if unknown:
        raise ValueError(f"unknown event types: {', '.join(unknown)}")
    return sorted(set(values))


_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PORT = r"([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
# What `check_url` accepts, as far as a pattern can say it (whether a name is public is not).
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
# A name's last label starts and ends with a letter: one ending in a digit is read as an IPv4 address.
_HOST = rf"({_OCTET}(\.{_OCTET}){{3}}|({_LABEL}\.)*[A-Za-z]([A-Za-z0-9-]{{0,61}}[A-Za-z])?\.?)"
URL_PATTERN = rf"^\s*https?://{_HOST}(:{_PORT})?([/?#][^\s\x00-\x1f\x7f]*)?\s*$"
WebhookUrl = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=2048),
    AfterValidator(check_url),
    WithJsonSchema({"type": "string", "maxLength": 2048, "pattern": URL_PATTERN}),
]
EventTypes = Annotated[
    list[Annotated[str, WithJsonSchema({"type": "string", "enum": [EVERY_TYPE, *sorted(EVENT_TYPES)]})]],
    AfterValidator(_check_types),
]
EventTypeName = Annotated[str, StringConstraints(max_length=64)]


class WebhookEndpointCreate(InputModel):
    url: WebhookUrl
    description: ShortText | None = None
    event_types: EventTypes = Field(default_factory=list, description='`["*"]` or empty: every event type.')
    status: EndpointStatus = EndpointStatus.ENABLED


class RotateSecret(InputModel):
    overlap_hours: int = Field(24, ge=1, le=168)


class WebhookEndpointUpdate(UpdateModel):
    required_fields: ClassVar[frozenset[str]] = frozenset({"url", "event_types", "status", "rotate_secret"})

    url: WebhookUrl | None = None
    description: ShortText | None = None
    event_types: EventTypes | None = None
    status: EndpointStatus | None = None
    rotate_secret: bool | RotateSecret | None = Field(
        None,
        description="Issue a new signing secret (returned once as `secret`); the old ones keep "
        "signing alongside it for `overlapHours` (1..168, default 24). `true` is a 24-hour overlap.",
    )


class WebhookEndpointOut(ResourceOut):
    url: str
    description: str | None
    event_types: list[str]
    status: EndpointStatus
    disabled_reason: DisabledReason | None = Field(
        None,
        description="Why it is disabled: `gone` (it answered 410), `failing` (no success for "
        "WEBHOOK_DISABLE_AFTER_SECONDS), `manual`.",
    )
    failing_since: dt.datetime | None = Field(
        None, description="First failed attempt since the last success."
    )
    secret: str | None = Field(None, description="Only when created or rotated.")

    def public(self) -> dict[str, object]:
        data = self.model_dump(by_alias=True)
        if data["secret"] is None:
            del data["secret"]
        return data


class WebhookDeliveryOut(OutModel):
    id: uuid.UUID
    event_id: str
    event_type: str
    attempt: int
    status: DeliveryStatus = Field(
        description="pending (planned, due at `dueAt`), sending, succeeded, retrying (failed; the next "
        "attempt is planned at `nextAttemptAt`), failed (no more attempts), cancelled (the endpoint was "
        "disabled first)."
    )
    trigger: str = Field(description="event, redeliver, replay or test.")
    due_at: dt.datetime
    sent_at: dt.datetime | None
    response_status: int | None
    response_excerpt: str | None = Field(description="The first KiB of the answer.")
    error: str | None
    duration_ms: int | None
    next_attempt_at: dt.datetime | None
    created_at: dt.datetime


class DeliveryQuery(QueryModel):
    limit: int = Field(50, ge=1, le=200)
    cursor: str | None = None
    status: list[DeliveryStatus] | None = Field(None, description="Repeatable: any of these statuses.")
    event_type: EventTypeName | None = Field(None, description="Only attempts of this event type.")


class ReplayRequest(InputModel):
    from_: dt.datetime = Field(
        alias="from", description="Events created at or after this instant (30 days back at most)."
    )
    to: dt.datetime = Field(description="Events created before this instant.")
    event_types: EventTypes | None = Field(
        None, description="Default: every type the endpoint subscribes to."
    )


class ReplayOut(OutModel):
    queued: int = Field(description="Deliveries planned, one per event.")
