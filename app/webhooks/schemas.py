from __future__ import annotations

import datetime as dt
import enum
import ipaddress
import uuid
from typing import Annotated, ClassVar
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, StringConstraints

from app.core.outbox import EVENT_TYPES
from app.core.schemas import InputModel, OutModel, QueryModel, ResourceOut, ShortText, UpdateModel
from app.settings import get_settings


class EndpointStatus(enum.StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"


def _check_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute http(s) URL")
    settings = get_settings()
    if settings.is_production:
        if parts.scheme != "https":
            raise ValueError("must use https")
        host = parts.hostname
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            address = None
        if host == "localhost" or (address is not None and not address.is_global):
            raise ValueError("must not point at a private or loopback address")
    return value


def _check_types(values: list[str]) -> list[str]:
    unknown = sorted(set(values) - EVENT_TYPES)
    if unknown:
        raise ValueError(f"unknown event types: {', '.join(unknown)}")
    return sorted(set(values))


WebhookUrl = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=2048), AfterValidator(_check_url)
]
EventTypes = Annotated[list[str], AfterValidator(_check_types)]


class WebhookEndpointCreate(InputModel):
    url: WebhookUrl
    description: ShortText | None = None
    event_types: EventTypes = Field(default_factory=list, description="Empty: every event type.")
    status: EndpointStatus = EndpointStatus.ENABLED


class WebhookEndpointUpdate(UpdateModel):
    required_fields: ClassVar[frozenset[str]] = frozenset({"url", "event_types", "status", "rotate_secret"})

    url: WebhookUrl | None = None
    description: ShortText | None = None
    event_types: EventTypes | None = None
    status: EndpointStatus | None = None
    rotate_secret: bool | None = Field(
        None,
        description="Issue a new signing secret (returned once as `secret`); the old one keeps "
        "signing alongside it for 24 hours.",
    )


class WebhookEndpointOut(ResourceOut):
    url: str
    description: str | None
    event_types: list[str]
    status: EndpointStatus
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
    status: str
    response_status: int | None
    error: str | None
    duration_ms: int | None
    next_retry_at: dt.datetime | None
    created_at: dt.datetime


class DeliveryQuery(QueryModel):
    limit: int = Field(50, ge=1, le=200)
    cursor: str | None = None


EventTypeName = Annotated[str, StringConstraints(max_length=64)]
