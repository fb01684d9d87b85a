from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Annotated, ClassVar

from pydantic import Field, StringConstraints

from app.core.schemas import (
    ExternalId,
    InputModel,
    ListQuery,
    Name,
    OutModel,
    Phone,
    ResourceOut,
    TimeOfDay,
    UpdateModel,
)

Email = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
]


class DriverStatus(enum.StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


class DriverCreate(InputModel):
    external_id: ExternalId | None = None
    branch_id: uuid.UUID
    first_name: Name
    last_name: Name
    phone: Phone | None = None
    email: Email | None = None
    status: DriverStatus = DriverStatus.ACTIVE
    shift_start: TimeOfDay | None = Field(None, description="HH:MM, branch local time.")
    shift_end: TimeOfDay | None = Field(
        None,
        description="HH:MM, branch local time; earlier than shiftStart means the shift crosses midnight.",
    )


class DriverUpdate(UpdateModel):
    required_fields: ClassVar[frozenset[str]] = frozenset({"branch_id", "first_name", "last_name", "status"})

    external_id: ExternalId | None = None
    branch_id: uuid.UUID | None = None
    first_name: Name | None = None
    last_name: Name | None = None
    phone: Phone | None = None
    email: Email | None = None
    status: DriverStatus | None = None
    shift_start: TimeOfDay | None = None
    shift_end: TimeOfDay | None = None


class DriverOut(ResourceOut):
    external_id: str | None
    branch_id: uuid.UUID
    first_name: str
    last_name: str
    phone: str | None
    email: str | None
    status: DriverStatus
    shift_start: dt.time | None
    shift_end: dt.time | None
    mobile_user_id: uuid.UUID | None = Field(description="Set once the driver accepted an invite.")


class DriverQuery(ListQuery):
    branch_id: uuid.UUID | None = Field(None, description="Only drivers of this branch.")
    status: DriverStatus | None = Field(None, description="Only drivers with this status.")


class DriverInviteOut(OutModel):
    id: uuid.UUID
    driver_id: uuid.UUID
    code: str = Field(description="The single-use code the driver enters in the app; shown only here.")
    sent_to: str | None = Field(description="The driver's phone (or email) the invite is for.")
    expires_at: dt.datetime
    created_at: dt.datetime
