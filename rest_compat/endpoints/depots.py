from __future__ import annotations

from app.core.principal import Scope
from app.depots.schemas import DepotCreate, DepotOut, DepotQuery, DepotUpdate
from app.depots.service import depot_service as svc
from rest_compat.spec import Endpoint, example_id

TAG = "Depots"
EXAMPLE = {
    "externalId": "erp-depot-1",
    "branchId": example_id(),
    "name": "Main warehouse",
    "address": "Tuzla, Istanbul",
    "latitude": 40.8160,
    "longitude": 29.3030,
    "openingTime": "07:00",
    "closingTime": "19:00",
}

ENDPOINTS = [
    Endpoint("GET", "/depots", Scope.READ, lambda uow, c: svc.list(uow, c.query),
             summary="List depots.", tag=TAG, query=DepotQuery, returns=DepotOut, many=True),
    Endpoint("POST", "/depots", Scope.WRITE, lambda uow, c: svc.create(uow, c.body),
             summary="Create a depot.", tag=TAG, body=DepotCreate, returns=DepotOut, status=201,
             example=EXAMPLE),
    Endpoint("GET", "/depots/{id}", Scope.READ, lambda uow, c: c.record, loads=svc.get,
             summary="Get a depot.", tag=TAG, returns=DepotOut),
    Endpoint("PATCH", "/depots/{id}", Scope.WRITE, lambda uow, c: svc.update(uow, c.record, c.body),
             loads=svc.get, summary="Update a depot.", tag=TAG, body=DepotUpdate, returns=DepotOut,
             example={"closingTime": "20:00"}),
    Endpoint("DELETE", "/depots/{id}", Scope.WRITE, lambda uow, c: svc.delete(uow, c.record),
             loads=svc.get, summary="Delete a depot.", tag=TAG, status=204,
             description="Refused with 409 `conflict` while routes start or end at the depot."),
]  # fmt: skip
