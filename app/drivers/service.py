"""Drivers: the people who run routes; their app account is a mobile user made from an invite."""

from __future__ import annotations

import uuid
from typing import Any

from app.branches.models import Branch
from app.branches.service import register_branch_dependant
from app.core.db import UnitOfWork
from app.core.repository import Repository
from app.core.schemas import ListQuery
from app.core.service import ResourceService
from app.drivers.models import Driver
from app.drivers.schemas import DriverOut, DriverQuery

register_branch_dependant("drivers", Driver)

# Resources that block deleting a driver, registered by their areas as (kind, model, column,
# extra where-clauses): vehicle-driver assignments now, routes that are not completed later.
DRIVER_DEPENDANTS: list[tuple[str, Any, str, tuple[Any, ...]]] = []


def register_driver_dependant(kind: str, model: Any, column: str = "driver_id", *where: Any) -> None:
    DRIVER_DEPENDANTS.append((kind, model, column, where))


class DriverService(ResourceService[Driver]):
    model = Driver
    out = DriverOut
    resource_type = "driver"
    event_prefix = "driver"

    def __init__(self) -> None:
        super().__init__()
        self.branches = Repository(Branch)

    def filters(self, query: ListQuery) -> list[Any]:
        assert isinstance(query, DriverQuery)
        clauses = []
        if query.branch_id:
            clauses.append(Driver.branch_id == query.branch_id)
        if query.status:
            clauses.append(Driver.status == query.status.value)
        return clauses

    async def check_create(self, uow: UnitOfWork, values: dict[str, Any]) -> None:
        await self.branches.reference(uow, values["branch_id"], "branchId")

    async def check_update(self, uow: UnitOfWork, record: Driver, changes: dict[str, Any]) -> None:
        if "branch_id" in changes:
            await self.branches.reference(uow, changes["branch_id"], "branchId")

    async def dependants(self, uow: UnitOfWork, record: Driver) -> dict[str, list[uuid.UUID]]:
        """The driver's mobile user, devices and open invite go with it (database cascade); what
        others plan around it (assignments, routes) must be removed first."""
        found: dict[str, list[uuid.UUID]] = {}
        for kind, model, column, where in DRIVER_DEPENDANTS:
            found[kind] = await Repository(model).count_where(
                uow, getattr(model, column) == record.id, *where
            )
        return found


def full_name(driver: Driver) -> str:
    return f"{driver.first_name} {driver.last_name}".strip()


driver_service = DriverService()
