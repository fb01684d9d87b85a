"""Webhook endpoints (Settings > Webhooks) and their delivery history."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_

from app.core.clock import utcnow
from app.core.db import UnitOfWork
from app.core.jsonutil import iso_z
from app.core.pagination import Page, decode_cursor, encode_cursor
from app.core.repository import Repository
from app.core.schemas import QueryModel
from app.webhooks.models import WebhookDelivery, WebhookEndpoint
from app.webhooks.schemas import WebhookEndpointCreate, WebhookEndpointUpdate
from app.webhooks.signing import new_secret, seal, unseal

ROTATION_OVERLAP = dt.timedelta(hours=24)


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
    """Every secret still signing: the current one and, during a rotation, the previous one."""
    now = now or utcnow()
    return [
        unseal(entry["sealed"])
        for entry in endpoint.secrets
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
        for name, value in changes.items():
            setattr(endpoint, name, value.value if hasattr(value, "value") else value)
        endpoint.updated_at = utcnow()
        if rotate:
            # Old secrets keep signing for a day, so receivers can switch without dropping events.
            expires = iso_z(utcnow() + ROTATION_OVERLAP)
            kept = [{**e, "expiresAt": e.get("expiresAt") or expires} for e in endpoint.secrets]
            secret = new_secret()
            endpoint.secrets = [*kept, _secret_entry(secret)]
            await uow.flush()
            return RevealedEndpoint(endpoint, secret)
        await uow.flush()
        return endpoint

    async def delete(self, uow: UnitOfWork, endpoint: WebhookEndpoint) -> None:
        await uow.delete(endpoint)

    async def deliveries(
        self, uow: UnitOfWork, endpoint: WebhookEndpoint, query: Any
    ) -> Page[WebhookDelivery]:
        """Newest first, so the page an admin opens shows what just happened."""
        statement = Repository(WebhookDelivery).base(uow).where(WebhookDelivery.endpoint_id == endpoint.id)
        if query.cursor:
            created_at, last_id = decode_cursor(query.cursor)
            statement = statement.where(
                or_(
                    WebhookDelivery.created_at < created_at,
                    and_(WebhookDelivery.created_at == created_at, WebhookDelivery.id < last_id),
                )
            )
        statement = statement.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
        rows = await uow.scalars(statement.limit(query.limit + 1))
        has_more = len(rows) > query.limit
        rows = rows[: query.limit]
        cursor = encode_cursor(rows[-1].created_at, rows[-1].id) if has_more and rows else None
        return Page(items=rows, next_cursor=cursor, has_more=has_more, limit=query.limit)


webhook_service = WebhookService()
