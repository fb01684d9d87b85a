"""Who is calling: API tokens (integrators) and signed sessions (web panel users).

Token lookup runs before the company is known, so it goes through the SECURITY DEFINER function
`auth_api_token`, which also binds `app.company_id` for the rest of the transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlmodel import col

from app.auth.schemas import LoginInput
from app.companies.models import WebUser
from app.companies.service import company_service
from app.core import throttle
from app.core.clock import utcnow
from app.core.db import UnitOfWork
from app.core.errors import Unauthorized
from app.core.principal import PRESET_SCOPES, ROLE_SCOPES, ActorType, Preset, Principal, Source
from app.core.security import hash_api_token, read_session, sign_session, verify_password
from app.settings import get_settings

API_TOKEN_PREFIXES = ("rpt_test_", "rpt_live_")


@dataclass
class Session:
    access_token: str
    expires_at: object
    user: WebUser


class AuthService:
    async def authenticate(self, uow: UnitOfWork, authorization: str | None) -> Principal:
        """Resolve the bearer credential and bind its company to the unit of work (401 otherwise)."""
        if not authorization:
            raise Unauthorized("Send Authorization: Bearer <token>.")
        scheme, _, credential = authorization.partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            raise Unauthorized("The Authorization header must be 'Bearer <token>'.")
        if credential.startswith(API_TOKEN_PREFIXES):
            principal = await self._api_token(uow, credential)
        else:
            principal = await self._session(uow, credential)
        return principal

    async def _api_token(self, uow: UnitOfWork, raw: str) -> Principal:
        # Every integration request starts here, so it skips SQLAlchemy's statement machinery.
        connection = await uow.driver_connection()
        row = await connection.fetchrow(
            "select id, company_id, name, preset, prefix, expires_at from auth_api_token($1, $2)",
            hash_api_token(raw),
            utcnow(),
        )
        if row is None:
            raise Unauthorized("The token is unknown, revoked or expired.")
        preset = Preset(row["preset"])
        principal = Principal(
            company_id=row["company_id"],
            actor_type=ActorType.TOKEN,
            actor_id=row["id"],
            actor_name=row["name"],
            scopes=PRESET_SCOPES[preset],
            token_id=row["id"],
            token_preset=preset,
        )
        # auth_api_token already set app.company_id for this transaction.
        uow.principal = principal
        return principal

    async def _session(self, uow: UnitOfWork, token: str) -> Principal:
        claims = read_session(token)
        if claims and claims.get("typ") == "mobile":
            return await self._mobile_session(uow, claims)
        if not claims or claims.get("typ") != "web":
            raise Unauthorized("The session is invalid or has expired.")
        company_id = uuid.UUID(claims["cid"])
        await uow.bind(Principal.system(company_id))
        user = await company_service.user(uow, uuid.UUID(claims["sub"]))
        # The user row is read on every request so a removed user or changed role applies at once.
        if user is None:
            raise Unauthorized("The session's user no longer exists.")
        principal = Principal(
            company_id=company_id,
            actor_type=ActorType.USER,
            actor_id=user.id,
            actor_name=user.name or user.email,
            scopes=ROLE_SCOPES.get(user.role, frozenset()),
            user_id=user.id,
            role=user.role,
        )
        uow.principal = principal
        return principal

    async def _mobile_session(self, uow: UnitOfWork, claims: dict[str, Any]) -> Principal:
        """The driver app's session. The mobile user is read on every request, so disabling or
        deleting it ends its sessions at once; the driver acts as itself, through the `mobile` source."""
        from app.drivers.models import Driver
        from app.mobile_users.models import MobileUser
        from app.mobile_users.service import driver_principal

        company_id = uuid.UUID(claims["cid"])
        await uow.bind(Principal.system(company_id))
        user = await uow.scalar(
            select(MobileUser).where(
                col(MobileUser.company_id) == company_id, col(MobileUser.id) == uuid.UUID(claims["sub"])
            )
        )
        if user is None or user.status != "active":
            raise Unauthorized("The app session has ended: the account is disabled or deleted.")
        driver = await uow.scalar(
            select(Driver).where(col(Driver.company_id) == company_id, Driver.id == user.driver_id)
        )
        if driver is None:
            raise Unauthorized("The app session has ended: the driver no longer exists.")
        principal = driver_principal(company_id, driver)
        uow.principal = principal
        uow.source = Source.MOBILE
        return principal

    async def login(self, uow: UnitOfWork, data: LoginInput) -> Session:
        await throttle.guard("login", data.email)
        row = (
            await uow.execute(
                text("select id, company_id, password_hash from auth_web_user(:email)"),
                {"email": data.email.lower()},
            )
        ).first()
        if not await verify_password(row.password_hash if row else None, data.password) or row is None:
            raise Unauthorized("Email or password is wrong.")
        await uow.bind(Principal.system(row.company_id))
        user = await company_service.user(uow, row.id)
        assert user is not None
        token, expires_at = sign_session(
            {"sub": str(user.id), "cid": str(user.company_id), "role": user.role, "typ": "web"},
            get_settings().session_ttl_seconds,
        )
        return Session(access_token=token, expires_at=expires_at, user=user)


auth_service = AuthService()
