"""Parsed and validated documents, kept by their text: the panel sends the same few documents all
day, and parsing and validating one costs more than running a small list query.

Both caches are bounded (entries, and the size of a document worth keeping), so callers sending
ever-new documents only evict each other. A document is immutable once parsed, and validation
depends only on the document and the schema, so sharing either across requests is safe."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, parse
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

CACHED_DOCUMENTS = 512
# The panel's largest documents are a few KiB; a bigger one is parsed for each request that sends it.
MAX_CACHED_CHARS = 32 * 1024


def parsed(query: str, max_tokens: int) -> DocumentNode:
    """The document of `query`, bounded to `max_tokens` (GraphQLError when it does not parse)."""
    if len(query) > MAX_CACHED_CHARS:
        return parse(query, max_tokens=max_tokens)
    return _parse(query, max_tokens)


@lru_cache(maxsize=CACHED_DOCUMENTS)
def _parse(query: str, max_tokens: int) -> DocumentNode:
    return parse(query, max_tokens=max_tokens)


def validation_errors(
    schema: GraphQLSchema, query: str, max_tokens: int, rules: tuple[type[ASTValidationRule], ...]
) -> list[GraphQLError]:
    """What is wrong with the document of `query` against `schema` (none when it may run); call it
    once `parsed(query, max_tokens)` has succeeded."""
    if len(query) > MAX_CACHED_CHARS:
        return validate_document(schema, parse(query, max_tokens=max_tokens), rules)
    return list(_validate(schema, query, max_tokens, rules))


@lru_cache(maxsize=CACHED_DOCUMENTS)
def _validate(
    schema: GraphQLSchema, query: str, max_tokens: int, rules: tuple[type[ASTValidationRule], ...]
) -> tuple[GraphQLError, ...]:
    return tuple(validate_document(schema, _parse(query, max_tokens), rules))


class CachedDocuments(SchemaExtension):
    """Hands each operation the cached parse and validation of its document (`rules`, the
    standard ones and the depth and alias limits, are checked once per document, not per request)."""

    def __init__(self, max_tokens: int, rules: tuple[type[ASTValidationRule], ...]) -> None:
        self.max_tokens = max_tokens
        self.rules = rules

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query is not None and context.graphql_document is None:
            try:
                context.graphql_document = parsed(context.query, self.max_tokens)
            except GraphQLError:
                pass  # strawberry parses it again and answers the error, with its locations
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.query is not None and context.graphql_document is not None:
            context.pre_execution_errors = validation_errors(
                context.schema._schema, context.query, self.max_tokens, self.rules
            )
        yield
