"""Keyset pagination over (created_at, id): stable while others write, never skips or repeats."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import orjson

from app.core.errors import ValidationFailed

T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None
    has_more: bool
    limit: int
    # The cursor that resumes after the item at an index (GraphQL gives one per edge). Lists ordered
    # by anything but their items' (created_at, id) say how theirs are made.
    cursor_at: Callable[[int], str] | None = None

    def cursor(self, index: int) -> str:
        if self.cursor_at is not None:
            return self.cursor_at(index)
        item: Any = self.items[index]
        return encode_cursor(item.created_at, item.id)


def encode_cursor(created_at: dt.datetime, record_id: uuid.UUID) -> str:
    raw = orjson.dumps([created_at.isoformat(), str(record_id)])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created_at, record_id = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
        return dt.datetime.fromisoformat(created_at), uuid.UUID(record_id)
    except Exception:
        raise ValidationFailed.field("cursor", "is not a cursor this API issued") from None
