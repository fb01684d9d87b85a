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
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import InitErrorDetails, PydanticCustomError

from app.core.rows import Row

# The largest value of a PostgreSQL `integer` column: counts stored as one are capped here.
INT4_MAX = 2_147_483_647
HHMM_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d$"
_HHMM = re.compile(HHMM_PATTERN)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:\d{2})")


def field_error(loc: tuple[str | int, ...], issue: str, value: Any = None) -> ValidationError:
    """A refusal that names its field (`loc` in wire names, e.g. `("missionIds", 1)`), for rules
    that read several fields: raised from a validator, pydantic reports it at that path rather
    than at the model (which the error envelope could only call `body`)."""
    error = PydanticCustomError("value_error", "{issue}", {"issue": issue})
    return ValidationError.from_exception_data(
        "value_error", [InitErrorDetails(type=error, loc=loc, input=value)]
    )


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


TimeOfDay = Annotated[
    dt.time,
    BeforeValidator(_parse_hhmm),
    WithJsonSchema({"type": "string", "pattern": HHMM_PATTERN, "examples": ["09:30"]}, mode="validation"),
]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]
ExternalId = Annotated[str, StringConstraints(min_length=1, max_length=255)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortText = Annotated[str, StringConstraints(max_length=500)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=40)]
Timezone = Annotated[
    str,
    AfterValidator(_check_timezone),
    WithJsonSchema({"type": "string", "enum": sorted(_zones()), "examples": ["Europe/Istanbul"]}),
]


@cache
def _wire_fields(model: type[BaseModel]) -> tuple[tuple[str, Any], ...]:
    """(wire name, reader) of the model's date and date-time fields, and (wire name, None) of its
    integer ones."""
    found: list[tuple[str, Any]] = []
    for name, info in model.model_fields.items():
        kinds = _plain_types(info.annotation)
        if int in kinds and float not in kinds:
            found.append((info.alias or name, None))
        elif dt.datetime in kinds:
            found.append((info.alias or name, _read_datetime))
        elif dt.date in kinds:
            found.append((info.alias or name, _read_date))
    return tuple(found)


def _read_date(value: str) -> dt.date:
    if not _ISO_DATE.fullmatch(value):
        raise ValueError("must be an ISO 8601 date (YYYY-MM-DD)")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError("must be an existing day (YYYY-MM-DD)") from None


def _read_datetime(value: str) -> dt.datetime:
    if not _ISO_DATETIME.fullmatch(value):
        raise ValueError("must be an ISO 8601 date-time with a time zone (2026-11-26T08:30:00Z)")
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("must be an existing moment (2026-11-26T08:30:00Z)") from None


def _plain_types(annotation: Any) -> set[Any]:
    if isinstance(annotation, type):
        return {annotation}
    return {kind for arg in getattr(annotation, "__args__", ()) for kind in _plain_types(arg)}


class _WireValues(BaseModel):
    """Dates and date-times are read as ISO 8601 text only: pydantic alone would also take `0` or
    `0.5` for seconds since 1970. (Read here, so strict bodies get the parsed values.) Integers may
    be written `12.0`."""

    @model_validator(mode="before")
    @classmethod
    def _read_wire_values(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        read = None
        for alias, reader in _wire_fields(cls):
            value = data.get(alias)
            if reader is None:
                # JSON has one number type: 12.0 is the integer 12 (a schema's `integer` says so too).
                if isinstance(value, float) and value.is_integer():
                    read = read if read is not None else dict(data)
                    read[alias] = int(value)
            elif isinstance(value, str):
                try:
                    parsed = reader(value)
                except ValueError as exc:
                    raise field_error((alias,), str(exc), value) from None
                read = read if read is not None else dict(data)
                read[alias] = parsed
        return data if read is None else read


class InputModel(_WireValues):
    """A request body. JSON types are strict: `"12"` is not a number."""

    model_config = ConfigDict(alias_generator=to_camel, extra="forbid", strict=True, populate_by_name=False)


class UpdateModel(InputModel):
    """A PATCH body: absent fields stay as they are, `null` clears a nullable field.

    Fields listed in `required_fields` may be left out but never set to null."""

    required_fields: ClassVar[frozenset[str]] = frozenset()
    # Rules between fields of the body, stated in its JSON schema (added to the top level).
    schema_rules: ClassVar[dict[str, Any]] = {}

    model_config = ConfigDict(json_schema_extra=lambda schema, model: _not_nullable(schema, model))

    @model_validator(mode="after")
    def _no_null_for_required(self) -> UpdateModel:
        nulls = sorted(
            name for name in self.model_fields_set & self.required_fields if getattr(self, name) is None
        )
        if nulls:
            error = PydanticCustomError("value_error", "may not be null")
            raise ValidationError.from_exception_data(
                "value_error",
                [InitErrorDetails(type=error, loc=(self._alias(name),), input=None) for name in nulls],
            )
        return self

    @classmethod
    def _alias(cls, name: str) -> str:
        return cls.model_fields[name].alias or name

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


def _not_nullable(schema: dict[str, Any], model: Any) -> None:
    """The document says what the validator above enforces: `required_fields` take no null."""
    for name in getattr(model, "required_fields", ()):
        prop = schema.get("properties", {}).get(model._alias(name))
        if prop is None:
            continue
        if "anyOf" in prop:
            kept = [option for option in prop["anyOf"] if option != {"type": "null"}]
            if len(kept) == 1:
                del prop["anyOf"]
                prop.update(kept[0])
            else:
                prop["anyOf"] = kept
        if prop.get("default", 0) is None:
            del prop["default"]
    schema.update(getattr(model, "schema_rules", {}))


class QueryModel(_WireValues):
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
