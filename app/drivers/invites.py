"""Driver invites: a single-use code that turns into the driver's mobile user when the app accepts it.

Codes are stored as an HMAC (like API tokens) and shown once, in the invite response. Accepting
happens before any company is known, so the code is looked up through `auth_driver_invite`."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, text
from sqlmodel import col

from app.core import history, throttle
from app.core.clock import utcnow
from app.core.db import UnitOfWork
from app.core.errors import Conflict, Unauthorized, ValidationFailed
from app.core.principal import Principal
from app.core.repository import Repository
from app.core.security import hash_api_token, hash_password
from app.drivers.models import Driver, DriverInvite
from app.drivers.schemas import DriverStatus
from app.drivers.service import driver_service
from app.mobile_users.models import MobileUser
from app.mobile_users.schemas import AcceptInvite, MobileUserStatus, normalise_phone
from app.mobile_users.service import MobileSession, driver_principal, mobile_user_service

INVITE_TTL = dt.timedelta(days=7)
# Crockford-style alphabet without 0/O/1/I/L: read aloud or typed on a phone without mistakes.
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
_CODE_LENGTH = 12  # ~59 bits: unguessable online within the invite's seven days


@dataclass
class IssuedInvite:
    id: object
    driver_id: object
    code: str
    sent_to: str | None
    expires_at: dt.datetime
    created_at: dt.datetime


def _new_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(_CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, _CODE_LENGTH, 4))


def _hash_code(code: str) -> bytes:
    # Dashes, spaces and case are forgiven: the code is typed by hand.
    return hash_api_token(code.replace("-", "").replace(" ", "").upper())


async def invite(uow: UnitOfWork, driver: Driver) -> IssuedInvite:
    """A new single-use invite for an active driver without an app account, replacing any older one."""
    # The row lock serialises two invites of one driver, so exactly one invite survives.
    driver = await driver_service.repo.get_or_404(uow, driver.id, for_update=True)
    if driver.status != DriverStatus.ACTIVE:
        raise Conflict("Only active drivers can be invited.", {"field": "status", "status": driver.status})
    if driver.mobile_user_id is not None:
        raise Conflict(
            "This driver already has a mobile user; delete it first to invite again.",
            {"mobileUserId": str(driver.mobile_user_id)},
        )
    await uow.execute(delete(DriverInvite).where(col(DriverInvite.company_id) == uow.company_id,
                                                col(DriverInvite.driver_id) == driver.id))  # fmt: skip
    code = _new_code()
    now = utcnow()
    record = DriverInvite(
        company_id=uow.company_id,
        driver_id=driver.id,
        code_hash=_hash_code(code),
        sent_to=driver.phone or driver.email,
        expires_at=now + INVITE_TTL,
        created_at=now,
        updated_at=now,
    )
    uow.add(record)
    await uow.flush()
    history.record_change(
        uow, "driver", driver.id, "invited", [{"field": "invite", "from": None, "to": record.sent_to}]
    )
    return IssuedInvite(record.id, driver.id, code, record.sent_to, record.expires_at, record.created_at)


async def accept(uow: UnitOfWork, data: AcceptInvite) -> MobileSession:
    """Create the driver's mobile user from an invite code and sign it in. Unknown, used and
    expired codes answer alike."""
    await throttle.guard("invite", data.code)
    row = (
        await uow.execute(
            text("select id, company_id, driver_id, expires_at from auth_driver_invite(:h)"),
            {"h": _hash_code(data.code)},
        )
    ).first()
    if row is None or row.expires_at <= utcnow():
        raise Unauthorized("The invite code is unknown, used or expired.", {"field": "code"})
    await uow.bind(Principal.system(row.company_id))
    driver = await driver_service.repo.get_or_404(uow, row.driver_id, for_update=True)
    invitation = await Repository(DriverInvite).get(uow, row.id)
    if invitation is None:  # accepted by a concurrent request that got the driver's lock first
        raise Unauthorized("The invite code is unknown, used or expired.", {"field": "code"})
    if driver.status != DriverStatus.ACTIVE or driver.mobile_user_id is not None:
        raise Conflict("This driver can no longer accept an invite.", {"driverId": str(driver.id)})
    uow.principal = driver_principal(row.company_id, driver)
    phone = (
        data.phone if data.phone is not None else (normalise_phone(driver.phone) if driver.phone else None)
    )
    email = data.email if data.email is not None else (driver.email.lower() if driver.email else None)
    if phone is None and email is None:
        raise ValidationFailed.field("phone", "the driver has no phone or email; send one to sign in with")
    await uow.delete(invitation)
    user = MobileUser(
        company_id=row.company_id,
        driver_id=driver.id,
        phone=phone,
        email=email,
        password_hash=await hash_password(data.password),
        status=MobileUserStatus.ACTIVE,
        last_login_at=utcnow(),
    )
    await mobile_user_service.insert(uow, user)
    snapshot = mobile_user_service.snapshot(user)
    history.record_change(uow, "mobile_user", user.id, "created", history.creation(snapshot))
    await driver_service.apply(uow, driver, {"mobile_user_id": user.id})
    return await mobile_user_service.session_for(uow, user)
