"""Branches: operating units (a city, a warehouse region) that own depots, fleet and missions."""

from __future__ import annotations

import uuid
from typing import Any

from app.branches.models import Branch
from app.branches.schemas import BranchOut
from app.core.db import UnitOfWork
from app.core.errors import ValidationFailed
from app.core.service import ResourceService

# Resources that hang off a branch; later areas register theirs so delete can name them all.
BRANCH_DEPENDANTS: list[tuple[str, Any]] = []


def register_branch_dependant(kind: str, model: Any) -> None:
    BRANCH_DEPENDANTS.append((kind, model))


class BranchService(ResourceService[Branch]):
    model = Branch
    out = BranchOut
    resource_type = "branch"

    async def check_update(self, uow: UnitOfWork, record: Branch, changes: dict[str, Any]) -> None:
        latitude = changes.get("latitude", record.latitude)
        longitude = changes.get("longitude", record.longitude)
        if (latitude is None) != (longitude is None):
            # The field this change left alone or emptied: the one the caller must also send.
            missing = "longitude" if longitude is None else "latitude"
            raise ValidationFailed.field(missing, "latitude and longitude go together")

    async def dependants(self, uow: UnitOfWork, record: Branch) -> dict[str, list[uuid.UUID]]:
        from app.core.repository import Repository

        found: dict[str, list[uuid.UUID]] = {}
        for kind, model in BRANCH_DEPENDANTS:
            found[kind] = await Repository(model).count_where(uow, model.branch_id == record.id)
        return found


branch_service = BranchService()
