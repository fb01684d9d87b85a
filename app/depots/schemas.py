from __future__ import annotations

import datetime as dt
import uuid
from typing import ClassVar

from pydantic import Field, model_validator

from app.core.schemas import (
    ExternalId,
    InputModel,
    Latitude,
    ListQuery,
    Longitude,
    Name,
    ResourceOut,
    ShortText,
    TimeOfDay,
    UpdateModel,
    field_error,
)


class DepotCreate(InputModel):
    external_id: ExternalId | None = None
    branch_id: uuid.UUID
    name: Name
    address: ShortText | None = None
    latitude: Latitude
    longitude: Longitude
    opening_time: TimeOfDay | None = Field(None, description="HH:MM, branch local time.")
    closing_time: TimeOfDay | None = Field(None, description="HH:MM, branch local time.")

    @model_validator(mode="after")
    def _hours(self) -> DepotCreate:
        if self.opening_time and self.closing_time and self.opening_time >= self.closing_time:
            raise field_error(("closingTime",), "must be after openingTime", self.closing_time)
        return self


class DepotUpdate(UpdateModel):
    required_fields: ClassVar[frozenset[str]] = frozenset({"branch_id", "name", "latitude", "longitude"})

    external_id: ExternalId | None = None
    branch_id: uuid.UUID | None = None
    name: Name | None = None
    address: ShortText | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    opening_time: TimeOfDay | None = None
    closing_time: TimeOfDay | None = None


class DepotOut(ResourceOut):
    external_id: str | None
    branch_id: uuid.UUID
    name: str
    address: str | None
    latitude: float
    longitude: float
    opening_time: dt.time | None
    closing_time: dt.time | None


class DepotQuery(ListQuery):
    branch_id: uuid.UUID | None = Field(None, description="Only depots of this branch.")
