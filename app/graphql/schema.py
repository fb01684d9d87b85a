"""The GraphQL schema, composed from each area's query and mutation types."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import specified_rules
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from app.api_tokens.types import ApiTokenMutations, ApiTokenQueries
from app.assignments.types import AssignmentMutations, AssignmentQueries
from app.branches.types import BranchMutations, BranchQueries
from app.companies.types import CompanyQueries
from app.dashboard.types import DashboardQueries
from app.depots.types import DepotMutations, DepotQueries
from app.drivers.types import DriverMutations, DriverQueries
from app.graphql.documents import CachedDocuments
from app.graphql.execution import read_attributes_directly
from app.graphql.metrics import OperationMetrics
from app.graphql.nodes import NodeQueries
from app.graphql.scalars import SCALAR_MAP
from app.missions.types import MissionHistoryQueries, MissionMutations, MissionQueries
from app.mobile_users.driver_app import DriverAppQueries
from app.mobile_users.types import MobileUserMutations, MobileUserQueries
from app.optimization_jobs.types import (
    OptimizationJobMutations,
    OptimizationJobQueries,
    OptimizationJobSubscriptions,
)
from app.reports.types import ReportQueries, ReportSectionQueries
from app.routes.types import RouteDetailQueries, RouteMutations, RouteQueries
from app.vehicles.types import VehicleMutations, VehicleQueries
from app.webhooks.types import WebhookMutations, WebhookQueries

QUERIES: tuple[type, ...] = (
    NodeQueries, CompanyQueries, BranchQueries, DepotQueries, ApiTokenQueries,
    VehicleQueries, DriverQueries, MobileUserQueries, AssignmentQueries, RouteQueries,
    RouteDetailQueries, MissionQueries, MissionHistoryQueries, ReportQueries, ReportSectionQueries,
    DashboardQueries, OptimizationJobQueries, WebhookQueries, DriverAppQueries,
)  # fmt: skip
MUTATIONS: tuple[type, ...] = (
    BranchMutations, DepotMutations, ApiTokenMutations,
    VehicleMutations, DriverMutations, MobileUserMutations, AssignmentMutations, RouteMutations,
    MissionMutations, OptimizationJobMutations, WebhookMutations,
)  # fmt: skip
SUBSCRIPTIONS: tuple[type, ...] = (OptimizationJobSubscriptions,)

MAX_DEPTH = 10
MAX_ALIASES = 30
MAX_TOKENS = 4000

# Built once: the validation cache keys on the rules, and a limiter extension makes new rule
# classes each time it is made.
VALIDATION_RULES = (
    *specified_rules,
    *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
)

Query = merge_types("Query", QUERIES)
Mutation = merge_types("Mutation", MUTATIONS)
Subscription = merge_types("Subscription", SUBSCRIPTIONS)


class Schema(strawberry.Schema):
    def process_errors(self, errors: Any, execution_context: Any = None) -> None:
        """Errors are logged where they are answered (`app.graphql.endpoint.format_error`): a
        server error with its traceback, a caller's error as one line. Strawberry's default would
        log every one of them, the caller's included, with a traceback."""


schema = Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    config=StrawberryConfig(auto_camel_case=True, scalar_map=SCALAR_MAP),
    extensions=[
        lambda: CachedDocuments(MAX_TOKENS, VALIDATION_RULES),
        # For the documents the cache does not take (too big, or failing to parse).
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        OperationMetrics,
    ],
)
read_attributes_directly(schema._schema)
