from __future__ import annotations

import datetime as dt
import uuid

import strawberry
from strawberry.experimental.pydantic import type as pydantic_type

from app.branches.types import Branch, as_branch
from app.graphql.context import Info
from app.graphql.inputs import graphql_enum, input_type, to_model
from app.graphql.loaders import Loaders, by_id_loader
from app.graphql.mutations import Deleted, mutation, query
from app.graphql.relay import Connection, connection, page_query
from app.vehicles import models
from app.vehicles.schemas import (
    VehicleCreate,
    VehicleOut,
    VehicleQuery,
    VehicleStatus,
    VehicleType,
    VehicleUpdate,
)
from app.vehicles.service import vehicle_service

Loaders.register("vehicle_by_id", lambda uow: by_id_loader(uow, models.Vehicle))
VehicleTypeEnum = graphql_enum(VehicleType)
VehicleStatusEnum = graphql_enum(VehicleStatus)


@pydantic_type(model=VehicleOut, all_fields=True)
class Vehicle:
    @strawberry.field
    async def branch(self, info: Info) -> Branch | None:
        record = await info.context.loaders.branch_by_id.load(self.branch_id)  # type: ignore[attr-defined]
        return as_branch(record) if record else None


def as_vehicle(record: object) -> Vehicle:
    return Vehicle.from_pydantic(VehicleOut.model_validate(record))  # type: ignore[attr-defined,no-any-return]


CreateVehicleInput = input_type(VehicleCreate, "CreateVehicleInput")
UpdateVehicleInput = input_type(VehicleUpdate, "UpdateVehicleInput", partial=True)


@strawberry.type
class VehicleQueries:
    @query()
    async def vehicles(
        self,
        info: Info,
        first: int = 50,
        after: str | None = None,
        updated_since: dt.datetime | None = None,
        external_id: str | None = None,
        branch_id: uuid.UUID | None = None,
        status: VehicleStatus | None = None,
        type: VehicleType | None = None,
    ) -> Connection[Vehicle]:
        params = page_query(
            VehicleQuery, first=first, after=after, updated_since=updated_since, external_id=external_id,
            branch_id=branch_id, status=status, type=type,
        )  # fmt: skip
        return connection(await vehicle_service.list(info.context.uow, params), as_vehicle)

    @query()
    async def vehicle(self, info: Info, id: uuid.UUID) -> Vehicle:
        return as_vehicle(await vehicle_service.get(info.context.uow, id))


@strawberry.type
class VehicleMutations:
    @mutation()
    async def create_vehicle(self, info: Info, input: CreateVehicleInput) -> Vehicle:  # type: ignore[valid-type]
        return as_vehicle(await vehicle_service.create(info.context.uow, to_model(VehicleCreate, input)))

    @mutation()
    async def update_vehicle(self, info: Info, id: uuid.UUID, input: UpdateVehicleInput) -> Vehicle:  # type: ignore[valid-type]
        uow = info.context.uow
        record = await vehicle_service.get(uow, id)
        return as_vehicle(await vehicle_service.update(uow, record, to_model(VehicleUpdate, input)))

    @mutation()
    async def delete_vehicle(self, info: Info, id: uuid.UUID) -> Deleted:
        uow = info.context.uow
        await vehicle_service.delete(uow, await vehicle_service.get(uow, id))
        return Deleted(id=strawberry.ID(str(id)))
