"""Counts GraphQL operations by name and type (app/core/metrics.py), as a schema extension so that
every way in (HTTP and WebSocket subscriptions) is counted alike."""

from __future__ import annotations

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

from app.core import metrics


class OperationMetrics(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context
        try:
            kind = context.operation_type.value
            name = context.operation_name
        except RuntimeError:  # the document did not parse, or names no such operation
            kind, name = "unknown", "unknown"
        else:
            name = metrics.operation_names(name) if name else "anonymous"
        failed = bool(context.pre_execution_errors) or bool(context.result and context.result.errors)
        metrics.GRAPHQL_OPERATIONS.labels(name, kind, "error" if failed else "ok").inc()
