"""Mobile users: the driver app's accounts. Disabling one locks the driver out at once, because
every mobile session re-reads its user (app/auth/service.py)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from app.core import throttle
from app.core.clock import utcnow
from app.core.db import UnitOfWork
from app.core.errors import Conflict, Unauthorized, ValidationFailed
from app.core.principal import ActorType, Principal, Scope, own_driver_id
from app.core.schemas import ListQuery
from app.core.security import sign_session, verify_password
from app.core.service import ResourceService
from app.drivers.models import Driver
from app.drivers.service import driver_service, full_name
from app.mobile_users.models import MobileUser
from app.mobile_users.schemas import MobileUserOut, MobileUserQuery, MobileUserStatus, SignIn

# Long-lived: the app stays signed in on the driver's phone; disabling or deleting the account
# still ends every session on its next request.
MOBILE_SESSION_TTL_SECONDS = 30 * 24 * 3600
# Not `read`: a driver's phone sees its own profile, routes and missions, never the company's records.
DRIVER_SCOPES = frozenset({Scope.DRIVER})


@dataclass
class MobileSession:
    access_token: str
    expires_at: dt.datetime
    mobile_user: MobileUser


def driver_principal(company_id: uuid.UUID, driver: Driver) -> Principal:
    return Principal(
        company_id=company_id,
        actor_type=ActorType.DRIVER,
        actor_id=driver.id,
        actor_name=full_name(driver),
        scopes=DRIVER_SCOPES,
    )


class MobileUserService(ResourceService[MobileUser]):
    model = MobileUser
    out = MobileUserOut
    resource_type = "mobile_user"

    def filters(self, query: ListQuery) -> list[Any]:
        assert isinstance(query, MobileUserQuery)
        clauses = []
        if query.driver_id:
            clauses.append(MobileUser.driver_id == query.driver_id)
        if query.status:
            clauses.append(MobileUser.status == query.status.value)
        return clauses

    async def check_update(self, uow: UnitOfWork, record: MobileUser, changes: dict[str, Any]) -> None:
        if changes.get("phone", record.phone) is None and changes.get("email", record.email) is None:
            raise ValidationFailed.field("phone", "a mobile user needs a phone or an email to sign in with")

    async def write_unique(self, uow: UnitOfWork, record: MobileUser, mutate: Callable[[], None]) -> None:
        """Phone and email are logins across the platform, so a clash may be with another
        company's account: the 409 names the field only, never the other account."""
        try:
            await super().write_unique(uow, record, mutate)
        except IntegrityError as exc:
            message = str(exc.orig)
            for field in ("email", "phone"):
                if f"uq_mobile_user_{field}" in message:
                    raise Conflict(
                        f"This {field} is already used by another mobile user.", {"field": field}
                    ) from None
            raise

    async def set_status(self, uow: UnitOfWork, record: MobileUser, status: MobileUserStatus) -> MobileUser:
        """Idempotent by nature: asking for the current status changes nothing and records nothing."""
        action = "disabled" if status == MobileUserStatus.DISABLED else "enabled"
        return await self.apply(uow, record, {"status": status}, action=action)

    async def delete(self, uow: UnitOfWork, record: MobileUser) -> None:
        """Deleting the account unlinks its driver, who may then be invited again."""
        driver = await driver_service.repo.get(uow, record.driver_id, for_update=True)
        await super().delete(uow, record)
        if driver is not None and driver.mobile_user_id == record.id:
            await driver_service.apply(uow, driver, {"mobile_user_id": None})

    # --- the driver app ------------------------------------------------------------------------
    async def session_for(self, uow: UnitOfWork, user: MobileUser) -> MobileSession:
        token, expires_at = sign_session(
            {"sub": str(user.id), "cid": str(user.company_id), "typ": "mobile"}, MOBILE_SESSION_TTL_SECONDS
        )
        return MobileSession(access_token=token, expires_at=expires_at, mobile_user=user)

    async def sign_in(self, uow: UnitOfWork, data: SignIn) -> MobileSession:
        """Before any company is known: the SECURITY DEFINER lookup finds the account by login.
        Wrong login and wrong password answer alike; only the right password learns it is disabled."""
        login = data.email if data.email is not None else data.phone
        await throttle.guard("mobile_sign_in", str(login))
        row = (
            await uow.execute(
                text("select id, company_id, password_hash, status from auth_mobile_user(:login)"),
                {"login": login},
            )
        ).first()
        if not await verify_password(row.password_hash if row else None, data.password) or row is None:
            raise Unauthorized("Phone/email or password is wrong.")
        if row.status != MobileUserStatus.ACTIVE:
            raise Unauthorized("This account is disabled; ask your dispatcher.", {"reason": "disabled"})
        await uow.bind(Principal.system(row.company_id))
        user = await self.repo.get_or_404(uow, row.id)
        driver = await driver_service.repo.get_or_404(uow, user.driver_id)
        uow.principal = driver_principal(row.company_id, driver)
        user.last_login_at = utcnow()
        await uow.flush()
        return await self.session_for(uow, user)

    async def current(self, uow: UnitOfWork) -> MobileUser:
        """The mobile user behind the calling driver session (403 for any other credential)."""
        driver_id = own_driver_id(uow.principal)
        user = await uow.scalar(self.repo.base(uow).where(col(MobileUser.driver_id) == driver_id))
        if user is None:
            raise Unauthorized("The session's mobile user no longer exists.")
        return user  # type: ignore[no-any-return]

    async def driver_profile(self, uow: UnitOfWork) -> Driver:
        """The driver the calling driver session acts as (403 for any other credential)."""
        return await driver_service.repo.get_or_404(uow, own_driver_id(uow.principal))


mobile_user_service = MobileUserService()
