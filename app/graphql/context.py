from __future__ import annotations

from dataclasses import dataclass, field

from strawberry.types import Info as _Info

from app.core.db import UnitOfWork
from app.core.principal import Principal
from app.graphql.loaders import Loaders


@dataclass
class Context:
    uow: UnitOfWork
    principal: Principal
    request_id: str
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.uow)


Info = _Info[Context, None]
