"""Stop timing on a hand-checked three-stop example."""

from __future__ import annotations

import datetime as dt

from app.optimization.matrix import GreatCircleMatrix, Matrix, haversine_m
from app.routes.timing import StopInput, plan_timing


class LineMatrix:
    """Points on a line: travel between i and j takes |i - j| x 10 minutes and |i - j| x 5 km."""

    def matrix(self, points: list[tuple[float, float]]) -> Matrix:
        n = len(points)
        return Matrix(
            distances=[[abs(i - j) * 5000 for j in range(n)] for i in range(n)],
            durations=[[abs(i - j) * 600 for j in range(n)] for i in range(n)],
        )


def test_three_stops_with_service_waiting_and_return() -> None:
    stops = [
        StopInput((0, 1), service_seconds=300),  # arrive 08:10, serve to 08:15
        StopInput((0, 2), service_seconds=600, window_start=dt.time(9, 0)),  # arrive 08:25, wait to 09:00
        StopInput((0, 3), service_seconds=120, window_end=dt.time(9, 15)),  # arrive 09:20: late
    ]
    timing = plan_timing(
        dt.date(2026, 11, 26), "Europe/Istanbul", dt.time(8, 0), (0, 0), (0, 0), stops, LineMatrix()
    )
    local = [
        (
            s.eta.astimezone(dt.timezone(dt.timedelta(hours=3))).time(),
            s.etd.astimezone(dt.timezone(dt.timedelta(hours=3))).time(),
        )
        for s in timing.stops
    ]
    assert local == [
        (dt.time(8, 10), dt.time(8, 15)),
        (dt.time(9, 0), dt.time(9, 10)),
        (dt.time(9, 20), dt.time(9, 22)),
    ]
    assert [s.late for s in timing.stops] == [False, False, True]
    assert [s.distance_from_previous_meters for s in timing.stops] == [5000, 5000, 5000]
    # The end depot is the next point of the line: 09:22 + 10 min = 09:32, 92 minutes after 08:00.
    assert timing.total_duration_seconds == 92 * 60
    assert timing.total_distance_meters == 4 * 5000
    assert timing.stops[0].eta.tzinfo == dt.UTC and timing.stops[0].eta.hour == 5


def test_without_start_depot_the_first_leg_is_zero() -> None:
    timing = plan_timing(
        dt.date(2026, 1, 1),
        "UTC",
        dt.time(8, 0),
        None,
        None,
        [StopInput((0, 1), 60), StopInput((0, 2), 60)],
        LineMatrix(),
    )
    assert timing.stops[0].distance_from_previous_meters == 0
    assert timing.stops[0].eta == dt.datetime(2026, 1, 1, 8, 0, tzinfo=dt.UTC)
    assert timing.stops[1].eta == dt.datetime(2026, 1, 1, 8, 11, tzinfo=dt.UTC)


def test_great_circle_matrix() -> None:
    istanbul, ankara = (41.0082, 28.9784), (39.9334, 32.8597)
    assert 345_000 < haversine_m(istanbul, ankara) < 355_000
    matrix = GreatCircleMatrix(detour_factor=1.5, speed_kmh=60).matrix([istanbul, ankara])
    assert matrix.distances[0][0] == 0
    assert matrix.distances[0][1] == round(haversine_m(istanbul, ankara) * 1.5)
    assert matrix.durations[0][1] == round(matrix.distances[0][1] / (60000 / 3600))
