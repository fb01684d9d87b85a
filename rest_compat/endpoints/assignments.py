from __future__ import annotations

from app.assignments.schemas import AssignmentCreate, AssignmentOut, AssignmentQuery, AssignmentUpdate
from app.assignments.service import assignment_service as svc
from app.core.principal import Scope
from rest_compat.spec import Endpoint, example_id

TAG = "Vehicle-driver assignments"
EXAMPLE = {
    "externalId": "erp-shift-2026-11-26",
    "vehicleId": example_id(),
    "driverId": "5d1f6a3e-8c2b-4f0e-9b7a-2e4c6d8f0a1b",
    "startsAt": "2026-11-26T06:00:00Z",
    "endsAt": "2026-11-26T18:00:00Z",
}
RULES = (
    "Intervals are half-open `[startsAt, endsAt)`; a null `endsAt` is open-ended. A vehicle has at most "
    "one driver at any instant and a driver at most one vehicle: an overlap is 409 `conflict` with "
    "`details.conflictingAssignmentId`. Vehicle and driver must be active (409 otherwise) and of your "
    "company (422 otherwise)."
)

ENDPOINTS = [
    Endpoint("GET", "/vehicle-driver-assignments", Scope.READ, lambda uow, c: svc.list(uow, c.query),
             summary="List vehicle-driver assignments.", tag=TAG, query=AssignmentQuery,
             returns=AssignmentOut, many=True),
    Endpoint("POST", "/vehicle-driver-assignments", Scope.WRITE, lambda uow, c: svc.create(uow, c.body),
             summary="Create a vehicle-driver assignment.", tag=TAG, body=AssignmentCreate,
             returns=AssignmentOut, status=201, emits=("vehicle_driver_assignment.created",), example=EXAMPLE,
             description=RULES),
    Endpoint("GET", "/vehicle-driver-assignments/{id}", Scope.READ, lambda uow, c: c.record, loads=svc.get,
             summary="Get a vehicle-driver assignment.", tag=TAG, returns=AssignmentOut),
    Endpoint("PATCH", "/vehicle-driver-assignments/{id}", Scope.WRITE,
             lambda uow, c: svc.update(uow, c.record, c.body), loads=svc.get,
             summary="Update a vehicle-driver assignment.", tag=TAG, body=AssignmentUpdate,
             returns=AssignmentOut, emits=("vehicle_driver_assignment.updated",),
             example={"endsAt": "2026-11-26T20:00:00Z"},
             description=RULES + " Only a vehicle or driver being changed must be active."),
    Endpoint("DELETE", "/vehicle-driver-assignments/{id}", Scope.WRITE,
             lambda uow, c: svc.delete(uow, c.record), loads=svc.get,
             summary="Delete a vehicle-driver assignment.", tag=TAG, status=204,
             emits=("vehicle_driver_assignment.deleted",)),
]  # fmt: skip
