from __future__ import annotations

import uuid

from sqlmodel import Field

from app.core.models import TenantColumns


class CreditLedgerEntry(TenantColumns, table=True):
    __tablename__ = "credit_ledger"

    kind: str = Field(max_length=16)  # grant | consume | refund
    amount: int  # positive for grant/refund, negative for consume
    balance_after: int
    reason: str = Field(max_length=200)
    mission_id: uuid.UUID | None = Field(default=None, index=True)
