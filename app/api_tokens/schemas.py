from __future__ import annotations

import datetime as dt
import uuid

from pydantic import field_validator

from app.core import clock
from app.core.principal import Preset
from app.core.schemas import InputModel, Name, OutModel


class ApiTokenCreate(InputModel):
    name: Name
    preset: Preset
    expires_at: dt.datetime | None = None

    @field_validator("expires_at")
    @classmethod
    def _future(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("must carry a time zone, e.g. 2026-12-31T00:00:00Z")
        if value <= clock.utcnow():
            raise ValueError("must be in the future")
        return value


class ApiTokenOut(OutModel):
    id: uuid.UUID
    name: str
    preset: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    expires_at: dt.datetime | None


class ApiTokenCreatedOut(ApiTokenOut):
    token: str


class TokenContextOut(OutModel):
    id: uuid.UUID
    name: str
    preset: str
    prefix: str
    environment: str
    expires_at: dt.datetime | None


class MeCompanyOut(OutModel):
    id: uuid.UUID
    name: str
    credits_remaining: int


class MeOut(OutModel):
    token: TokenContextOut
    company: MeCompanyOut
