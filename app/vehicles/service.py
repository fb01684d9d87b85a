"""Vehicles: what carries the missions, with capacities the optimizer respects."""

from __future__ import annotations

import uuid
from typing import Any

from app.branches.models import Branch
from app.branches.service import register_branch_dependant
from app.core.db import UnitOfWork
from app.core.repository import Repository
from app.core.schemas import ListQuery
from app.core.service import ResourceService
from app.vehicles.models import Vehicle
from app.vehicles.schemas import VehicleOut, VehicleQuery

register_branch_dependant("vehicles", Vehicle)

# Resources that block deleting a vehicle, registered by their areas as
# (kind, model, column, extra where-clauses): vehicle-driver assignments now, and routes that are
# not completed once the routes area exists.
VEHICLE_DEPENDANTS: list[tuple[str, Any, str, tuple[Any, ...]]] = []


def register_vehicle_dependant(kind: str, model: Any, column: str = "vehicle_id", *where: Any) -> None:
    VEHICLE_DEPENDANTS.append((kind, model, column, where))


class VehicleService(ResourceService[Vehicle]):
    model = Vehicle
    out = VehicleOut
    resource_type = "vehicle"
    event_prefix = "vehicle"

    def __init__(self) -> None:
        super().__init__()
        self.branches = Repository(Branch)

    def filters(self, query: ListQuery) -> list[Any]:
        assert isinstance(query, VehicleQuery)
        clauses = []
        if query.branch_id:
            clauses.append(Vehicle.branch_id == query.branch_id)
        if query.status:
            clauses.append(Vehicle.status == query.status.value)
        if query.type:
            clauses.append(Vehicle.type == query.type.value)
        return clauses

    async def check_create(self, uow: UnitOfWork, values: dict[str, Any]) -> None:
        await self.branches.reference(uow, values["branch_id"], "branchId")

    async def check_update(self, uow: UnitOfWork, record: Vehicle, changes: dict[str, Any]) -> None:
        if "branch_id" in changes:
            await self.branches.reference(uow, changes["branch_id"], "branchId")

    async def dependants(self, uow: UnitOfWork, record: Vehicle) -> dict[str, list[uuid.UUID]]:
        found: dict[str, list[uuid.UUID]] = {}
        for kind, model, column, where in VEHICLE_DEPENDANTS:
            found[kind] = await Repository(model).count_where(
                uow, getattr(model, column) == record.id, *where
            )
        return found


vehicle_service = VehicleService()
