from __future__ import annotations

import strawberry
from strawberry.experimental.pydantic import type as pydantic_type

from app.branches.types import Branch, as_branch
from app.graphql.context import Info
from app.graphql.crud import resource_mutations, resource_queries
from app.graphql.inputs import graphql_enum
from app.graphql.loaders import Loaders, by_id_loader
from app.graphql.nodes import Node
from app.graphql.records import converter
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
class Vehicle(Node):
    id: strawberry.ID  # the record's UUID, unique across every type

    @strawberry.field
    async def branch(self, info: Info) -> Branch | None:
        record = await info.context.loaders.branch_by_id.load(self.branch_id)  # type: ignore[attr-defined]
        return as_branch(record) if record else None


def as_vehicle(record: object) -> Vehicle:
    return converter(VehicleOut)(record)


VehicleQueries = resource_queries(
    name="vehicle",
    plural="vehicles",
    gql_type=Vehicle,
    convert=as_vehicle,
    service=vehicle_service,
    query_model=VehicleQuery,
)
VehicleMutations = resource_mutations(
    name="vehicle",
    gql_type=Vehicle,
    convert=as_vehicle,
    service=vehicle_service,
    create=VehicleCreate,
    update=VehicleUpdate,
)
