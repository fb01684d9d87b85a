"""GraphQL subscriptions over WebSocket at /graphql (the graphql-transport-ws protocol). The credential
travels in the `connection_init` payload (`{"Authorization": "Bearer <token or session>"}`) and is
checked once, before anything is acknowledged; each subscription then reads the database in short
transactions of its own under that credential's company."""

from __future__ import annotations

import datetime as dt
from typing import Any

from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET, UnsetType

from app.auth.service import auth_service
from app.core.db import unit_of_work
from app.core.errors import DomainError
from app.core.principal import ANONYMOUS, Source
from app.graphql.context import SubscriptionContext
from app.graphql.schema import schema

# Each subscription polls the database while it lasts: one connection may not multiply that load.
MAX_SUBSCRIPTIONS_PER_CONNECTION = 10


class GraphQLSubscriptions(GraphQL[SubscriptionContext, None]):
    def __init__(self) -> None:
        super().__init__(
            schema,
            graphql_ide=None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            keep_alive=True,
            keep_alive_interval=15,
            connection_init_wait_timeout=dt.timedelta(seconds=10),
            max_subscriptions_per_connection=MAX_SUBSCRIPTIONS_PER_CONNECTION,
        )

    async def get_context(self, request: Any, response: Any) -> SubscriptionContext:  # type: ignore[override]
        return SubscriptionContext(request=request, response=response)

    async def on_ws_connect(self, context: SubscriptionContext) -> UnsetType | dict[str, object] | None:  # type: ignore[override]
        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        credential = params.get("Authorization") or params.get("authorization")
        try:
            async with unit_of_work(ANONYMOUS, Source.GRAPHQL) as uow:
                context.principal = await auth_service.authenticate(uow, credential)
            context.credential = credential
        except DomainError as error:
            raise ConnectionRejectionError({"code": error.code, "message": error.message}) from None
        return UNSET
