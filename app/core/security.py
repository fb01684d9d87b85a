"""Token material, password hashing and session signing. Raw secrets never leave this module's callers
except in the one-time reveal of a created token."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING, Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet

from app.core import clock
from app.settings import get_settings

if TYPE_CHECKING:
    from jwt.types import Options

_hasher = PasswordHasher()
# A valid hash to verify against when the email is unknown, so both paths cost the same.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
_BY_OUR_CLOCK: Options = {"require": ["exp"], "verify_exp": False, "verify_iat": False, "verify_nbf": False}


def new_api_token() -> str:
    # 32 random bytes = 256 bits, above the contract's 192-bit floor.
    return get_settings().token_prefix + secrets.token_urlsafe(32)


def hash_api_token(raw: str) -> bytes:
    return hmac.new(get_settings().secret("token_hash_secret"), raw.encode(), hashlib.sha256).digest()


async def hash_password(password: str) -> str:
    # Argon2 is built to be slow (tens of milliseconds of CPU): in a thread, where the C code runs
    # without the interpreter lock, never on the event loop that serves everyone else.
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    return await asyncio.to_thread(_verify, password_hash, password)


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def sign_session(claims: dict[str, Any], ttl_seconds: int) -> tuple[str, dt.datetime]:
    now = clock.utcnow()
    expires_at = now.replace(microsecond=0) + dt.timedelta(seconds=ttl_seconds)
    payload = {**claims, "exp": expires_at, "iat": now}
    token = jwt.encode(payload, get_settings().secret("session_secret"), algorithm="HS256")
    return token, expires_at


def read_session(token: str) -> dict[str, Any] | None:
    # Expiry is checked against the application's clock, not PyJWT's reading of the machine's.
    try:
        claims: dict[str, Any] = jwt.decode(
            token, get_settings().secret("session_secret"), algorithms=["HS256"], options=_BY_OUR_CLOCK
        )
    except jwt.PyJWTError:
        return None
    expires = claims.get("exp")
    if not isinstance(expires, int | float) or expires <= clock.timestamp():
        return None
    return claims


def _fernet() -> Fernet:
    # A key of its own, derived from the deployment's webhook signing secret, for data at rest
    # that must be readable again (webhook secrets, stored idempotent answers that reveal one).
    key = hashlib.sha256(b"at-rest:" + get_settings().secret("webhook_signing_secret")).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(plain: bytes) -> bytes:
    return _fernet().encrypt(plain)


def unseal(sealed: bytes) -> bytes:
    return _fernet().decrypt(sealed)


def constant_time_equals(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
