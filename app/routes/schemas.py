from __future__ import annotations

import datetime as dt
import enum
import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field, StringConstraints, model_validator

from app.core.schemas import ExternalId, InputModel, ListQuery, OutModel, ResourceOut, TimeOfDay, field_error


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

    @classmethod
    def of(cls, mission: Any) -> StopOut:
        """A route's stop: one of its missions, where it comes in the route."""
        return cls(
            mission_id=mission.id,
            sequence=mission.sequence,
            eta=mission.eta,
            etd=mission.etd,
            distance_from_previous_meters=mission.distance_from_previous_meters,
            duration_from_previous_seconds=mission.duration_from_previous_seconds,
            status=mission.status,
        )


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
        stops = [StopOut.of(m) for m in view.stops]
        return cls.model_validate({**values, "stops": stops})


# --- request bodies and queries -----------------------------------------------------------------

MissionIds = Annotated[list[uuid.UUID], Field(max_length=1000)]
Position = Annotated[int, Field(ge=1, description="1-based: inserts before the stop now at this position.")]
RouteName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


def _no_duplicates(ids: list[uuid.UUID], field: str = "missionIds") -> None:
    seen: set[uuid.UUID] = set()
    for index, record_id in enumerate(ids):
        if record_id in seen:
            raise field_error((field, index), f"repeats {record_id}", str(record_id))
        seen.add(record_id)


class RouteCreate(InputModel):
    external_id: ExternalId | None = None
    branch_id: uuid.UUID
    date: dt.date = Field(description="The day the route runs (YYYY-MM-DD); past days are allowed.")
    name: RouteName | None = Field(
        None, description='Default: "Route <n> <date>" (n counts the branch\'s routes that day).'
    )
    mission_ids: MissionIds = Field(
        default_factory=list, description="Unassigned missions of the branch and date, in stop order."
    )
    vehicle_id: uuid.UUID | None = None
    driver_id: uuid.UUID | None = None
    start_depot_id: uuid.UUID | None = None
    end_depot_id: uuid.UUID | None = None
    start_time: TimeOfDay | None = Field(
        None, description="HH:MM branch local; default: start depot opening, else 08:00."
    )

    @model_validator(mode="after")
    def _unique(self) -> RouteCreate:
        _no_duplicates(self.mission_ids)
        return self


class AssignDriver(InputModel):
    driver_id: uuid.UUID | None = Field(description="An active driver of the route's branch; null unassigns.")


class AssignVehicle(InputModel):
    vehicle_id: uuid.UUID | None = Field(
        description="An active vehicle of the route's branch; null unassigns."
    )


class AddMissions(InputModel):
    mission_ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=1000)]
    position: Position | None = None

    @model_validator(mode="after")
    def _unique(self) -> AddMissions:
        _no_duplicates(self.mission_ids)
        return self


class ReorderMissions(InputModel):
    mission_ids: MissionIds = Field(description="Exactly the route's current missions, in the new order.")

    @model_validator(mode="after")
    def _unique(self) -> ReorderMissions:
        _no_duplicates(self.mission_ids)
        return self


class RouteQuery(ListQuery):
    branch_id: uuid.UUID | None = Field(None, description="Only routes of this branch.")
    date: dt.date | None = Field(None, description="Only routes of this day.")
    date_from: dt.date | None = Field(None, description="Only routes on or after this day.")
    date_to: dt.date | None = Field(None, description="Only routes on or before this day.")
    status: list[RouteStatus] | None = Field(None, description="Repeatable: any of these statuses.")
    driver_id: uuid.UUID | None = Field(None, description="Only routes of this driver.")
    vehicle_id: uuid.UUID | None = Field(None, description="Only routes of this vehicle.")


# --- timeline and geometry ----------------------------------------------------------------------


class TimelineActor(OutModel):
    type: str
    id: uuid.UUID | None
    name: str


class TimelineEvent(OutModel):
    at: dt.datetime
    kind: str = Field(
        description="route_started, started, delivered, failed, proof_verified, cancelled, route_completed."
    )
    mission_id: uuid.UUID | None
    latitude: float | None = None
    longitude: float | None = None
    source: str | None = None
    actor: TimelineActor | None = None
    failure_reason: str | None = None


