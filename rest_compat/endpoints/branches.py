from __future__ import annotations

from app.branches.schemas import BranchCreate, BranchOut, BranchQuery, BranchUpdate
from app.branches.service import branch_service as svc
from app.core.principal import Scope
from rest_compat.spec import Endpoint

TAG = "Branches"
EXAMPLE = {
    "externalId": "erp-branch-ist",
    "name": "Istanbul Anadolu",
    "address": "Atasehir, Istanbul",
    "latitude": 40.9923,
    "longitude": 29.1244,
    "timezone": "Europe/Istanbul",
    "phone": "+902165550100",
}

ENDPOINTS = [
    Endpoint("GET", "/branches", Scope.READ, lambda uow, c: svc.list(uow, c.query),
             summary="List branches.", tag=TAG, query=BranchQuery, returns=BranchOut, many=True),
    Endpoint("POST", "/branches", Scope.WRITE, lambda uow, c: svc.create(uow, c.body),
             summary="Create a branch.", tag=TAG, body=BranchCreate, returns=BranchOut, status=201,
             example=EXAMPLE),
    Endpoint("GET", "/branches/{id}", Scope.READ, lambda uow, c: c.record, loads=svc.get,
             summary="Get a branch.", tag=TAG, returns=BranchOut),
    Endpoint("PATCH", "/branches/{id}", Scope.WRITE, lambda uow, c: svc.update(uow, c.record, c.body),
             loads=svc.get, summary="Update a branch.", tag=TAG, body=BranchUpdate, returns=BranchOut,
             example={"phone": "+902165550199"}),
    Endpoint("DELETE", "/branches/{id}", Scope.WRITE, lambda uow, c: svc.delete(uow, c.record),
             loads=svc.get, summary="Delete a branch.", tag=TAG, status=204,
             description="Refused with 409 `conflict` while depots, vehicles, drivers, missions or routes "
             "belong to the branch; `details.dependants` names them."),
]  # fmt: skip
