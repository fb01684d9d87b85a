"""Credential guessing is slowed: sign-in, driver sign-in and invite acceptance are limited per
account and per client address, in Redis, so every API replica counts against the same buckets.

The request's client address and the rate limiter come from the request context the HTTP
middleware sets; outside a request (admin commands, tests of a service alone) nothing is counted.
"""

from __future__ import annotations

import hashlib
from contextvars import ContextVar
from dataclasses import dataclass

from app.core import metrics
from app.core.errors import RateLimited
from app.core.ratelimit import RateLimiter
from app.settings import get_settings

# After its burst (settings) an account may be tried once every 12 s, an address once every 2 s (an
# office or a carrier's NAT shares one address among many people).
ACCOUNT_RATE, ADDRESS_RATE = 1 / 12, 1 / 2


@dataclass(frozen=True)
class Caller:
    address: str | None
    limiter: RateLimiter | None


caller: ContextVar[Caller | None] = ContextVar("caller", default=None)


async def guard(kind: str, account: str) -> None:
    """Count one credential check of `kind` against `account` and the caller's address; 429 when
    either bucket is empty. Accounts are hashed: bucket names never hold an email or a code."""
    current = caller.get()
    if current is None or current.limiter is None:
        return
    settings = get_settings()
    buckets = [
        (
            f"{kind}:account:{_digest(account.lower())}",
            (ACCOUNT_RATE, settings.credential_attempts_per_account),
            f"{kind}_account",
        )
    ]
    if current.address:
        buckets.append(
            (
                f"credentials:address:{current.address}",
                (ADDRESS_RATE, settings.credential_attempts_per_address),
                "credentials_address",
            )
        )
    for bucket, (rate, burst), limit in buckets:
        verdict = await current.limiter.hit(bucket, rate, burst)
        if not verdict.allowed:
            metrics.RATE_LIMIT_REFUSALS.labels(limit).inc()  # `kind` is the code's own word, bounded
            raise RateLimited(verdict.retry_after, {"Retry-After": str(verdict.retry_after)})


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]
