from __future__ import annotations

from app.core.principal import Scope
from app.routes.geometry import navigation_geometry
from app.routes.schemas import (
    AddMissions,
    AssignDriver,
    AssignVehicle,
    NavigationGeometryOut,
    ReorderMissions,
    RouteCreate,
    RouteOut,
    RouteQuery,
    RouteTimelineOut,
)
from app.routes.service import route_service as svc
from app.routes.timeline import route_timeline
from rest_compat.spec import Endpoint, example_id

TAG = "Routes"
MISSION_A, MISSION_B = "5f0c1f7e-8d4b-4a53-9a43-1c2b3d4e5f60", "7a1d2e3f-4b5c-4d6e-8f70-8192a3b4c5d6"
EXAMPLE = {
    "externalId": "erp-route-2026-11-26-1",
    "branchId": example_id(),
    "date": "2026-11-26",
    "name": "Kadikoy morning",
    "missionIds": [MISSION_A, MISSION_B],
    "vehicleId": None,
    "driverId": None,
    "startDepotId": None,
    "endDepotId": None,
    "startTime": "08:30",
}
STOPS = [
    {"missionId": MISSION_A, "sequence": 1, "eta": "2026-11-26T05:42:00Z", "etd": "2026-11-26T05:47:00Z",
     "distanceFromPreviousMeters": 0, "durationFromPreviousSeconds": 0, "status": "scheduled"},
    {"missionId": MISSION_B, "sequence": 2, "eta": "2026-11-26T05:58:00Z", "etd": "2026-11-26T06:03:00Z",
     "distanceFromPreviousMeters": 5400, "durationFromPreviousSeconds": 660, "status": "scheduled"},
]  # fmt: skip
ROUTE = {
    "id": "0b3c9a52-52f4-4c1e-9a0b-3f1f1e2d4c5b", "externalId": "erp-route-2026-11-26-1",
    "branchId": example_id(), "date": "2026-11-26", "name": "Kadikoy morning", "status": "planned",
    "driverId": None, "vehicleId": None, "startDepotId": None, "endDepotId": None, "startTime": "08:30",
    "totalDistanceMeters": 5400, "totalDurationSeconds": 1980, "optimizedAt": None, "startedAt": None,
    "completedAt": None, "stops": STOPS,
    "createdAt": "2026-11-25T16:00:00Z", "updatedAt": "2026-11-25T16:00:00Z",
}  # fmt: skip
ONE = {"data": ROUTE}
TIMELINE = {"data": {
    "routeId": ROUTE["id"], "status": "in_progress", "startedAt": "2026-11-26T05:40:00Z", "completedAt": None,
    "events": [
        {"at": "2026-11-26T05:40:00Z", "kind": "route_started", "missionId": None, "latitude": None,
         "longitude": None, "source": None, "actor": None, "failureReason": None},
        {"at": "2026-11-26T05:40:00Z", "kind": "started", "missionId": MISSION_A, "latitude": 40.99,
         "longitude": 29.03, "source": "mobile",
         "actor": {"type": "driver", "id": example_id(), "name": "Ayse K"},
         "failureReason": None},
    ],
    "stops": [{"missionId": MISSION_A, "sequence": 1, "status": "in_progress",
               "plannedEta": "2026-11-26T05:42:00Z", "plannedEtd": "2026-11-26T05:47:00Z",
               "actualStartedAt": "2026-11-26T05:40:00Z", "actualFinishedAt": None, "delaySeconds": -120}],
}}  # fmt: skip
GEOMETRY = {"data": {
    "type": "Feature",
    "geometry": {"type": "LineString", "coordinates": [[29.01, 41.01], [29.03, 40.99], [29.01, 41.01]]},
    "properties": {"routeId": ROUTE["id"], "encodedPolyline": "owhyFo_apD~{B_|B_|B~{B", "source": "straight"},
}}  # fmt: skip

