"""What a GraphQL object type resolves its fields from: the record in its output model's shape.

Object types are generated from the output models REST answers with, and GraphQL reads fields by
attribute, so a validated output model serves as is: converting it again into the strawberry
class would copy every field of every row for nothing. A fetched row of a plain output model (only
scalar fields, named like its columns) is served directly, as REST's list pages copy it."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import strawberry
from pydantic import BaseModel

from app.core.rows import Row
from app.core.schemas import plain_fields


@cache
def converter(out_model: type[BaseModel]) -> Callable[[Any], Any]:
    from_record = getattr(out_model, "from_record", None)
    serve_rows = plain_fields(out_model) is not None

    def convert(record: Any) -> Any:
        if serve_rows and type(record) is Row:
            # Marked with its GraphQL type, which the output model's object type checks it against.
            return strawberry.cast(out_model._strawberry_type, record)  # type: ignore[attr-defined]
        return from_record(record) if from_record else out_model.model_validate(record)

    return convert
