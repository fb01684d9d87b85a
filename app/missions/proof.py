"""Proof of delivery: a 5-digit customer code, stored only as a keyed hash, checked a limited
number of times before it expires at the end of the day after the mission's date."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import struct
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlmodel import col

from app.core import history
from app.core.clock import utcnow
from app.core.db import UnitOfWork
from app.core.errors import (
    Conflict,
    DomainError,
    InvalidProofCode,
    ProofAttemptsExhausted,
    ProofCodeExpired,
)
from app.missions import lifecycle
from app.missions.models import Mission
from app.missions.schemas import MissionStatus as S
from app.settings import get_settings

PROOFABLE = frozenset({S.IN_PROGRESS, S.DELIVERED})


def new_code() -> str:
    return f"{secrets.randbelow(100_000):05d}"


# The largest multiple of 100,000 below 2**32: 32-bit words under it map onto codes uniformly.
_UNBIASED_BELOW = 2**32 - 2**32 % 100_000


def new_codes(count: int) -> list[str]:
    """`count` codes from one read of the system CSPRNG rather than one call per code."""
    words = struct.unpack(f"<{count}I", secrets.token_bytes(4 * count))
    return [f"{word % 100_000:05d}" if word < _UNBIASED_BELOW else new_code() for word in words]


def hash_key() -> bytes:
    return get_settings().secret("token_hash_secret")


def hash_code(mission_id: Any, code: str, key: bytes | None = None) -> bytes:
    """HMAC-SHA256 under the token-hashing secret (`key`, when a batch already read it), salted with
    the mission id so equal codes of two missions have unrelated hashes."""
    return hmac.digest(key or hash_key(), f"proof:{mission_id}:{code}".encode(), hashlib.sha256)


@lru_cache(maxsize=1024)
def expires_at(date: dt.date, timezone: str) -> dt.datetime:
    """End of the day after `date` in the branch's time zone: local midnight starting date + 2."""
    local = dt.datetime.combine(date + dt.timedelta(days=2), dt.time(0), tzinfo=ZoneInfo(timezone))
    return local.astimezone(dt.UTC)


def fields(
    mission_id: Any,
    code: str | None,
    date: dt.date,
    timezone: str,
    sent_to: str | None,
    key: bytes | None = None,
) -> dict[str, Any]:
    """The proof columns of a new (or regenerated) code; all empty when no proof is required."""
    if code is None:
        return {"proof_code_hash": None, "proof_expires_at": None, "proof_sent_to": None}
    return {
        "proof_code_hash": hash_code(mission_id, code, key),
        "proof_expires_at": expires_at(date, timezone),
        "proof_sent_to": sent_to,
        "proof_attempts": 0,
    }


def _attempt_entry(
    mission_id: Any, outcome: str, attempts: tuple[int, int] | None
) -> Callable[[UnitOfWork], Awaitable[None]]:
    """A history entry (and, for a checked code, the spent attempt) that survives the refusal."""

    async def persist(uow: UnitOfWork) -> None:
        changes: list[dict[str, Any]] = [{"field": "proofResult", "from": None, "to": outcome}]
        if attempts is not None:
            # Conditional increment: concurrent wrong guesses can never push past the maximum.
            await uow.execute(
                update(Mission)
                .where(col(Mission.company_id) == uow.company_id, Mission.id == mission_id,
                       col(Mission.proof_attempts) < Mission.proof_max_attempts)
                .values(proof_attempts=Mission.proof_attempts + 1, updated_at=utcnow())
            )  # fmt: skip
            changes.append({"field": "proofAttempts", "from": attempts[0], "to": attempts[1]})
        history.record_change(uow, "mission", mission_id, "proof_attempt", changes)

    return persist


def _refuse(
    error: DomainError, mission: Mission, outcome: str, attempts: tuple[int, int] | None = None
) -> DomainError:
    error.after_rollback.append(_attempt_entry(mission.id, outcome, attempts))
    return error


async def verify(uow: UnitOfWork, mission: Mission, code: str) -> Mission:
    """Check the customer's code. Refusals for status, expiry and exhaustion spend nothing; every
    checked code spends an attempt, and a wrong one is still recorded after the refusal rolls back."""
    mission = await uow.scalar(
        select(Mission)
        .where(col(Mission.company_id) == uow.company_id, col(Mission.id) == mission.id)
        .with_for_update(of=Mission)
        .execution_options(populate_existing=True)
    )
    status = S(mission.status)
    if status not in PROOFABLE or not mission.proof_required or mission.proof_code_hash is None:
        reason = (
            "needs no proof of delivery" if not mission.proof_required
            else "has no proof code; regenerate one" if mission.proof_code_hash is None
            else f"is {status.value}; only in_progress or delivered missions can be proofed"
        )  # fmt: skip
        raise _refuse(
            Conflict(f"This mission {reason}.", {"status": status.value, "proofable": sorted(PROOFABLE)}),
            mission,
            "not_proofable",
        )
    if mission.proof_expires_at is not None and utcnow() >= mission.proof_expires_at:
        raise _refuse(ProofCodeExpired(details={"expiresAt": mission.proof_expires_at}), mission, "expired")
    used, allowed = mission.proof_attempts, mission.proof_max_attempts
    if used >= allowed:
        raise _refuse(ProofAttemptsExhausted(details={"maxAttempts": allowed}), mission, "attempts_exhausted")
    if not hmac.compare_digest(hash_code(mission.id, code), mission.proof_code_hash):
        remaining = allowed - used - 1
        raise _refuse(
            InvalidProofCode(
                f"The code is wrong; {remaining} attempt{'s' if remaining != 1 else ''} remain.",
                {"attemptsRemaining": remaining},
            ),
            mission,
            "invalid_code",
            (used, used + 1),
        )
    mission.proof_attempts = used + 1
    history.record_change(
        uow, "mission", mission.id, "proof_attempt",
        [{"field": "proofResult", "from": None, "to": "verified"},
         {"field": "proofAttempts", "from": used, "to": used + 1}],
    )  # fmt: skip
    if status == S.IN_PROGRESS:
        # The customer's code proves the delivery too: both moves are recorded, in order.
        await lifecycle.move(uow, mission, S.DELIVERED)
    return await lifecycle.move(uow, mission, S.PROOFED)
