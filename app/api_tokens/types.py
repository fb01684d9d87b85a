from __future__ import annotations

import uuid
from typing import Any

import strawberry
from strawberry.experimental.pydantic import type as pydantic_type

from app.api_tokens.schemas import ApiTokenCreate, ApiTokenCreatedOut, ApiTokenOut
from app.api_tokens.service import api_token_service
from app.core.db import UnitOfWork
from app.core.principal import Scope
from app.core.schemas import ListQuery
from app.graphql.context import Info
from app.graphql.inputs import input_type, to_model
from app.graphql.mutations import Deleted, mutation, query
from app.graphql.nodes import Node, register_node
from app.graphql.records import converter
from app.graphql.relay import Connection, connection


@pydantic_type(model=ApiTokenOut, all_fields=True)
class ApiToken(Node):
    id: strawberry.ID  # the record's UUID, unique across every type


def as_api_token(record: object) -> ApiToken:
    return converter(ApiTokenOut)(record)


@pydantic_type(
    model=ApiTokenCreatedOut, all_fields=True, description="A new token; `token` is shown only here."
)
class CreatedApiToken:
    pass


CreateApiTokenInput = input_type(ApiTokenCreate, "CreateApiTokenInput")


@strawberry.type
class ApiTokenQueries:
    @query(Scope.ADMIN)
    async def api_tokens(self, info: Info, first: int = 50, after: str | None = None) -> Connection[ApiToken]:
        params = ListQuery.model_construct(limit=first, cursor=after, updated_since=None, external_id=None)
        return connection(await api_token_service.list(info.context.uow, params), as_api_token, after=after)


@strawberry.type
class ApiTokenMutations:
    @mutation(Scope.ADMIN)
    async def create_api_token(self, info: Info, input: CreateApiTokenInput) -> CreatedApiToken:  # type: ignore[valid-type]
        created = await api_token_service.create(info.context.uow, to_model(ApiTokenCreate, input))
        out = ApiTokenCreatedOut.model_validate(
            {**ApiTokenOut.model_validate(created.record).model_dump(), "token": created.token}
        )
        return CreatedApiToken.from_pydantic(out)

    @mutation(Scope.ADMIN)
    async def delete_api_token(self, info: Info, id: uuid.UUID) -> Deleted:
        uow = info.context.uow
        await api_token_service.delete(uow, await api_token_service.get(uow, id))
        return Deleted(id=strawberry.ID(str(id)))


async def _api_token_node(uow: UnitOfWork, record_id: uuid.UUID) -> Any:
    return as_api_token(await api_token_service.get(uow, record_id))


register_node("api_token", Scope.ADMIN, _api_token_node)
