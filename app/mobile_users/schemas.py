from __future__ import annotations

import datetime as dt
import enum
import re
import uuid
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from app.core.schemas import (
    InputModel,
    ListQuery,
    OutModel,
    Phone,
    QueryModel,
    ResourceOut,
    UpdateModel,
    field_error,
)
from app.drivers.schemas import Email


def normalise_phone(value: str) -> str:
    """Phones are logins: `+90 555 010-0000` and `+905550100000` must be the same account."""
    return re.sub(r"[\s\-().]", "", value)


LoginPhone = Annotated[Phone, AfterValidator(normalise_phone)]
LoginEmail = Annotated[Email, AfterValidator(str.lower)]
Password = Annotated[str, StringConstraints(min_length=8, max_length=200)]


class MobileUserStatus(enum.StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


class DevicePlatform(enum.StrEnum):
    IOS = "ios"
    ANDROID = "android"


class MobileUserUpdate(UpdateModel):
    phone: LoginPhone | None = None
    email: LoginEmail | None = None


class MobileUserOut(ResourceOut):
    driver_id: uuid.UUID
    phone: str | None
    email: str | None
    status: MobileUserStatus
    last_login_at: dt.datetime | None


class MobileUserQuery(ListQuery):
    driver_id: uuid.UUID | None = Field(None, description="Only the mobile user of this driver.")
    status: MobileUserStatus | None = Field(None, description="Only mobile users with this status.")


class AcceptInvite(InputModel):
    """What the driver app sends to turn an invite into an account."""

    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    password: Password
    phone: LoginPhone | None = Field(None, description="Login phone; defaults to the driver's phone.")
    email: LoginEmail | None = Field(None, description="Login email; defaults to the driver's email.")


class SignIn(InputModel):
    phone: LoginPhone | None = None
    email: LoginEmail | None = None
    password: Annotated[str, StringConstraints(min_length=1, max_length=200)]

    @model_validator(mode="after")
    def _one_login(self) -> SignIn:
        if (self.phone is None) == (self.email is None):
            # Neither: the phone is missing; both: the email is one too many.
            field = "phone" if self.phone is None else "email"
            raise field_error((field,), "send either phone or email", None)
        return self


class DeviceRegister(InputModel):
    device_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] = Field(
        description="The app installation's stable id; registering it again updates the device."
    )
    platform: DevicePlatform
    model: Annotated[str, StringConstraints(max_length=200)] | None = None
    app_version: Annotated[str, StringConstraints(max_length=50)] | None = None


class DeviceOut(ResourceOut):
    mobile_user_id: uuid.UUID
    device_id: str
    platform: DevicePlatform
    model: str | None
    app_version: str | None
    last_seen_at: dt.datetime


class DeviceQuery(QueryModel):
    limit: int = Field(50, ge=1, le=200, description="Page size, 1..200.")
    cursor: str | None = Field(None, description="Opaque cursor from `pagination.nextCursor`.")
    updated_since: dt.datetime | None = Field(
        None, description="Only devices with `updatedAt >= updatedSince`."
    )


class MobileSessionOut(OutModel):
    access_token: str
    expires_at: dt.datetime
    mobile_user: MobileUserOut
