"""Tenants and their web users."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlmodel import col

from app.companies.models import Company, WebUser
from app.core.db import UnitOfWork
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.principal import Principal
from app.core.security import hash_password
from app.credits.service import INITIAL_CREDITS, credit_service

ROLES = ("admin", "dispatcher", "viewer")


@dataclass
class CreatedCompany:
    company: Company
    admin: WebUser


class CompanyService:
    async def create(
        self,
        uow: UnitOfWork,
        *,
        name: str,
        admin_email: str,
        admin_password: str,
        credits: int = INITIAL_CREDITS,
    ) -> CreatedCompany:
        """A new tenant with its first admin and its opening credit grant (200 by default)."""
        if not name.strip():
            raise ValidationFailed.field("name", "may not be empty")
        if credits < 0:
            raise ValidationFailed.field("credits", "may not be negative")
        company = Company(name=name.strip())
        # Bound before the first write: the policies bind every role but a superuser, the owner
        # included, and admit only the bound company's rows, the new company's own among them.
        await uow.bind(Principal.system(company.id))
        uow.add(company)
        await uow.flush()
        admin = await self.add_user(uow, email=admin_email, password=admin_password, role="admin")
        await credit_service.grant(uow, credits, "opening grant")
        return CreatedCompany(company=company, admin=admin)

    async def add_user(
        self, uow: UnitOfWork, *, email: str, password: str, role: str, name: str = ""
    ) -> WebUser:
        email = email.strip().lower()
        if "@" not in email:
            raise ValidationFailed.field("email", "must be an email address")
        if len(password) < 8:
            raise ValidationFailed.field("password", "must be at least 8 characters")
        if role not in ROLES:
            raise ValidationFailed.field("role", f"must be one of {', '.join(ROLES)}")
        taken = await uow.scalar(select(func.auth_email_taken(email)))
        if taken:
            raise Conflict("A user with this email already exists.", {"field": "email"})
        user = WebUser(
            company_id=uow.company_id,
            email=email,
            name=name,
            password_hash=await hash_password(password),
            role=role,
        )
        uow.add(user)
        await uow.flush()
        return user

    async def current(self, uow: UnitOfWork) -> Company:
        company = await uow.scalar(select(Company).where(col(Company.id) == uow.company_id))
        if company is None:
            raise NotFound("No such company.")
        return company

    async def user(self, uow: UnitOfWork, user_id: uuid.UUID) -> WebUser | None:
        return await uow.scalar(
            select(WebUser).where(col(WebUser.company_id) == uow.company_id, col(WebUser.id) == user_id)
        )


company_service = CompanyService()
