"""When each stop of a route happens: travel from the previous point, waiting for the stop's time
window to open, then the service time. Pure computation, no I/O."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from app.optimization.matrix import MatrixProvider, Point

DEFAULT_START = dt.time(8, 0)


@dataclass(frozen=True)
class StopInput:
    point: Point
    service_seconds: int
    window_start: dt.time | None = None
    window_end: dt.time | None = None


@dataclass(frozen=True)
class StopTiming:
    eta: dt.datetime  # service begins (after any wait for the window)
    etd: dt.datetime  # service ends
    distance_from_previous_meters: int
    duration_from_previous_seconds: int
    late: bool  # arrives after its window closed


@dataclass(frozen=True)
class RouteTiming:
    starts_at: dt.datetime
    ends_at: dt.datetime
    stops: list[StopTiming]
    total_distance_meters: int
    total_duration_seconds: int


def plan_timing(
    day: dt.date,
    timezone: str,
    start_time: dt.time,
    start: Point | None,
    end: Point | None,
    stops: list[StopInput],
    provider: MatrixProvider,
) -> RouteTiming:
    """Times are branch-local on `day`; results are UTC. Without a start point the first leg is 0."""
    zone = ZoneInfo(timezone)
    points = ([start] if start else []) + [s.point for s in stops] + ([end] if end else [])
    matrix = provider.matrix(points) if points else None
    begin = dt.datetime.combine(day, start_time, zone)
    clock = begin
    previous: int | None = 0 if start else None
    offset = 1 if start else 0
    total_distance = 0
    timings: list[StopTiming] = []
    for i, stop in enumerate(stops):
        index = i + offset
        distance = duration = 0
        if previous is not None and matrix is not None:
            distance, duration = matrix.distances[previous][index], matrix.durations[previous][index]
        arrival = clock + dt.timedelta(seconds=duration)
        eta = arrival
        if stop.window_start is not None:
            eta = max(arrival, dt.datetime.combine(day, stop.window_start, zone))
        late = stop.window_end is not None and arrival > dt.datetime.combine(day, stop.window_end, zone)
        etd = eta + dt.timedelta(seconds=stop.service_seconds)
        timings.append(StopTiming(eta.astimezone(dt.UTC), etd.astimezone(dt.UTC), distance, duration, late))
        total_distance += distance
        clock = etd
        previous = index
    if end is not None and matrix is not None and previous is not None:
        last = len(points) - 1
        total_distance += matrix.distances[previous][last]
        clock += dt.timedelta(seconds=matrix.durations[previous][last])
    return RouteTiming(
        starts_at=begin.astimezone(dt.UTC),
        ends_at=clock.astimezone(dt.UTC),
        stops=timings,
        total_distance_meters=total_distance,
        total_duration_seconds=int((clock - begin).total_seconds()),
    )
