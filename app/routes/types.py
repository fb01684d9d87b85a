from __future__ import annotations

import uuid

import strawberry
from strawberry.experimental.pydantic import type as pydantic_type

from app.branches.types import Branch, as_branch
from app.depots.models import Depot as DepotModel
from app.depots.types import Depot, as_depot
from app.drivers.types import Driver, as_driver
from app.graphql.context import Info
from app.graphql.crud import resource_queries
from app.graphql.inputs import graphql_enum, input_type, to_model
from app.graphql.loaders import Loaders, by_id_loader
from app.graphql.mutations import Deleted, mutation, query
from app.graphql.nodes import Node
from app.graphql.records import converter
from app.routes import planning
from app.routes.schemas import (
    AddMissions,
    AssignDriver,
    AssignVehicle,
    LoadOut,
    PlanMissionRoute,
    PlannedRouteOut,
    PlannedStopOut,
    PlanRoutes,
    ReorderMissions,
    RouteCreate,
    RouteOut,
    RoutePlanOut,
    RouteQuery,
    RouteStatus,
    RouteTimelineOut,
    RouteView,
    StopOut,
    TimelineActor,
    TimelineEvent,
    TimelineStop,
    UnassignedOut,
    UnassignedReason,
)
from app.routes.service import route_service
from app.routes.timeline import route_timeline
from app.vehicles.types import Vehicle, as_vehicle

Loaders.register("depot_by_id", lambda uow: by_id_loader(uow, DepotModel))
RouteStatusEnum = graphql_enum(RouteStatus)


@pydantic_type(model=StopOut, all_fields=True, description="A stop: one mission of the route, in sequence.")
class Stop:
    pass


@pydantic_type(model=RouteOut, all_fields=True)
class Route(Node):
    id: strawberry.ID  # the record's UUID, unique across every type

    @strawberry.field
    async def branch(self, info: Info) -> Branch | None:
        record = await info.context.loaders.branch_by_id.load(self.branch_id)  # type: ignore[attr-defined]
        return as_branch(record) if record else None

    @strawberry.field
    async def driver(self, info: Info) -> Driver | None:
        if self.driver_id is None:  # type: ignore[attr-defined]
            return None
        record = await info.context.loaders.driver_by_id.load(self.driver_id)  # type: ignore[attr-defined]
        return as_driver(record) if record else None

    @strawberry.field
    async def vehicle(self, info: Info) -> Vehicle | None:
        if self.vehicle_id is None:  # type: ignore[attr-defined]
            return None
        record = await info.context.loaders.vehicle_by_id.load(self.vehicle_id)  # type: ignore[attr-defined]
        return as_vehicle(record) if record else None

    @strawberry.field
    async def start_depot(self, info: Info) -> Depot | None:
        if self.start_depot_id is None:  # type: ignore[attr-defined]
            return None
        record = await info.context.loaders.depot_by_id.load(self.start_depot_id)  # type: ignore[attr-defined]
        return as_depot(record) if record else None

    @strawberry.field
    async def end_depot(self, info: Info) -> Depot | None:
        if self.end_depot_id is None:  # type: ignore[attr-defined]
            return None
        record = await info.context.loaders.depot_by_id.load(self.end_depot_id)  # type: ignore[attr-defined]
        return as_depot(record) if record else None


def as_route(view: RouteView) -> Route:
    return converter(RouteOut)(view)


@pydantic_type(model=TimelineActor, all_fields=True)
class RouteTimelineActor:
    pass


@pydantic_type(model=TimelineEvent, all_fields=True)
class RouteTimelineEvent:
    pass


@pydantic_type(model=TimelineStop, all_fields=True)
class RouteTimelineStop:
    pass


@pydantic_type(
    model=RouteTimelineOut, all_fields=True, description="What happened on a route, in time order."
)
class RouteTimeline:
    pass


# --- planning ---------------------------------------------------------------------------------

UnassignedReasonEnum = graphql_enum(UnassignedReason)


@pydantic_type(model=PlannedStopOut, all_fields=True)
class PlannedStop:
    pass


@pydantic_type(model=LoadOut, all_fields=True)
class RouteLoad:
    pass


@pydantic_type(model=PlannedRouteOut, all_fields=True, description="A proposed route (nothing saved).")
class PlannedRoute:
    pass


