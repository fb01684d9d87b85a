from __future__ import annotations

import strawberry
from strawberry.experimental.pydantic import type as pydantic_type

from app.branches.types import Branch, as_branch
from app.depots.schemas import DepotCreate, DepotOut, DepotQuery, DepotUpdate
from app.depots.service import depot_service
from app.graphql.context import Info
from app.graphql.crud import resource_mutations, resource_queries
from app.graphql.nodes import Node
from app.graphql.records import converter


@pydantic_type(model=DepotOut, all_fields=True)
class Depot(Node):
    id: strawberry.ID  # the record's UUID, unique across every type

    @strawberry.field
    async def branch(self, info: Info) -> Branch | None:
        record = await info.context.loaders.branch_by_id.load(self.branch_id)  # type: ignore[attr-defined]
        return as_branch(record) if record else None


def as_depot(record: object) -> Depot:
    return converter(DepotOut)(record)


DepotQueries = resource_queries(
    name="depot",
    plural="depots",
    gql_type=Depot,
    convert=as_depot,
    service=depot_service,
    query_model=DepotQuery,
)
DepotMutations = resource_mutations(
    name="depot",
    gql_type=Depot,
    convert=as_depot,
    service=depot_service,
    create=DepotCreate,
    update=DepotUpdate,
)
