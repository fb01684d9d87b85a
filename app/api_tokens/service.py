"""API tokens: created by company admins, shown once, stored as a keyed hash, revoked by deletion."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from app.api_tokens.models import ApiToken
from app.api_tokens.schemas import ApiTokenCreate
from app.companies.service import company_service
from app.core.db import UnitOfWork
from app.core.errors import NotFound
from app.core.pagination import Page
from app.core.repository import Repository
from app.core.schemas import ListQuery
from app.core.security import hash_api_token, new_api_token
from app.settings import get_settings


@dataclass
class CreatedToken:
    record: ApiToken
    token: str

    def __getattr__(self, name: str) -> Any:
        return getattr(self.record, name)


class ApiTokenService:
    def __init__(self) -> None:
        self.repo = Repository(ApiToken)

    async def create(self, uow: UnitOfWork, data: ApiTokenCreate) -> CreatedToken:
        raw = new_api_token()
        record = ApiToken(
            company_id=uow.company_id,
            name=data.name,
            preset=data.preset.value,
            prefix=raw[:12],
            token_hash=hash_api_token(raw),
            created_by_user_id=uow.principal.user_id,
            expires_at=data.expires_at,
        )
        uow.add(record)
        await uow.flush()
        return CreatedToken(record=record, token=raw)

    async def list(self, uow: UnitOfWork, query: ListQuery) -> Page[ApiToken]:
        return await self.repo.page(uow, query)

    async def get(self, uow: UnitOfWork, token_id: Any) -> ApiToken:
        return await self.repo.get_or_404(uow, token_id)

    async def delete(self, uow: UnitOfWork, record: ApiToken) -> None:
        # Deleting the row is the revocation: authentication looks the hash up on every request.
        await uow.delete(record)

    async def me(self, uow: UnitOfWork) -> dict[str, Any]:
        """The calling token and its company, as `GET /api/v1/me` shows them."""
        token = await uow.scalar(select(ApiToken).where(col(ApiToken.id) == uow.principal.token_id))
        company = await company_service.current(uow)
        if token is None:
            raise NotFound("No such API token.")
        return {
            "token": {
                "id": token.id,
                "name": token.name,
                "preset": token.preset,
                "prefix": token.prefix,
                "environment": environment(),
                "expiresAt": token.expires_at,
            },
            "company": {"id": company.id, "name": company.name, "creditsRemaining": company.credits_balance},
        }


def environment() -> str:
    return "live" if get_settings().is_production else "test"


api_token_service = ApiTokenService()
