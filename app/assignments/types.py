from __future__ import annotations

import strawberry
from strawberry.experimental.pydantic import type as pydantic_type

from app.assignments.schemas import AssignmentCreate, AssignmentOut, AssignmentQuery, AssignmentUpdate
from app.assignments.service import assignment_service
from app.drivers.types import Driver, as_driver
from app.graphql.context import Info
from app.graphql.crud import resource_mutations, resource_queries
from app.graphql.nodes import Node
from app.graphql.records import converter
from app.vehicles.types import Vehicle, as_vehicle


@pydantic_type(model=AssignmentOut, all_fields=True)
class VehicleDriverAssignment(Node):
    id: strawberry.ID  # the record's UUID, unique across every type

    @strawberry.field
    async def vehicle(self, info: Info) -> Vehicle | None:
        record = await info.context.loaders.vehicle_by_id.load(self.vehicle_id)  # type: ignore[attr-defined]
        return as_vehicle(record) if record else None

    @strawberry.field
    async def driver(self, info: Info) -> Driver | None:
        record = await info.context.loaders.driver_by_id.load(self.driver_id)  # type: ignore[attr-defined]
        return as_driver(record) if record else None


def as_assignment(record: object) -> VehicleDriverAssignment:
    return converter(AssignmentOut)(record)


AssignmentQueries = resource_queries(
    name="vehicle_driver_assignment",
    plural="vehicle_driver_assignments",
    gql_type=VehicleDriverAssignment,
    convert=as_assignment,
    service=assignment_service,
    query_model=AssignmentQuery,
)
AssignmentMutations = resource_mutations(
    name="vehicle_driver_assignment",
    gql_type=VehicleDriverAssignment,
    convert=as_assignment,
    service=assignment_service,
    create=AssignmentCreate,
    update=AssignmentUpdate,
)
