"""The line a driver follows: start depot -> stops -> end depot, as GeoJSON and as a Google
encoded polyline. Straight segments by default; a routing engine (OSRM) can supply road geometry
by implementing `GeometryProvider`, without the route service changing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select
from sqlmodel import col

from app.core.db import UnitOfWork
from app.depots.models import Depot
from app.optimization.matrix import Point
from app.routes.schemas import GeometryProperties, LineString, NavigationGeometryOut, RouteView

PRECISION = 5


@dataclass(frozen=True)
class Geometry:
    points: list[Point]  # (latitude, longitude), in driving order
    source: str  # "straight" | "osrm"


class GeometryProvider(Protocol):
    def geometry(self, waypoints: Sequence[Point]) -> Geometry: ...


class StraightLines:
    def geometry(self, waypoints: Sequence[Point]) -> Geometry:
        return Geometry(list(waypoints), "straight")


def default_geometry_provider() -> GeometryProvider:
    # settings.osrm_url selects a road-geometry provider once one exists; until then every
    # deployment draws straight segments (and says so in `properties.source`).
    return StraightLines()


def _encode_value(value: int) -> str:
    # Zig-zag the sign into the lowest bit, then emit 5-bit chunks, low first, each + 63, with
    # 0x20 set on every chunk but the last (Google's "Encoded Polyline Algorithm Format").
    value = ~(value << 1) if value < 0 else value << 1
    out = []
    while value >= 0x20:
        out.append(chr((0x20 | (value & 0x1F)) + 63))
        value >>= 5
    out.append(chr(value + 63))
    return "".join(out)


def encode_polyline(points: Sequence[Point], precision: int = PRECISION) -> str:
    """Encode (latitude, longitude) pairs; each is rounded to `precision` decimals, then delta-coded."""
    factor = 10**precision
    previous_lat = previous_lng = 0
    chunks = []
    for latitude, longitude in points:
        lat, lng = round(latitude * factor), round(longitude * factor)
        chunks.append(_encode_value(lat - previous_lat) + _encode_value(lng - previous_lng))
        previous_lat, previous_lng = lat, lng
    return "".join(chunks)


def decode_polyline(encoded: str, precision: int = PRECISION) -> list[Point]:
    factor = 10**precision
    points: list[Point] = []
    index = lat = lng = 0
    while index < len(encoded):
        deltas = []
        for _ in range(2):
            shift = result = 0
            while True:
                byte = ord(encoded[index]) - 63
                index += 1
                result |= (byte & 0x1F) << shift
                shift += 5
                if byte < 0x20:
                    break
            deltas.append(~(result >> 1) if result & 1 else result >> 1)
        lat += deltas[0]
        lng += deltas[1]
        points.append((lat / factor, lng / factor))
    return points


async def navigation_geometry(
    uow: UnitOfWork, view: RouteView, provider: GeometryProvider | None = None
) -> NavigationGeometryOut:
    """Start depot -> stops in sequence -> end depot. With fewer than two points there is no line,
    so `geometry` is null (a GeoJSON Feature without a location)."""
    route = view.route
    depot_ids = [d for d in (route.start_depot_id, route.end_depot_id) if d]
    depots = (
        {d.id: d for d in await uow.scalars(select(Depot).where(col(Depot.id).in_(depot_ids)))}
        if depot_ids
        else {}
    )
    start, end = depots.get(route.start_depot_id), depots.get(route.end_depot_id)
    waypoints: list[Point] = (
        ([(start.latitude, start.longitude)] if start else [])
        + [(m.latitude, m.longitude) for m in view.stops]
        + ([(end.latitude, end.longitude)] if end else [])
    )
    geometry = (provider or default_geometry_provider()).geometry(waypoints)
    line = (
        LineString(coordinates=[[lng, lat] for lat, lng in geometry.points])
        if len(geometry.points) > 1
        else None
    )
    return NavigationGeometryOut(
        geometry=line,
        properties=GeometryProperties(
            route_id=route.id, encoded_polyline=encode_polyline(geometry.points), source=geometry.source
        ),
    )
