from __future__ import annotations

import datetime as dt
import uuid

import strawberry
from strawberry.experimental.pydantic import type as pydantic_type

from app.assignments.schemas import AssignmentCreate, AssignmentOut, AssignmentQuery, AssignmentUpdate
from app.assignments.service import assignment_service
from app.drivers.types import Driver, as_driver
from app.graphql.context import Info
from app.graphql.inputs import input_type, to_model
from app.graphql.mutations import Deleted, mutation, query
from app.graphql.relay import Connection, connection, page_query
from app.vehicles.types import Vehicle, as_vehicle


@pydantic_type(model=AssignmentOut, all_fields=True)
class VehicleDriverAssignment:
    @strawberry.field
    async def vehicle(self, info: Info) -> Vehicle | None:
        record = await info.context.loaders.vehicle_by_id.load(self.vehicle_id)  # type: ignore[attr-defined]
        return as_vehicle(record) if record else None

    @strawberry.field
    async def driver(self, info: Info) -> Driver | None:
        record = await info.context.loaders.driver_by_id.load(self.driver_id)  # type: ignore[attr-defined]
        return as_driver(record) if record else None


def as_assignment(record: object) -> VehicleDriverAssignment:
    return VehicleDriverAssignment.from_pydantic(AssignmentOut.model_validate(record))  # type: ignore[attr-defined,no-any-return]


CreateAssignmentInput = input_type(AssignmentCreate, "CreateVehicleDriverAssignmentInput")
UpdateAssignmentInput = input_type(AssignmentUpdate, "UpdateVehicleDriverAssignmentInput", partial=True)


@strawberry.type
class AssignmentQueries:
    @query()
    async def vehicle_driver_assignments(
        self,
        info: Info,
        first: int = 50,
        after: str | None = None,
        updated_since: dt.datetime | None = None,
        external_id: str | None = None,
        vehicle_id: uuid.UUID | None = None,
        driver_id: uuid.UUID | None = None,
        active_at: dt.datetime | None = None,
    ) -> Connection[VehicleDriverAssignment]:
        params = page_query(
            AssignmentQuery, first=first, after=after, updated_since=updated_since, external_id=external_id,
            vehicle_id=vehicle_id, driver_id=driver_id, active_at=active_at,
        )  # fmt: skip
        return connection(await assignment_service.list(info.context.uow, params), as_assignment)

    @query()
    async def vehicle_driver_assignment(self, info: Info, id: uuid.UUID) -> VehicleDriverAssignment:
        return as_assignment(await assignment_service.get(info.context.uow, id))


@strawberry.type
class AssignmentMutations:
    @mutation()
    async def create_vehicle_driver_assignment(
        self,
        info: Info,
        input: CreateAssignmentInput,  # type: ignore[valid-type]
    ) -> VehicleDriverAssignment:
        data = to_model(AssignmentCreate, input)
        return as_assignment(await assignment_service.create(info.context.uow, data))

    @mutation()
    async def update_vehicle_driver_assignment(
        self,
        info: Info,
        id: uuid.UUID,
        input: UpdateAssignmentInput,  # type: ignore[valid-type]
    ) -> VehicleDriverAssignment:
        uow = info.context.uow
        record = await assignment_service.get(uow, id)
        return as_assignment(await assignment_service.update(uow, record, to_model(AssignmentUpdate, input)))

    @mutation()
    async def delete_vehicle_driver_assignment(self, info: Info, id: uuid.UUID) -> Deleted:
        uow = info.context.uow
        await assignment_service.delete(uow, await assignment_service.get(uow, id))
        return Deleted(id=strawberry.ID(str(id)))
