from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, ClassVar

from pydantic import AfterValidator, Field, model_validator

from app.core.schemas import ExternalId, InputModel, ListQuery, ResourceOut, UpdateModel, field_error


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("must carry a time zone, e.g. 2026-11-26T08:00:00Z")
    return value


Instant = Annotated[dt.datetime, AfterValidator(_aware)]


class AssignmentCreate(InputModel):
    external_id: ExternalId | None = None
    vehicle_id: uuid.UUID
    driver_id: uuid.UUID
    starts_at: Instant
    ends_at: Instant | None = Field(None, description="Exclusive end; null = open-ended.")

    @model_validator(mode="after")
    def _order(self) -> AssignmentCreate:
        if self.ends_at is not None and self.ends_at <= self.starts_at:
            raise field_error(("endsAt",), "must be after startsAt", self.ends_at.isoformat())
        return self


class AssignmentUpdate(UpdateModel):
    required_fields: ClassVar[frozenset[str]] = frozenset({"vehicle_id", "driver_id", "starts_at"})

    external_id: ExternalId | None = None
    vehicle_id: uuid.UUID | None = None
    driver_id: uuid.UUID | None = None
    starts_at: Instant | None = None
    ends_at: Instant | None = None


class AssignmentOut(ResourceOut):
    external_id: str | None
    vehicle_id: uuid.UUID
    driver_id: uuid.UUID
    starts_at: dt.datetime
    ends_at: dt.datetime | None


class AssignmentQuery(ListQuery):
    vehicle_id: uuid.UUID | None = Field(None, description="Only assignments of this vehicle.")
    driver_id: uuid.UUID | None = Field(None, description="Only assignments of this driver.")
    active_at: dt.datetime | None = Field(
        None, description="Only assignments in force at this instant (startsAt <= activeAt < endsAt)."
    )
