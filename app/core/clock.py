"""The one clock that every rule depending on "now" reads: proof-code expiry, the dashboard's today,
token, session and invite expiry, idempotency-key expiry, the sweeps of jobs and events left behind.

The database's own `now()` is never compared with stored times; the application passes its clock's
time instead, so moving this clock moves every rule at once. Tests freeze it (`frozen`) to check a
rule at an exact instant, and a whole deployment can run shifted (`CLOCK_OFFSET_SECONDS`, refused in
production) to try the system, API and workers alike, on another day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo

_offset: dt.timedelta | None = None
_frozen: dt.datetime | None = None


def _configured_offset() -> dt.timedelta:
    global _offset
    if _offset is None:
        from app.settings import get_settings

        _offset = dt.timedelta(seconds=get_settings().clock_offset_seconds)
    return _offset


def utcnow() -> dt.datetime:
    """Now, as an aware UTC datetime."""
    if _frozen is not None:
        return _frozen
    return dt.datetime.now(dt.UTC) + _configured_offset()


def timestamp() -> float:
    """Now, in seconds since the epoch."""
    return utcnow().timestamp()


def today(zone: str | dt.tzinfo = dt.UTC) -> dt.date:
    """Today's date in a time zone (a branch's, for the people who work there)."""
    return utcnow().astimezone(ZoneInfo(zone) if isinstance(zone, str) else zone).date()


@contextmanager
def frozen(at: dt.datetime) -> Iterator[dt.datetime]:
    """Stop the clock at `at` (aware) in this process until the block ends."""
    global _frozen
    if at.tzinfo is None:
        raise ValueError("the clock is frozen at an aware datetime")
    previous, _frozen = _frozen, at.astimezone(dt.UTC)
    try:
        yield _frozen
    finally:
        _frozen = previous


def reload() -> None:
    """Read the offset from the settings again (after they changed)."""
    global _offset
    _offset = None