class TimelineStop(OutModel):
    mission_id: uuid.UUID
    sequence: int
    status: str
    planned_eta: dt.datetime | None
    planned_etd: dt.datetime | None
    actual_started_at: dt.datetime | None
    actual_finished_at: dt.datetime | None
    delay_seconds: int | None = Field(description="actualStartedAt - plannedEta; negative is early.")


class RouteTimelineOut(OutModel):
    route_id: uuid.UUID
    status: RouteStatus
    started_at: dt.datetime | None
    completed_at: dt.datetime | None
    events: list[TimelineEvent]
    stops: list[TimelineStop]


class LineString(OutModel):
    type: str = "LineString"
    coordinates: list[list[float]]


class GeometryProperties(OutModel):
    route_id: uuid.UUID
    encoded_polyline: str
    source: str


class NavigationGeometryOut(OutModel):
    type: str = "Feature"
    geometry: LineString | None
    properties: GeometryProperties


# --- planning: previews and auto-optimize ------------------------------------------------------

TimeLimit = Annotated[int, Field(ge=1, le=30, description="Solver time limit in seconds, 1..30 (default 5).")]


class Engine(enum.StrEnum):
    PYVRP = "pyvrp"
    ORTOOLS = "ortools"


class PlanOptions(InputModel):
    start_depot_id: uuid.UUID | None = Field(
        None, description="Where routes start; default: the branch's oldest depot, if it has one."
    )
    end_depot_id: uuid.UUID | None = Field(None, description="Where routes end; default: the start depot.")
    start_time: TimeOfDay | None = Field(
        None,
        description="HH:MM branch local. Default per vehicle: the latest of the start depot's opening "
        "and its driver's shift start, else 08:00.",
    )
    time_limit_seconds: TimeLimit = 5
    engine: Engine | None = Field(
        None,
        description="The optimizer: `pyvrp` (hybrid genetic search, the default) or `ortools`. "
        "Default: the deployment's OPTIMIZER_ENGINE.",
    )


class PlanRoutes(PlanOptions):
    branch_id: uuid.UUID
    date: dt.date
    vehicle_ids: MissionIds | None = Field(
        None, description="Default: every active vehicle of the branch without a route that day."
    )
    mission_ids: MissionIds | None = Field(
        None, description="Default: every unassigned mission of the branch and date."
    )

    @model_validator(mode="after")
    def _unique(self) -> PlanRoutes:
        _no_duplicates(self.mission_ids or [])
        _no_duplicates(self.vehicle_ids or [], "vehicleIds")
        return self


class PlanMissionRoute(PlanOptions):
    mission_ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=1000)] = Field(
        description="Missions of one branch and date, in any status but finished; their order is the answer."
    )
    vehicle_id: uuid.UUID | None = Field(
        None, description="Its capacities and its driver's shift apply; default: no limits."
    )

    @model_validator(mode="after")
    def _unique(self) -> PlanMissionRoute:
        _no_duplicates(self.mission_ids)
        return self


class PlannedStopOut(OutModel):
    mission_id: uuid.UUID
    sequence: int
    eta: dt.datetime
    etd: dt.datetime
    distance_from_previous_meters: int
    duration_from_previous_seconds: int


class LoadOut(OutModel):
    weight_kg: float
    volume_m3: float
    items: int


class PlannedRouteOut(OutModel):
    vehicle_id: uuid.UUID | None
    driver_id: uuid.UUID | None
    start_depot_id: uuid.UUID | None
    end_depot_id: uuid.UUID | None
    start_time: dt.time
    stops: list[PlannedStopOut]
    total_distance_meters: int
    total_duration_seconds: int
    load: LoadOut


class UnassignedReason(enum.StrEnum):
    CAPACITY = "capacity"
    TIME_WINDOW = "time_window"
    SHIFT_LENGTH = "shift_length"
    NO_VEHICLE = "no_vehicle"


class UnassignedOut(OutModel):
    mission_id: uuid.UUID
    reason: UnassignedReason


class RoutePlanOut(OutModel):
    routes: list[PlannedRouteOut]
    unassigned: list[UnassignedOut]
    credits_required: int = Field(description="Credits that saving this plan would consume.")
    credits_remaining: int
