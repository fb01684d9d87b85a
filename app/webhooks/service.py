"""Webhook endpoints (Settings > Webhooks) and their delivery history."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import col

from app.core.clock import utcnow
from app.core.db import UnitOfWork
from app.core.jsonutil import iso_z
from app.core.pagination import Page, decode_cursor, encode_cursor
from app.core.repository import Repository
from app.core.schemas import QueryModel
from app.webhooks.models import WebhookDelivery, WebhookEndpoint
from app.webhooks.schemas import (
    DisabledReason,
    EndpointStatus,
    RotateSecret,
    WebhookEndpointCreate,
    WebhookEndpointUpdate,
)
from app.webhooks.signing import new_secret, seal, unseal

DEFAULT_OVERLAP_HOURS = 24


@dataclass
class RevealedEndpoint:
    """An endpoint together with a signing secret shown this once."""

    endpoint: WebhookEndpoint
    secret: str

    def __getattr__(self, name: str) -> Any:
        return getattr(self.endpoint, name)


def _secret_entry(secret: str) -> dict[str, Any]:
    return {"id": uuid.uuid4().hex, "sealed": seal(secret), "createdAt": iso_z(utcnow()), "expiresAt": None}


def active_secrets(endpoint: WebhookEndpoint, now: dt.datetime | None = None) -> list[str]:
    """Every secret still signing: the current one and, during a rotation, the previous ones."""
    return signing_secrets(endpoint.secrets, now)


def signing_secrets(entries: list[dict[str, Any]], now: dt.datetime | None = None) -> list[str]:
    """The unexpired secrets among an endpoint's stored entries, unsealed."""
    now = now or utcnow()
    return [
        unseal(entry["sealed"])
        for entry in entries
        if entry.get("expiresAt") is None
        or dt.datetime.fromisoformat(entry["expiresAt"].replace("Z", "+00:00")) > now
    ]


class WebhookService:
    def __init__(self) -> None:
        self.repo = Repository(WebhookEndpoint)

    async def list(self, uow: UnitOfWork, query: QueryModel) -> Page[WebhookEndpoint]:
        return await self.repo.page(uow, query)

    async def get(self, uow: UnitOfWork, endpoint_id: Any) -> WebhookEndpoint:
        return await self.repo.get_or_404(uow, endpoint_id)

    async def create(self, uow: UnitOfWork, data: WebhookEndpointCreate) -> RevealedEndpoint:
        secret = new_secret()
        endpoint = WebhookEndpoint(
            company_id=uow.company_id,
            url=data.url,
            description=data.description,
            event_types=list(data.event_types),
            status=data.status.value,
            disabled_reason=DisabledReason.MANUAL.value if data.status == EndpointStatus.DISABLED else None,
            secrets=[_secret_entry(secret)],
        )
        uow.add(endpoint)
        await uow.flush()
        return RevealedEndpoint(endpoint, secret)

    async def update(
        self, uow: UnitOfWork, endpoint: WebhookEndpoint, data: WebhookEndpointUpdate
    ) -> WebhookEndpoint | RevealedEndpoint:
        changes = data.changes()
        rotate = changes.pop("rotate_secret", False)
        status = changes.pop("status", None)
        for name, value in changes.items():
            setattr(endpoint, name, value)
        if status is not None and status.value != endpoint.status:
            # Disabled by hand, or enabled again: whatever disabled it before is forgotten.
            endpoint.status = status.value
            endpoint.disabled_reason = (
                DisabledReason.MANUAL.value if status == EndpointStatus.DISABLED else None
            )
            endpoint.failing_since = None
        endpoint.updated_at = utcnow()
        if rotate:
            overlap = rotate.overlap_hours if isinstance(rotate, RotateSecret) else DEFAULT_OVERLAP_HOURS
            return await self.rotate(uow, endpoint, overlap)
        await uow.flush()
        return endpoint

    async def rotate(
        self, uow: UnitOfWork, endpoint: WebhookEndpoint, overlap_hours: int
    ) -> RevealedEndpoint:
        """A new signing secret, shown once; the current ones keep signing for `overlap_hours`, so
        receivers can switch without refusing a delivery."""
        expires = iso_z(utcnow() + dt.timedelta(hours=overlap_hours))
        now = iso_z(utcnow())
        # Secrets already expiring keep their own (earlier) end; expired ones are dropped.
        live = [e for e in endpoint.secrets if e.get("expiresAt") is None or e["expiresAt"] > now]
        kept = [{**e, "expiresAt": min(e.get("expiresAt") or expires, expires)} for e in live]
        secret = new_secret()
        endpoint.secrets = [*kept, _secret_entry(secret)]
        endpoint.updated_at = utcnow()
        await uow.flush()
        return RevealedEndpoint(endpoint, secret)

    async def delete(self, uow: UnitOfWork, endpoint: WebhookEndpoint) -> None:
        await uow.delete(endpoint)

    async def deliveries(
        self, uow: UnitOfWork, endpoint: WebhookEndpoint, query: Any
    ) -> Page[WebhookDelivery]:
        """Newest first, so the page an admin opens shows what just happened."""
        statement = (
            Repository(WebhookDelivery).base(uow).where(col(WebhookDelivery.endpoint_id) == endpoint.id)
        )
        if query.status:
            statement = statement.where(col(WebhookDelivery.status).in_([s.value for s in query.status]))
        if query.event_type:
            statement = statement.where(WebhookDelivery.event_type == query.event_type)
        if query.cursor:
            created_at, last_id = decode_cursor(query.cursor)
            statement = statement.where(
                or_(
                    col(WebhookDelivery.created_at) < created_at,
                    and_(col(WebhookDelivery.created_at) == created_at, col(WebhookDelivery.id) < last_id),
                )
            )
        statement = statement.order_by(col(WebhookDelivery.created_at).desc(), col(WebhookDelivery.id).desc())
        rows = await uow.scalars(statement.limit(query.limit + 1))
        has_more = len(rows) > query.limit
        rows = rows[: query.limit]
        cursor = encode_cursor(rows[-1].created_at, rows[-1].id) if has_more and rows else None
        return Page(items=rows, next_cursor=cursor, has_more=has_more, limit=query.limit)


webhook_service = WebhookService()
