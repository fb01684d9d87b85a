"""Standard GraphQL fields of a resource, generated from its service and models the way REST rows
are declared: `<things>(first, after, filters...)`, `<thing>(id)`, and create/update/delete.

List arguments come from the resource's REST query model, so both surfaces filter alike."""

from __future__ import annotations

import inspect
import typing
import uuid
from collections.abc import Callable
from typing import Any

import strawberry
from pydantic import BaseModel

from app.core.principal import Scope
from app.core.schemas import ListQuery
from app.graphql.context import Info
from app.graphql.inputs import input_type, plain_annotation, to_model
from app.graphql.loaders import Neighbour, prefetch
from app.graphql.mutations import Deleted, mutation, query
from app.graphql.nodes import register_node
from app.graphql.relay import Connection, connection, page_query

_PAGING = {"limit": "first", "cursor": "after"}


def dynamic_field(
    resolver: Callable[..., Any], params: list[inspect.Parameter], returns: Any, kind: Any
) -> Any:
    """A strawberry field whose arguments are built at run time (names and types from models)."""
    signature = [
        inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        inspect.Parameter("info", inspect.Parameter.KEYWORD_ONLY, annotation=Info),
        *params,
    ]
    resolver.__signature__ = inspect.Signature(signature, return_annotation=returns)  # type: ignore[attr-defined]
    resolver.__annotations__ = {p.name: p.annotation for p in signature[1:]} | {"return": returns}
    return kind(resolver)


def argument(name: str, annotation: Any, default: Any = inspect.Parameter.empty) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)


def resource_queries(
    *, name: str, plural: str, gql_type: Any, convert: Callable[[Any], Any], service: Any,
    query_model: type[ListQuery], neighbours: dict[str, Neighbour] | None = None,
) -> type:  # fmt: skip
    """`neighbours`: the type's fields that read another record, loaded for a whole list page at
    once when the document asks for them."""
    list_params = []
    fields = query_model.model_fields
    # Paging and the common filters first, then the resource's own, whatever the model's bases.
    for field_name in sorted(fields, key=lambda name: name not in ListQuery.model_fields):
        info = fields[field_name]
        arg = _PAGING.get(field_name, field_name)
        if arg == "first":
            list_params.append(argument("first", int, 50))
        else:
            list_params.append(argument(arg, typing.Optional[plain_annotation(info.annotation)], None))  # noqa: UP045

    async def list_records(
        self: Any, info: Info, first: int = 50, after: str | None = None, **filters: Any
    ) -> Any:
        uow = info.context.uow
        params = page_query(query_model, first=first, after=after, **filters)
        page = await service.list(uow, params)
        if neighbours:
            await prefetch(info, page.items, neighbours)
        return connection(page, convert, after=after, count=lambda: service.count(uow, params))

    async def get_record(self: Any, info: Info, id: uuid.UUID) -> Any:
        return convert(await service.get(info.context.uow, id))

    async def fetch(uow: Any, record_id: uuid.UUID) -> Any:
        return convert(await service.get(uow, record_id))

    register_node(service.repo.model.__tablename__, Scope.READ, fetch)

    return strawberry.type(
        type(
            f"{gql_type.__name__}Queries",
            (),
            {
                plural: dynamic_field(list_records, list_params, Connection[gql_type], query()),  # type: ignore[valid-type]
                name: dynamic_field(get_record, [argument("id", uuid.UUID)], gql_type, query()),
            },
        )
    )


def resource_mutations(
    *, name: str, gql_type: Any, convert: Callable[[Any], Any], service: Any,
    create: type[BaseModel], update: type[BaseModel], extra: type | None = None,
) -> type:  # fmt: skip
    """`extra`: a strawberry type with the resource's other mutations, merged in."""
    noun = gql_type.__name__
    create_input = input_type(create, f"Create{noun}Input")
    update_input = input_type(update, f"Update{noun}Input", partial=True)

    async def create_record(self: Any, info: Info, input: Any) -> Any:
        return convert(await service.create(info.context.uow, to_model(create, input)))

    async def update_record(self: Any, info: Info, id: uuid.UUID, input: Any) -> Any:
        uow = info.context.uow
        record = await service.get(uow, id)
        return convert(await service.update(uow, record, to_model(update, input)))

    async def delete_record(self: Any, info: Info, id: uuid.UUID) -> Deleted:
        uow = info.context.uow
        await service.delete(uow, await service.get(uow, id))
        return Deleted(id=strawberry.ID(str(id)))

    return strawberry.type(
        type(
            f"{noun}Mutations",
            (extra,) if extra else (),
            {
                f"create_{name}": dynamic_field(
                    create_record, [argument("input", create_input)], gql_type, mutation()
                ),
                f"update_{name}": dynamic_field(
                    update_record,
                    [argument("id", uuid.UUID), argument("input", update_input)],
                    gql_type,
                    mutation(),
                ),
                f"delete_{name}": dynamic_field(
                    delete_record, [argument("id", uuid.UUID)], Deleted, mutation()
                ),
            },
        )
    )
