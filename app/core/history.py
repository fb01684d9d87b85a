"""Change history: who changed what, through which surface, with field-level diffs."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import Column, DateTime, Index
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from app.core import jsonutil
from app.core.db import UnitOfWork
from app.core.models import utcnow

# Bookkeeping fields that change with every write and tell a reader nothing.
_IGNORED_FIELDS = frozenset({"updatedAt", "createdAt"})


class ChangeRecord(SQLModel, table=True):
    __tablename__ = "change_history"
    __table_args__ = (
        Index("ix_change_history_resource", "company_id", "resource_type", "resource_id", "at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    company_id: uuid.UUID = Field(foreign_key="company.id", ondelete="CASCADE")
    resource_type: str = Field(max_length=64)
    resource_id: uuid.UUID
    action: str = Field(max_length=32)
    source: str = Field(max_length=16)
    actor_type: str = Field(max_length=16)
    actor_id: uuid.UUID | None = None
    actor_name: str = Field(max_length=255)
    changes: list[dict[str, Any]] = Field(sa_column=Column(JSONB, nullable=False))
    at: dt.datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))  # type: ignore[call-overload]


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


def creation(snapshot: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"field": key, "from": None, "to": value}
        for key, value in _plain(snapshot).items()
        if key not in _IGNORED_FIELDS and key != "id" and value is not None
    ]


def record_change(
    uow: UnitOfWork,
    resource_type: str,
    resource_id: uuid.UUID,
    action: str,
    changes: list[dict[str, Any]],
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