ENDPOINTS = [
    Endpoint("POST", "/routes", Scope.WRITE, lambda uow, c: svc.create(uow, c.body),
             summary="Create a route.", tag=TAG, body=RouteCreate, returns=RouteOut, status=201,
             emits=("route.created", "mission.status_changed"), example=EXAMPLE, response_example=ONE,
             error_codes=(402,),
             description="`missionIds` must be `unassigned` missions of the route's branch and date "
             "(409 otherwise); they become `scheduled` in the given order and each costs one "
             "scheduled-order credit the first time it is scheduled (402 `insufficient_credits` with "
             "`details.required`/`remaining` leaves nothing created). Unknown ids are 422 on their field. "
             "Depots, driver and vehicle must be of the route's branch (409 otherwise); driver and "
             "vehicle follow the assign rules. `name` defaults to \"Route <n> <date>\". Stops carry ETAs "
             "from the travel-time model (service durations, waiting for time windows)."),
    Endpoint("GET", "/routes", Scope.READ, lambda uow, c: svc.list(uow, c.query),
             summary="List routes.", tag=TAG, query=RouteQuery, returns=RouteOut, many=True,
             response_example={"data": [ROUTE],
                               "pagination": {"limit": 50, "nextCursor": None, "hasMore": False}}),
    Endpoint("GET", "/routes/{id}", Scope.READ, lambda uow, c: c.record, loads=svc.get,
             summary="Get a route.", tag=TAG, returns=RouteOut, response_example=ONE),
    Endpoint("GET", "/routes/{id}/timeline", Scope.READ, lambda uow, c: route_timeline(uow, c.record),
             loads=svc.get, summary="Read route execution timeline from mission executions.", tag=TAG,
             returns=RouteTimelineOut, response_example=TIMELINE,
             description="`events`: what happened on the route in time order (`route_started`, `started`, "
             "`delivered`, `failed`, `proof_verified`, `cancelled`, `route_completed`), from the executions "
             "recorded on this route. `stops`: each current stop's planned ETA/ETD against the actual start "
             "and finish; `delaySeconds` = actualStartedAt - plannedEta (negative: early)."),
    Endpoint("GET", "/routes/{id}/navigation-geometry", Scope.READ,
             lambda uow, c: navigation_geometry(uow, c.record), loads=svc.get,
             summary="Read route navigation geometry.", tag=TAG, returns=NavigationGeometryOut,
             response_example=GEOMETRY,
             description="A GeoJSON Feature: a LineString ([longitude, latitude] pairs) from the start depot "
             "through the stops to the end depot, and the same line as a Google encoded polyline "
             "(precision 5). `source` is `straight` (straight segments) unless a routing engine supplies "
             "road geometry (`osrm`). With fewer than two points `geometry` is null."),
    Endpoint("PUT", "/routes/{id}/assign-driver", Scope.WRITE,
             lambda uow, c: svc.assign_driver(uow, c.record, c.body), loads=svc.locked,
             summary="Assign a driver.", tag=TAG, body=AssignDriver, returns=RouteOut,
             emits=("route.assigned",),
             example={"driverId": example_id()}, response_example=ONE,
             description="An active driver of the route's branch (409 otherwise) with no other route that "
             "day (409 with `details.conflictingRouteId`); `null` unassigns. With a driver and a vehicle "
             "the route is `assigned`; without, a route not yet started is `planned`. Sending the current "
             "driver changes nothing and emits nothing. A completed route cannot change (409)."),
    Endpoint("PUT", "/routes/{id}/assign-vehicle", Scope.WRITE,
             lambda uow, c: svc.assign_vehicle(uow, c.record, c.body), loads=svc.locked,
             summary="Assign a vehicle.", tag=TAG, body=AssignVehicle, returns=RouteOut,
             emits=("route.assigned",), example={"vehicleId": example_id()}, response_example=ONE,
             description="As assign-driver, plus capacity: the route's summed mission load must fit the "
             "vehicle's capacities (null = unlimited), else 409 with "
             "`details: {dimension, load, capacity}`."),
    Endpoint("PUT", "/routes/{id}/add-missions", Scope.WRITE,
             lambda uow, c: svc.add_missions(uow, c.record, c.body), loads=svc.locked,
             summary="Add missions to a route.", tag=TAG, body=AddMissions, returns=RouteOut,
             emits=("mission.status_changed", "route.reordered"), error_codes=(402,),
             example={"missionIds": [MISSION_A], "position": 1}, response_example=ONE,
             description="Schedules `unassigned` missions of the route's branch and date at `position` "
             "(1-based, before the stop now there; default: the end). Charges one credit per mission never "
             "charged before (402 changes nothing); the vehicle's capacity is checked (409). ETAs are "
             "recomputed. Emits `mission.status_changed` per mission and one `route.reordered` with the "
             "route's new stops."),
    Endpoint("PUT", "/routes/{id}/missions/order", Scope.WRITE,
             lambda uow, c: svc.reorder(uow, c.record, c.body), loads=svc.locked,
             summary="Reorder missions on a route.", tag=TAG, body=ReorderMissions, returns=RouteOut,
             emits=("route.reordered",), example={"missionIds": [MISSION_B, MISSION_A]},
             response_example=ONE,
             description="`missionIds` must be exactly the route's current missions in the new order, else "
             "422 "
             "naming the missing and extra ids. ETAs are recomputed. The current order changes nothing."),
    Endpoint("DELETE", "/routes/{id}", Scope.WRITE, lambda uow, c: svc.delete(uow, c.record),
             loads=svc.locked,
             summary="Delete a route.", tag=TAG, status=204,
             emits=("route.deleted", "mission.status_changed", "mission.updated"),
             description="Refused (409) while a mission is in progress. Scheduled missions go back to "
             "`unassigned` (`mission.status_changed`; their credit is not refunded, and scheduling them "
             "again does not charge). Delivered, proofed and failed missions keep their status and leave "
             "the route (`routeId` null, `mission.updated`). `route.deleted` carries the route as it was."),
]  # fmt: skip
