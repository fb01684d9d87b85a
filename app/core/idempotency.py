"""Idempotency-Key handling shared by REST and GraphQL mutations.

The key is claimed with a transaction-scoped advisory lock, and the response is stored in the same
transaction as the change it describes. So a stored response always matches committed work, a
request that fails with a 5xx (rolled back) stores nothing, and a second request arriving while the
first still runs cannot take the lock and gets `idempotency_key_in_use` instead of a second run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, DateTime, LargeBinary, PrimaryKeyConstraint, func, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel, col

from app.core import jsonutil, metrics
from app.core.clock import utcnow
from app.core.db import UnitOfWork
from app.core.errors import IdempotencyKeyInUse, IdempotencyKeyReused, ValidationFailed
from app.core.security import seal, unseal

# Printable ASCII; HTTP drops a header value's surrounding spaces, so a key has none.
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]([\x20-\x7e]{0,253}[\x21-\x7e])?$"
_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)
# Response headers worth replaying; the rest (request id, rate limits) describe the new request.
REPLAYED_HEADERS = ("content-type", "location")


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_key"
    __table_args__ = (PrimaryKeyConstraint("company_id", "key"),)

    company_id: uuid.UUID = Field(foreign_key="company.id", ondelete="CASCADE")
    key: str = Field(max_length=255)
    fingerprint: str = Field(max_length=64)
    status_code: int
    headers: dict[str, str] = Field(sa_column=Column(JSONB, nullable=False))
    body: bytes = Field(sa_type=LargeBinary)  # type: ignore[call-overload]
    created_at: dt.datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True), index=True)  # type: ignore[call-overload]


@dataclass
class StoredResponse:
    status_code: int
    headers: dict[str, str]
    body: bytes


def check_key(key: str) -> str:
    if not _KEY.match(key):
        raise ValidationFailed.field("Idempotency-Key", "must be 1..255 printable ASCII characters")
    return key


def fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    """Same method, path, query and body make the same request; JSON key order does not matter."""
    try:
        canonical = jsonutil.dumps(_sorted(jsonutil.loads(body))) if body.strip() else b""
    except ValueError:
        canonical = body
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), _sorted_query(query).encode(), canonical):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def _sorted_query(query: str) -> str:
    return "&".join(sorted(p for p in query.split("&") if p))


async def claim(uow: UnitOfWork, key: str, request_fingerprint: str) -> StoredResponse | None:
    """Take the key for this transaction; return the stored response when this is a replay."""
    lock_id = func.hashtextextended(f"idempotency:{uow.company_id}:{key}", 0)
    if not await uow.scalar(select(func.pg_try_advisory_xact_lock(lock_id))):
        raise IdempotencyKeyInUse()
    record = await uow.scalar(
        select(IdempotencyRecord).where(
            col(IdempotencyRecord.company_id) == uow.company_id, col(IdempotencyRecord.key) == key
        )
    )
    if record is None:
        return None
    if record.fingerprint != request_fingerprint:
        raise IdempotencyKeyReused()
    metrics.IDEMPOTENT_REPLAYS.labels(uow.source.value).inc()
    return StoredResponse(record.status_code, dict(record.headers), unseal(record.body))


def store(uow: UnitOfWork, key: str, request_fingerprint: str, response: StoredResponse) -> None:
    uow.add(
        IdempotencyRecord(
            company_id=uow.company_id,
            key=key,
            fingerprint=request_fingerprint,
            status_code=response.status_code,
            headers={k: v for k, v in response.headers.items() if k.lower() in REPLAYED_HEADERS},
            # Sealed at rest: a stored answer may be the one-time reveal of a token or secret.
            body=seal(response.body),
        )
    )
