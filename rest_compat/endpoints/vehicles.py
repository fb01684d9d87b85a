from __future__ import annotations

from app.core.principal import Scope
from app.vehicles.schemas import VehicleCreate, VehicleOut, VehicleQuery, VehicleUpdate
from app.vehicles.service import vehicle_service as svc
from rest_compat.spec import Endpoint, example_id

TAG = "Vehicles"
EXAMPLE = {
    "externalId": "erp-vehicle-34",
    "branchId": example_id(),
    "name": "Van 34",
    "plateNumber": "34 ABC 123",
    "type": "van",
    "status": "active",
    "capacityWeightKg": 1200,
    "capacityVolumeM3": 8.5,
    "capacityItems": None,
    "costPerKm": 0.42,
}

ENDPOINTS = [
    Endpoint("GET", "/vehicles", Scope.READ, lambda uow, c: svc.list(uow, c.query),
             summary="List vehicles.", tag=TAG, query=VehicleQuery, returns=VehicleOut, many=True),
    Endpoint("POST", "/vehicles", Scope.WRITE, lambda uow, c: svc.create(uow, c.body),
             summary="Create a vehicle.", tag=TAG, body=VehicleCreate, returns=VehicleOut, status=201,
             emits=("vehicle.created",), example=EXAMPLE,
             description="Capacities are non-negative; null (or absent) means unlimited in that dimension."),
    Endpoint("GET", "/vehicles/{id}", Scope.READ, lambda uow, c: c.record, loads=svc.get,
             summary="Get a vehicle.", tag=TAG, returns=VehicleOut),
    Endpoint("PATCH", "/vehicles/{id}", Scope.WRITE, lambda uow, c: svc.update(uow, c.record, c.body),
             loads=svc.get, summary="Update a vehicle.", tag=TAG, body=VehicleUpdate, returns=VehicleOut,
             emits=("vehicle.updated",), example={"status": "inactive", "capacityItems": 120}),
    Endpoint("DELETE", "/vehicles/{id}", Scope.WRITE, lambda uow, c: svc.delete(uow, c.record),
             loads=svc.get, summary="Delete a vehicle.", tag=TAG, status=204, emits=("vehicle.deleted",),
             description="Refused with 409 `conflict` while vehicle-driver assignments or routes that are "
             "not completed use the vehicle; `details.dependants` names them."),
]  # fmt: skip
