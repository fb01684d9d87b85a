"""Scalars that print like the REST contract: timestamps with `Z`, time of day as HH:MM."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from app.core.jsonutil import hhmm, iso_z
from app.core.schemas import _parse_hhmm


def _parse_datetime(value: Any) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


DateTime = strawberry.scalar(
    name="DateTime",
    description="ISO 8601 timestamp in UTC, e.g. 2026-11-26T08:30:00Z or 2026-11-26T08:30:00.123456Z.",
    serialize=iso_z,
    parse_value=_parse_datetime,
)

TimeOfDay = strawberry.scalar(
    name="TimeOfDay",
    description="Time of day as HH:MM, in the branch's local time.",
    serialize=hhmm,
    parse_value=_parse_hhmm,
)

SCALAR_MAP: dict[object, Any] = {dt.datetime: DateTime, dt.time: TimeOfDay}
