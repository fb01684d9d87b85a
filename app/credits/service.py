"""Scheduled-order credits: a ledger of grants, consumptions and refunds with a running balance."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlmodel import col

from app.companies.models import Company
from app.core.db import UnitOfWork
from app.core.errors import InsufficientCredits
from app.credits.models import CreditLedgerEntry

INITIAL_CREDITS = 200


class CreditService:
    async def balance(self, uow: UnitOfWork) -> int:
        return int(
            await uow.scalar(select(col(Company.credits_balance)).where(col(Company.id) == uow.company_id))
            or 0
        )

    async def grant(self, uow: UnitOfWork, amount: int, reason: str) -> int:
        balance = await self._move(uow, amount)
        uow.add(
            CreditLedgerEntry(
                company_id=uow.company_id, kind="grant", amount=amount, balance_after=balance, reason=reason
            )
        )
        return balance

    async def consume(self, uow: UnitOfWork, mission_ids: Sequence[uuid.UUID], reason: str) -> int:
        """Charge one credit per mission, all or nothing. The conditional UPDATE row-locks the
        company, so concurrent charges queue and none can take the balance below zero."""
        required = len(mission_ids)
        if required == 0:
            return await self.balance(uow)
        result = await uow.execute(
            update(Company)
            .where(col(Company.id) == uow.company_id, col(Company.credits_balance) >= required)
            .values(credits_balance=Company.credits_balance - required)
            .returning(col(Company.credits_balance))
        )
        row = result.first()
        if row is None:
            remaining = await self.balance(uow)
            raise InsufficientCredits(
                f"This needs {required} scheduled-order credits and {remaining} remain.",
                {"required": required, "remaining": remaining},
            )
        balance = int(row[0])
        running = balance + required
        for mission_id in mission_ids:
            running -= 1
            uow.add(
                CreditLedgerEntry(
                    company_id=uow.company_id,
                    kind="consume",
                    amount=-1,
                    balance_after=running,
                    reason=reason,
                    mission_id=mission_id,
                )
            )
        return balance

    async def refund(self, uow: UnitOfWork, mission_id: uuid.UUID, reason: str) -> int:
        balance = await self._move(uow, 1)
        uow.add(
            CreditLedgerEntry(
                company_id=uow.company_id,
                kind="refund",
                amount=1,
                balance_after=balance,
                reason=reason,
                mission_id=mission_id,
            )
        )
        return balance

    async def _move(self, uow: UnitOfWork, amount: int) -> int:
        result = await uow.execute(
            update(Company)
            .where(col(Company.id) == uow.company_id)
            .values(credits_balance=Company.credits_balance + amount)
            .returning(col(Company.credits_balance))
        )
        return int(result.scalar_one())

    async def ledger(self, uow: UnitOfWork, limit: int = 100) -> list[CreditLedgerEntry]:
        return await uow.scalars(
            select(CreditLedgerEntry)
            .where(col(CreditLedgerEntry.company_id) == uow.company_id)
            .order_by(col(CreditLedgerEntry.created_at).desc(), col(CreditLedgerEntry.id).desc())
            .limit(limit)
        )


credit_service = CreditService()
