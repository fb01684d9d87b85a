"""Records fetched without the ORM, for read paths."""

from __future__ import annotations

from typing import Any


class Row:
    """A fetched record read like a model instance (`row.name`), without copying it."""

    # The second slot lets GraphQL mark a row with the object type it stands for (`strawberry.cast`).
    __slots__ = ("record", "__as_strawberry_type__")

    def __init__(self, record: Any) -> None:
        self.record = record

    def __getattr__(self, name: str) -> Any:
        try:
            return self.record[name]
        except KeyError:
            raise AttributeError(name) from None
