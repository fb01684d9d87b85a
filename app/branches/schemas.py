from __future__ import annotations

from typing import ClassVar

from pydantic import ConfigDict, model_validator
from pydantic.config import JsonDict

from app.core.schemas import (
    ExternalId,
    InputModel,
    Latitude,
    ListQuery,
    Longitude,
    Name,
    Phone,
    ResourceOut,
    ShortText,
    Timezone,
    UpdateModel,
    field_error,
)

_BOTH_OR_NEITHER: JsonDict = {
    "anyOf": [
        {"properties": {"latitude": {"type": "null"}, "longitude": {"type": "null"}}},
        {
            "required": ["latitude", "longitude"],
            "properties": {"latitude": {"type": "number"}, "longitude": {"type": "number"}},
        },
    ]
}


class BranchCreate(InputModel):
    model_config = ConfigDict(json_schema_extra=_BOTH_OR_NEITHER)

    external_id: ExternalId | None = None
    name: Name
    address: ShortText | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    timezone: Timezone = "UTC"
    phone: Phone | None = None

    @model_validator(mode="after")
    def _both_or_neither(self) -> BranchCreate:
        if (self.latitude is None) != (self.longitude is None):
            missing = "longitude" if self.longitude is None else "latitude"
            raise field_error((missing,), "latitude and longitude go together", None)
        return self


class BranchUpdate(UpdateModel):
    required_fields: ClassVar[frozenset[str]] = frozenset({"name", "timezone"})

    external_id: ExternalId | None = None
    name: Name | None = None
    address: ShortText | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    timezone: Timezone | None = None
    phone: Phone | None = None


class BranchOut(ResourceOut):
    external_id: str | None
    name: str
    address: str | None
    latitude: float | None
    longitude: float | None
    timezone: str
    phone: str | None


class BranchQuery(ListQuery):
    pass
