"""What makes a repeated document cheap: it is parsed and validated once, and fields that only read
an attribute are resolved by reading it, without strawberry's per-field machinery."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import GraphQLObjectType, GraphQLSchema
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.extensions.max_aliases import create_validator as alias_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule
from strawberry.schema.schema_converter import GraphQLCoreConverter

# Documents longer than this are parsed and validated every time: the caches hold few large ones
# (a panel's and an analyst's documents are a few kilobytes; imports go through REST).
CACHED_DOCUMENT_MAX_CHARS = 20_000
CACHED_DOCUMENTS = 512


def limit_rules(max_depth: int, max_aliases: int) -> list[Any]:
    """The depth and alias rules, made once: the validation cache is keyed by the rule classes, so
    rules made per request (as strawberry's limiter extensions do) would never meet it again."""
    return [depth_rule(max_depth, None), alias_rule(max_aliases)]


class SmallDocumentParserCache(ParserCache):
    def __init__(self) -> None:
        super().__init__(maxsize=CACHED_DOCUMENTS)

    def on_parse(self) -> Iterator[None]:
        if len(self.execution_context.query or "") > CACHED_DOCUMENT_MAX_CHARS:
            yield  # parsed as usual, not kept
            return
        yield from super().on_parse()


class SmallDocumentValidationCache(ValidationCache):
    def __init__(self) -> None:
        super().__init__(maxsize=CACHED_DOCUMENTS)

    def on_validate(self) -> Iterator[None]:
        if len(self.execution_context.query or "") > CACHED_DOCUMENT_MAX_CHARS:
            yield
            return
        yield from super().on_validate()


def read_attributes_directly(schema: GraphQLSchema) -> int:
    """Give every field without a resolver, extension or permission a resolver that reads the
    source's attribute: one call per field instead of strawberry's three. How many it changed."""
    changed = 0
    for graphql_type in schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType) or graphql_type.name.startswith("__"):
            continue
        for field in graphql_type.fields.values():
            definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            if definition is None or definition.base_resolver is not None or definition.extensions:
                continue
            if definition.permission_classes or not getattr(field.resolve, "_is_default", False):
                continue
            field.resolve = _attribute_reader(definition.python_name)
            changed += 1
    return changed


def _attribute_reader(name: str) -> Any:
    def read(source: Any, info: Any) -> Any:
        return getattr(source, name, None)

    return read
