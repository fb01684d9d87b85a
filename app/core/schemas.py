"""Base shapes of the public API: camelCase on the wire, unknown fields refused, strict types."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from functools import cache
from typing import Annotated, Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic.alias_generators import to_camel

from app.core.rows import Row

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _parse_hhmm(value: Any) -> Any:
    if isinstance(value, dt.time):
        return value
    if not isinstance(value, str) or not _HHMM.match(value):
        raise ValueError("must be a time of day as HH:MM")
    hours, minutes = value.split(":")
    return dt.time(int(hours), int(minutes))


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("must be an IANA time zone name such as Europe/Istanbul") from None
    if value not in _zones():
        raise ValueError("must be an IANA time zone name such as Europe/Istanbul")
    return value


_zone_cache: set[str] = set()


def _zones() -> set[str]:
    if not _zone_cache:
        _zone_cache.update(available_timezones())
    return _zone_cache


TimeOfDay = Annotated[dt.time, BeforeValidator(_parse_hhmm)]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]
ExternalId = Annotated[str, StringConstraints(min_length=1, max_length=255)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortText = Annotated[str, StringConstraints(max_length=500)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=40)]
Timezone = Annotated[str, AfterValidator(_check_timezone)]


class InputModel(BaseModel):
    """A request body. JSON types are strict: `"12"` is not a number."""

    model_config = ConfigDict(alias_generator=to_camel, extra="forbid", strict=True, populate_by_name=False)


class UpdateModel(InputModel):
    """A PATCH body: absent fields stay as they are, `null` clears a nullable field.

    Fields listed in `required_fields` may be left out but never set to null."""

    required_fields: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _no_null_for_required(self) -> UpdateModel:
        nulls = [name for name in self.model_fields_set & self.required_fields if getattr(self, name) is None]
        if nulls:
            raise ValueError(f"{', '.join(to_camel(n) for n in sorted(nulls))} may not be null")
        return self

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class QueryModel(BaseModel):
    """Query parameters: strings on the wire, so types are coerced; unknown parameters are refused."""

    model_config = ConfigDict(alias_generator=to_camel, extra="forbid", populate_by_name=False)


class ListQuery(QueryModel):
    limit: int = Field(50, ge=1, le=200, description="Page size, 1..200.")
    cursor: str | None = Field(None, description="Opaque cursor from `pagination.nextCursor`.")
    updated_since: dt.datetime | None = Field(
        None, description="Only records with `updatedAt >= updatedSince` (incremental sync)."
    )
    external_id: str | None = Field(None, description="Exact match on `externalId`.")


class OutModel(BaseModel):
    # Read records by field name only: trying the camelCase alias first on ORM objects costs a
    # failed attribute lookup per field and row.
    model_config = ConfigDict(
        alias_generator=to_camel, validate_by_name=True, validate_by_alias=False, from_attributes=True
    )

    def public(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True)


def to_public(model: type[BaseModel], record: Any) -> dict[str, Any]:
    """A record in its public shape. Output models whose fields are not plain attributes of the
    record (nested objects, one-time secrets) provide `from_record`."""
    plain = plain_fields(model)
    if plain is not None:
        # Records come from our own tables, already typed: copying fields under their public names
        # gives what validating and dumping would, at a fraction of the cost on list pages.
        if type(record) is Row:  # read the fetched record directly
            fields = record.record
            return {alias: fields.get(name) for name, alias in plain}
        return {alias: getattr(record, name, None) for name, alias in plain}
    converter = getattr(model, "from_record", None)
    out = converter(record) if converter else model.model_validate(record, from_attributes=True)
    return out.public() if isinstance(out, OutModel) else out.model_dump(by_alias=True)


def to_public_many(model: type[BaseModel], records: list[Any]) -> list[Any]:
    """`to_public` for a page of records; fetched rows of plain models are copied in one pass."""
    plain = plain_fields(model)
    if plain is not None and records and all(type(r) is Row for r in records):
        return [{alias: r.record.get(name) for name, alias in plain} for r in records]
    return [r if isinstance(r, dict) else to_public(model, r) for r in records]


@cache
def plain_fields(model: type[BaseModel]) -> tuple[tuple[str, str], ...] | None:
    """(field, alias) pairs of an output model made only of scalar fields, else None."""
    if (
        getattr(model, "from_record", None)
        or not issubclass(model, OutModel)
        or model.public is not OutModel.public
    ):
        return None
    pairs = []
    for name, info in model.model_fields.items():
        if _has_model(info.annotation):
            return None
        pairs.append((name, info.alias or name))
    return tuple(pairs)


def _has_model(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return any(_has_model(arg) for arg in getattr(annotation, "__args__", ()))


class ResourceOut(OutModel):
    id: uuid.UUID
    created_at: dt.datetime
    updated_at: dt.datetime
