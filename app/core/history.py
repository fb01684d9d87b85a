"""Change history: who changed what, through which surface, with field-level diffs."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index
from sqlmodel import Field, SQLModel

from app.core import jsonutil
from app.core.clock import utcnow
from app.core.db import UnitOfWork
from app.core.models import new_id

# Bookkeeping fields that change with every write and tell a reader nothing.
_IGNORED_FIELDS = frozenset({"updatedAt", "createdAt"})
# A creation's snapshot fields that are not values it was created with.
_NOT_CREATED = _IGNORED_FIELDS | {"id"}


class ChangeRecord(SQLModel, table=True):
    __tablename__ = "change_history"
    __table_args__ = (
        Index("ix_change_history_resource", "company_id", "resource_type", "resource_id", "at"),
        # Recent activity, newest first: read backward, company-wide or of one resource type.
        Index("ix_change_history_recent", "company_id", "at", "id"),
        Index("ix_change_history_recent_type", "company_id", "resource_type", "at", "id"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    company_id: uuid.UUID = Field(foreign_key="company.id", ondelete="CASCADE")
    resource_type: str = Field(max_length=64)
    resource_id: uuid.UUID
    action: str = Field(max_length=32)
    source: str = Field(max_length=16)
    actor_type: str = Field(max_length=16)
    actor_id: uuid.UUID | None = None
    actor_name: str = Field(max_length=255)
    # `json`, not `jsonb`: read back whole, never searched inside. A list of {field, from, to};
    # a creation stores the created record itself (see `field_changes`).
    changes: list[dict[str, Any]] | dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    at: dt.datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))  # type: ignore[call-overload]

    @property
    def field_changes(self) -> list[dict[str, Any]]:
        """The entry as {field, from, to} changes. A creation is stored as the created record's
        snapshot, not as a change per field (every `from` would be null): half the bytes, and a
        bulk import writes the same serialised snapshot it sends as the event's `data`."""
        if isinstance(self.changes, dict):
            return [
                {"field": key, "from": None, "to": value}
                for key, value in self.changes.items()
                if key not in _NOT_CREATED and value is not None
            ]
        return self.changes


def _plain(snapshot: dict[str, Any]) -> dict[str, Any]:
    return jsonutil.loads(jsonutil.dumps(snapshot))  # type: ignore[no-any-return]


def diff(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """Field changes between two public snapshots, in the public (camelCase) field names."""
    old, new = _plain(before), _plain(after)
    return [
        {"field": key, "from": old.get(key), "to": new.get(key)}
        for key in new
        if key not in _IGNORED_FIELDS and old.get(key) != new.get(key)
    ]


def creation(snapshot: dict[str, Any]) -> dict[str, Any]:
    """What a `created` entry stores: the new record's public snapshot, as plain JSON."""
    return _plain(snapshot)


def record_change(
    uow: UnitOfWork,
    resource_type: str,
    resource_id: uuid.UUID,
    action: str,
    changes: list[dict[str, Any]] | dict[str, Any],
) -> ChangeRecord:
    principal = uow.principal
    entry = ChangeRecord(
        company_id=uow.company_id,
        resource_type=resource_type,
        resource_id=resource_id,
        action=action,
        source=uow.source.value,
        actor_type=principal.actor_type.value,
        actor_id=principal.actor_id,
        actor_name=principal.actor_name,
        changes=changes,
    )
    uow.add(entry)
    return entry