@pydantic_type(model=UnassignedOut, all_fields=True, description="A mission the plan leaves out, and why.")
class UnassignedMission:
    pass


@pydantic_type(model=RoutePlanOut, all_fields=True, description="An optimizer preview.")
class RoutePlan:
    pass


def as_plan(plan: RoutePlanOut) -> RoutePlan:
    return RoutePlan.from_pydantic(plan)  # type: ignore[attr-defined,no-any-return]


PlanRoutesInput = input_type(PlanRoutes, "PlanRoutesInput")
PlanMissionRouteInput = input_type(PlanMissionRoute, "PlanMissionRouteInput")
CreateRouteInput = input_type(RouteCreate, "CreateRouteInput")
AddRouteMissionsInput = input_type(AddMissions, "AddRouteMissionsInput")


RouteQueries = resource_queries(
    name="route",
    plural="routes",
    gql_type=Route,
    convert=as_route,
    service=route_service,
    query_model=RouteQuery,
)


@strawberry.type
class RouteDetailQueries:
    @query(description="The route's executed events in time order, and planned versus actual time per stop.")
    async def route_timeline(self, info: Info, id: uuid.UUID) -> RouteTimeline:
        uow = info.context.uow
        timeline = await route_timeline(uow, await route_service.get(uow, id))
        return RouteTimeline.from_pydantic(timeline)  # type: ignore[attr-defined,no-any-return]


@strawberry.type
class RouteMutations:
    @mutation(description="Create a route, optionally with missions (in stop order), driver and vehicle.")
    async def create_route(self, info: Info, input: CreateRouteInput) -> Route:  # type: ignore[valid-type]
        return as_route(await route_service.create(info.context.uow, to_model(RouteCreate, input)))

    @mutation(description="Assign an active driver of the route's branch; null unassigns.")
    async def assign_route_driver(self, info: Info, id: uuid.UUID, driver_id: uuid.UUID | None) -> Route:
        uow = info.context.uow
        route = await route_service.locked(uow, id)
        body = AssignDriver.model_validate({"driverId": driver_id})
        return as_route(await route_service.assign_driver(uow, route, body))

    @mutation(description="Assign an active vehicle of the route's branch; null unassigns.")
    async def assign_route_vehicle(self, info: Info, id: uuid.UUID, vehicle_id: uuid.UUID | None) -> Route:
        uow = info.context.uow
        route = await route_service.locked(uow, id)
        body = AssignVehicle.model_validate({"vehicleId": vehicle_id})
        return as_route(await route_service.assign_vehicle(uow, route, body))

    @mutation(description="Schedule unassigned missions onto the route at a 1-based position (default: end).")
    async def add_route_missions(self, info: Info, id: uuid.UUID, input: AddRouteMissionsInput) -> Route:  # type: ignore[valid-type]
        uow = info.context.uow
        route = await route_service.locked(uow, id)
        return as_route(await route_service.add_missions(uow, route, to_model(AddMissions, input)))

    @mutation(description="Put the route's missions in a new order: exactly its current missions.")
    async def reorder_route_missions(self, info: Info, id: uuid.UUID, mission_ids: list[uuid.UUID]) -> Route:
        uow = info.context.uow
        route = await route_service.locked(uow, id)
        body = to_model(ReorderMissions, ReorderMissions.model_construct(mission_ids=mission_ids))
        return as_route(await route_service.reorder(uow, route, body))

    @mutation()
    async def delete_route(self, info: Info, id: uuid.UUID) -> Deleted:
        uow = info.context.uow
        await route_service.delete(uow, await route_service.locked(uow, id))
        return Deleted(id=strawberry.ID(str(id)))

    @mutation(
        description="Preview routes for a branch and day with the optimizer; saves and charges nothing."
    )
    async def plan_routes(self, info: Info, input: PlanRoutesInput) -> RoutePlan:  # type: ignore[valid-type]
        return as_plan(await planning.plan(info.context.uow, to_model(PlanRoutes, input)))

    @mutation(description="Preview the best order of the given missions as one route; saves nothing.")
    async def plan_mission_route(self, info: Info, input: PlanMissionRouteInput) -> RoutePlan:  # type: ignore[valid-type]
        return as_plan(await planning.plan_mission_route(info.context.uow, to_model(PlanMissionRoute, input)))
