"""List results as GraphQL Cursor Connections (the convention Relay, Apollo and the big public
GraphQL APIs follow): `edges { cursor node }`, `nodes`, `pageInfo` and `totalCount`, over the same
keyset pages as REST, filtered by the same arguments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import strawberry

from app.core.errors import ValidationFailed
from app.core.pagination import Page
from app.core.schemas import ListQuery, QueryModel

T = TypeVar("T")


@strawberry.type(description="Where a page sits in its list, and the cursors to page on from it.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool = strawberry.field(
        description="Whether the page was asked for `after` a cursor: lists page forwards only."
    )
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Pass as `after` to list what follows this node.")
    node: T


@strawberry.type
class Connection(Generic[T]):
    nodes: list[T] = strawberry.field(description="The page's records, without their cursors.")
    page_info: PageInfo
    page: strawberry.Private[Page[Any]]
    counter: strawberry.Private[Callable[[], Awaitable[int]] | None]

    @strawberry.field
    def edges(self) -> list[Edge[T]]:
        return [Edge(cursor=self.page.cursor(i), node=node) for i, node in enumerate(self.nodes)]

    @strawberry.field(
        description="How many records the whole list holds with these filters (one count query, run "
        "only when asked for); null where the list cannot count cheaply."
    )
    async def total_count(self) -> int | None:
        return await self.counter() if self.counter is not None else None


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


def connection(
    page: Page[Any],
    convert: Callable[[Any], Any],
    *,
    after: str | None = None,
    count: Callable[[], Awaitable[int]] | None = None,
) -> Any:
    nodes = [convert(item) for item in page.items]
    info = PageInfo(
        has_next_page=page.has_more,
        has_previous_page=after is not None,
        start_cursor=page.cursor(0) if nodes else None,
        end_cursor=page.cursor(len(nodes) - 1) if nodes else None,
    )
    return Connection(nodes=nodes, page_info=info, page=page, counter=count)
