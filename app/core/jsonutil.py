"""One JSON encoding for every surface: camelCase is the models' job, formats are this module's."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import orjson


def iso_z(value: dt.datetime) -> str:
    """ISO 8601 UTC with `Z` and millisecond precision, as the contract writes timestamps."""
    value = value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return value.isoformat(timespec="milliseconds")[:23] + "Z"


def hhmm(value: dt.time) -> str:
    return value.strftime("%H:%M")


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return iso_z(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return hhmm(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=_default, option=orjson.OPT_PASSTHROUGH_DATETIME)


loads = orjson.loads
