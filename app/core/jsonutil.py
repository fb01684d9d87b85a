"""One JSON encoding for every surface: camelCase is the models' job, formats are this module's."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import orjson


def iso_z(value: dt.datetime) -> str:
    """ISO 8601 in UTC with `Z`, to the microsecond (`2026-11-26T08:30:00.123456Z`; no fraction
    when it is zero): exact, so a record's `updatedAt` works as an `updatedSince` bound."""
    if value.tzinfo is not dt.UTC:
        value = value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
    # orjson's C formatter is several times faster than isoformat(); timestamps fill list pages.
    return orjson.dumps(value, option=orjson.OPT_UTC_Z)[1:-1].decode()


def hhmm(value: dt.time) -> str:
    return value.strftime("%H:%M")


def _default(value: Any) -> Any:
    kind = type(value)
    if kind is dt.datetime:
        return iso_z(value)
    if kind is dt.time:
        return hhmm(value)
    if kind is dt.date:
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime):
        return iso_z(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return hhmm(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=_default, option=orjson.OPT_PASSTHROUGH_DATETIME)


loads = orjson.loads
