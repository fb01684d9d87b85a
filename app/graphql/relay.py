"""List results: the same keyset pages as REST, as `<Thing>Connection` types."""

from __future__ import annotations

import datetime as dt
from typing import Any, Generic, TypeVar

import strawberry

from app.core.errors import ValidationFailed
from app.core.pagination import Page
from app.core.schemas import ListQuery, QueryModel

T = TypeVar("T")


@strawberry.type
class Connection(Generic[T]):
    items: list[T]
    next_cursor: str | None
    has_more: bool


def page_query(
    query_model: type[QueryModel] = ListQuery,
    *,
    first: int,
    after: str | None,
    updated_since: dt.datetime | None,
    external_id: str | None,
    **filters: Any,
) -> Any:
    if not 1 <= first <= 200:
        raise ValidationFailed.field("first", "must be between 1 and 200")
    # Fields of whichever query model is given: the checker cannot know them, so they go as a dict.
    fields: dict[str, Any] = dict(
        limit=first, cursor=after, updated_since=updated_since, external_id=external_id
    )
    return query_model.model_construct(**fields, **filters)


def connection(page: Page[Any], convert: Any) -> Any:
    return Connection(
        items=[convert(item) for item in page.items], next_cursor=page.next_cursor, has_more=page.has_more
    )
