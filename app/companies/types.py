from __future__ import annotations

import datetime as dt
import uuid

import strawberry

from app.companies.service import company_service
from app.core.principal import Scope
from app.credits.service import credit_service
from app.graphql.context import Info
from app.graphql.mutations import query


@strawberry.type
class Company:
    id: uuid.UUID
    name: str
    credits_remaining: int


@strawberry.type
class CreditLedgerEntry:
    id: uuid.UUID
    kind: str
    amount: int
    balance_after: int
    reason: str
    mission_id: uuid.UUID | None
    created_at: dt.datetime


@strawberry.type
class Viewer:
    """Who is calling: a web user or an API token, and the scopes it holds."""

    actor_type: str
    actor_id: uuid.UUID | None
    name: str
    role: str | None
    token_preset: str | None
    scopes: list[str]

    @strawberry.field
    async def company(self, info: Info) -> Company:
        record = await company_service.current(info.context.uow)
        return Company(id=record.id, name=record.name, credits_remaining=record.credits_balance)


@strawberry.type
class CompanyQueries:
    @query()
    async def me(self, info: Info) -> Viewer:
        p = info.context.principal
        return Viewer(
            actor_type=p.actor_type.value,
            actor_id=p.actor_id,
            name=p.actor_name,
            role=p.role,
            token_preset=p.token_preset.value if p.token_preset else None,
            scopes=sorted(s.value for s in p.scopes),
        )

    @query(Scope.ADMIN, description="The scheduled-order credit ledger, newest first.")
    async def credit_ledger(self, info: Info, first: int = 100) -> list[CreditLedgerEntry]:
        rows = await credit_service.ledger(info.context.uow, min(max(first, 1), 500))
        return [
            CreditLedgerEntry(
                id=r.id, kind=r.kind, amount=r.amount, balance_after=r.balance_after, reason=r.reason,
                mission_id=r.mission_id, created_at=r.created_at,
            )
            for r in rows
        ]  # fmt: skip
