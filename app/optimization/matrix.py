"""Travel distances and times between points, from a pluggable provider.

The default is great-circle distance times a detour factor, driven at an average speed (both are
settings). A routing engine can replace it by implementing `MatrixProvider`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

EARTH_RADIUS_M = 6_371_008.8

Point = tuple[float, float]  # (latitude, longitude)


@dataclass(frozen=True)
class Matrix:
    distances: list[list[int]]  # metres
    durations: list[list[int]]  # seconds


class MatrixProvider(Protocol):
    def matrix(self, points: list[Point]) -> Matrix: ...


def haversine_m(a: Point, b: Point) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class GreatCircleMatrix:
    detour_factor: float = 1.3
    speed_kmh: float = 30.0

    def matrix(self, points: list[Point]) -> Matrix:
        metres_per_second = self.speed_kmh * 1000 / 3600
        distances: list[list[int]] = []
        durations: list[list[int]] = []
        for a in points:
            row_d, row_t = [], []
            for b in points:
                metres = haversine_m(a, b) * self.detour_factor
                row_d.append(round(metres))
                row_t.append(round(metres / metres_per_second))
            distances.append(row_d)
            durations.append(row_t)
        return Matrix(distances, durations)


def default_provider() -> MatrixProvider:
    from app.settings import get_settings

    settings = get_settings()
    return GreatCircleMatrix(detour_factor=settings.detour_factor, speed_kmh=settings.average_speed_kmh)
