from __future__ import annotations

import strawberry
from strawberry.experimental.pydantic import type as pydantic_type

from app.branches.schemas import BranchCreate, BranchOut, BranchQuery, BranchUpdate
from app.branches.service import branch_service
from app.graphql.crud import resource_mutations, resource_queries
from app.graphql.nodes import Node
from app.graphql.records import converter


@pydantic_type(model=BranchOut, all_fields=True)
class Branch(Node):
    id: strawberry.ID  # the record's UUID, unique across every type


def as_branch(record: object) -> Branch:
    return converter(BranchOut)(record)


BranchQueries = resource_queries(
    name="branch",
    plural="branches",
    gql_type=Branch,
    convert=as_branch,
    service=branch_service,
    query_model=BranchQuery,
)
BranchMutations = resource_mutations(
    name="branch",
    gql_type=Branch,
    convert=as_branch,
    service=branch_service,
    create=BranchCreate,
    update=BranchUpdate,
)
