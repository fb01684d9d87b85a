from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import DateTime, LargeBinary
from sqlmodel import Field

from app.core.models import TenantColumns


class ApiToken(TenantColumns, table=True):
    __tablename__ = "api_token"

    name: str = Field(max_length=200)
    preset: str = Field(max_length=32)
    prefix: str = Field(max_length=16)
    # HMAC-SHA256 of the raw token under the deployment's secret; the raw token is never stored.
    token_hash: bytes = Field(sa_type=LargeBinary, unique=True)  # type: ignore[call-overload]
    created_by_user_id: uuid.UUID | None = None
    last_used_at: dt.datetime | None = Field(default=None, sa_type=DateTime(timezone=True))  # type: ignore[call-overload]
    expires_at: dt.datetime | None = Field(default=None, sa_type=DateTime(timezone=True))  # type: ignore[call-overload]
