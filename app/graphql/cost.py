"""What a GraphQL operation costs, computed from its document before it runs, and the caller's
budget of cost (the way Shopify's Admin API reports it).

The model counts the objects an operation may return:

- a field returning an object (or a list of them) costs 1 plus the cost of its selection;
- scalars, enums and meta fields (`__typename`, introspection) cost 0;
- a field taking `first` (or `last`) multiplies its selection's cost by that page size: the value
  given, its variable's value, or the field's default (50); at most 500, the largest page any field
  serves. A connection's `edges` and `nodes` are thus counted once per row of the page (its
  `pageInfo` once), and so are the objects of a paged field returning a list directly
  (`creditLedger(first: 10) { id }` costs 1 + 10 x 1). Lists without a page argument count once;
- fragments and inline fragments count as if written in place (every type condition of an abstract
  field is counted, so the figure is an upper bound).

`{ branches(first: 100) { nodes { id name } } }` costs 1 + 100 x 1 = 101; with each branch's depot
(`nodes { depot { name } }`) 1 + 100 x 2 = 201; adding `pageInfo { endCursor }` makes it 202.

An operation costing more than `GRAPHQL_MAX_COST` is refused before it runs. The others are drawn
from the caller's budget (its rate-limit bucket's owner: API token, user or driver), a token bucket
in Redis of `GRAPHQL_COST_BUDGET` points restored at `GRAPHQL_COST_RESTORE_PER_SECOND`; when it
holds too little the request is refused with 429 `rate_limited` and `Retry-After`, like the request
rate limit. Public operations (sign-in) have no caller to charge."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    get_operation_ast,
    is_list_type,
    value_from_ast_untyped,
)

from app.core.errors import RateLimited, ValidationFailed
from app.core.principal import Principal
from app.core.ratelimit import RateLimiter, Verdict, bucket_of
from app.settings import get_settings

DEFAULT_PAGE = 50
MAX_PAGE = 500
PAGE_ARGUMENTS = ("first", "last")
PAGE_WIDE_FIELDS = ("pageInfo", "totalCount")


@dataclass(frozen=True)
class _Walk:
    schema: GraphQLSchema
    fragments: dict[str, FragmentDefinitionNode]
    variables: dict[str, Any]


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
) -> int | None:
    """The cost of the operation `operation_name` of a validated document; None if it has none."""
    operation = get_operation_ast(document, operation_name)
    root = schema.get_root_type(operation.operation) if operation is not None else None
    if operation is None or root is None:
        return None
    defaults = {
        definition.variable.name.value: value_from_ast_untyped(definition.default_value)
        for definition in operation.variable_definitions or ()
        if definition.default_value is not None
    }
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    walk = _Walk(schema, fragments, {**defaults, **(variables or {})})
    return _selection_cost(walk, root, operation.selection_set)


def _selection_cost(walk: _Walk, parent: GraphQLNamedType, selection_set: SelectionSetNode) -> int:
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            total += _field_cost(walk, parent, selection)
            continue
        # An inline fragment or a fragment spread: its type condition, or the enclosing type.
        fragment: InlineFragmentNode | FragmentDefinitionNode
        if isinstance(selection, InlineFragmentNode):
            fragment = selection
        else:
            fragment = walk.fragments[selection.name.value]  # type: ignore[attr-defined]
        condition = fragment.type_condition
        named = walk.schema.get_type(condition.name.value) if condition is not None else parent
        total += _selection_cost(walk, named or parent, fragment.selection_set)
    return total


def _field_cost(walk: _Walk, parent: GraphQLNamedType, field: FieldNode) -> int:
    definition = getattr(parent, "fields", {}).get(field.name.value)
    if definition is None or field.selection_set is None:
        return 0  # a scalar, an enum, or a meta field
    target = get_named_type(definition.type)
    size = _page_size(walk, field, definition.args)
    if size is None:
        return 1 + _selection_cost(walk, target, field.selection_set)
    if is_list_type(get_nullable_type(definition.type)):
        # A paged list of objects: each of them counts, as a connection's rows do.
        return 1 + size * (1 + _selection_cost(walk, target, field.selection_set))
    # A connection: its rows (`edges`, `nodes`) count once per row, its page-wide fields once.
    once = SelectionSetNode(selections=tuple(s for s in field.selection_set.selections if _page_wide(s)))
    rows = SelectionSetNode(selections=tuple(s for s in field.selection_set.selections if not _page_wide(s)))
    return 1 + _selection_cost(walk, target, once) + size * _selection_cost(walk, target, rows)


def _page_wide(selection: Any) -> bool:
    return isinstance(selection, FieldNode) and selection.name.value in PAGE_WIDE_FIELDS


def _page_size(walk: _Walk, field: FieldNode, arguments: dict[str, Any]) -> int | None:
    for name in PAGE_ARGUMENTS:
        if name not in arguments:
            continue
        given = next((a.value for a in field.arguments or () if a.name.value == name), None)
        if isinstance(given, IntValueNode):
            size: Any = int(given.value)
        elif isinstance(given, VariableNode):
            size = walk.variables.get(given.name.value)
        else:
            size = arguments[name].default_value
        if not isinstance(size, int) or isinstance(size, bool):
            size = DEFAULT_PAGE  # absent or ill-typed; execution refuses the latter itself
        return max(0, min(size, MAX_PAGE))
    return None


@dataclass
class Cost:
    requested: int
    # The caller's budget after this operation; None when there is no caller to charge.
    budget: Verdict | None

    def extension(self) -> dict[str, Any]:
        """`extensions.cost` of the answer."""
        settings = get_settings()
        throttle = None
        if self.budget is not None:
            throttle = {
                "maximumAvailable": self.budget.limit,
                "currentlyAvailable": self.budget.remaining,
                "restoreRate": settings.graphql_cost_restore_per_second,
            }
        return {
            "requestedQueryCost": self.requested,
            "maximumAvailable": settings.graphql_max_cost,
            "throttleStatus": throttle,
        }


def refuse_if_too_costly(requested: int) -> None:
    limit = get_settings().graphql_max_cost
    if requested > limit:
        issue = f"costs {requested} points, more than the limit of {limit} per request"
        raise ValidationFailed(
            f"The operation {issue}; ask for smaller pages (`first`) or fewer nested lists.",
            [{"field": "query", "issue": issue}],
        )


async def charge(
    limiter: RateLimiter | None, principal: Principal, requested: int, *, draw: bool = True
) -> Cost:
    """Draw `requested` points from the caller's budget, or refuse (429); with `draw` false, only
    read the budget's level."""
    bucket = bucket_of(principal)
    if limiter is None or bucket is None:
        return Cost(requested, None)
    settings = get_settings()
    verdict = await limiter.hit(
        f"cost:{bucket}",
        rate=settings.graphql_cost_restore_per_second,
        burst=settings.graphql_cost_budget,
        amount=requested if draw else 0,
    )
    if not verdict.allowed:
        error = RateLimited(verdict.retry_after)
        error.message = (
            f"The operation costs {requested} points and {verdict.remaining} of the caller's "
            f"{verdict.limit} are available; they are restored at "
            f"{settings.graphql_cost_restore_per_second:g} per second."
        )
        error.details = {
            "retryAfterSeconds": verdict.retry_after,
            "requestedQueryCost": requested,
            "currentlyAvailable": verdict.remaining,
        }
        raise error
    return Cost(requested, verdict)
