from __future__ import annotations

import uuid

from app.core.schemas import OutModel


class CompanyOut(OutModel):
    id: uuid.UUID
    name: str
    credits_remaining: int


class UserOut(OutModel):
    id: uuid.UUID
    email: str
    name: str
    role: str
