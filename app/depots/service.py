"""Depots: the places routes start and end, each belonging to a branch."""

from __future__ import annotations

import uuid
from typing import Any

from app.branches.models import Branch
from app.branches.service import register_branch_dependant
from app.core.db import UnitOfWork
from app.core.errors import ValidationFailed
from app.core.repository import Repository
from app.core.schemas import ListQuery
from app.core.service import ResourceService
from app.depots.models import Depot
from app.depots.schemas import DepotOut, DepotQuery

register_branch_dependant("depots", Depot)

# Resources that point at a depot (routes), registered by their areas.
DEPOT_DEPENDANTS: list[tuple[str, Any, tuple[str, ...]]] = []


class DepotService(ResourceService[Depot]):
    model = Depot
    out = DepotOut
    resource_type = "depot"

    def __init__(self) -> None:
        super().__init__()
        self.branches = Repository(Branch)

    def filters(self, query: ListQuery) -> list[Any]:
        assert isinstance(query, DepotQuery)
        return [Depot.branch_id == query.branch_id] if query.branch_id else []

    async def check_create(self, uow: UnitOfWork, values: dict[str, Any]) -> None:
        await self.branches.reference(uow, values["branch_id"], "branchId")

    async def check_update(self, uow: UnitOfWork, record: Depot, changes: dict[str, Any]) -> None:
        if "branch_id" in changes:
            await self.branches.reference(uow, changes["branch_id"], "branchId")
        opening = changes.get("opening_time", record.opening_time)
        closing = changes.get("closing_time", record.closing_time)
        if opening and closing and opening >= closing:
            if "closing_time" in changes or "opening_time" not in changes:
                raise ValidationFailed.field("closingTime", "must be after openingTime")
            raise ValidationFailed.field("openingTime", "must be before closingTime")

    async def dependants(self, uow: UnitOfWork, record: Depot) -> dict[str, list[uuid.UUID]]:
        found: dict[str, list[uuid.UUID]] = {}
        for kind, model, columns in DEPOT_DEPENDANTS:
            from sqlalchemy import or_

            clause = or_(*(getattr(model, c) == record.id for c in columns))
            found[kind] = await Repository(model).count_where(uow, clause)
        return found


depot_service = DepotService()
