from __future__ import annotations

import datetime as dt
import enum
import uuid
from dataclasses import dataclass
from typing import Any

from app.core.schemas import OutModel, ResourceOut


class RouteStatus(enum.StrEnum):
    PLANNED = "planned"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class StopOut(OutModel):
    mission_id: uuid.UUID
    sequence: int
    eta: dt.datetime | None
    etd: dt.datetime | None
    distance_from_previous_meters: int | None
    duration_from_previous_seconds: int | None
    status: str


@dataclass
class RouteView:
    """A route with its stops (its missions, in sequence order), as services hand it to the surfaces."""

    route: Any
    stops: list[Any]


class RouteOut(ResourceOut):
    external_id: str | None
    branch_id: uuid.UUID
    date: dt.date
    name: str
    status: RouteStatus
    driver_id: uuid.UUID | None
    vehicle_id: uuid.UUID | None
    start_depot_id: uuid.UUID | None
    end_depot_id: uuid.UUID | None
    start_time: dt.time | None
    total_distance_meters: int
    total_duration_seconds: int
    optimized_at: dt.datetime | None
    started_at: dt.datetime | None
    completed_at: dt.datetime | None
    stops: list[StopOut]

    @classmethod
    def from_record(cls, view: RouteView) -> RouteOut:
        route = view.route
        values = {name: getattr(route, name) for name in cls.model_fields if name != "stops"}
        stops = [
            StopOut(
                mission_id=m.id,
                sequence=m.sequence,
                eta=m.eta,
                etd=m.etd,
                distance_from_previous_meters=m.distance_from_previous_meters,
                duration_from_previous_seconds=m.duration_from_previous_seconds,
                status=m.status,
            )
            for m in view.stops
        ]
        return cls.model_validate({**values, "stops": stops})
