from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from strawberry.types import Info as _Info

from app.core.db import UnitOfWork
from app.core.errors import DomainError
from app.core.principal import ANONYMOUS, Principal
from app.graphql.loaders import Loaders


@dataclass
class Context:
    uow: UnitOfWork
    principal: Principal
    request_id: str
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.uow)


@dataclass
class SubscriptionContext:
    """What a subscription's resolver gets over WebSocket (app/graphql/subscriptions.py)."""

    request: Any
    response: Any
    connection_params: dict[str, Any] | None = None
    principal: Principal = ANONYMOUS
    credential: str | None = None  # checked again by each subscription as it runs
    request_id: str = ""

    @property
    def uow(self) -> Any:
        # Only subscriptions hold their own short transactions; the rest needs the HTTP endpoint's.
        raise DomainError(
            "Queries and mutations are served over HTTP (POST /graphql); WebSocket carries subscriptions."
        )


Info = _Info[Context, None]
SubscriptionInfo = _Info[SubscriptionContext, None]
