"""Per-token rate limiting: a token bucket in Redis, one atomic script call per request."""

from __future__ import annotations

import math
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from app.core import clock, metrics
from app.core.errors import RateLimited
from app.core.logging import get_logger
from app.core.principal import ActorType, Principal
from app.settings import get_settings

log = get_logger("rouptimize.ratelimit")
REDIS_TIMEOUT = 0.5  # seconds

# KEYS[1] bucket; ARGV: rate/s, burst, now (s, float), tokens to take. Returns {allowed, remaining,
# retry_after_ms}.
_SCRIPT = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local amount = tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local allowed = 0
local retry_ms = 0
if tokens >= amount then
  tokens = tokens - amount
  allowed = 1
else
  retry_ms = math.ceil((amount - tokens) / rate * 1000)
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, math.floor(tokens), retry_ms}
"""


@dataclass
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int
    retry_after: int

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
        }


class RateLimiter:
    def __init__(self, redis_url: str) -> None:
        # Bounded: a stalled Redis must not hang the requests it only counts.
        self.redis = aioredis.from_url(
            redis_url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
        )
        self.script = self.redis.register_script(_SCRIPT)

    async def hit(
        self, bucket: str, rate: float | None = None, burst: int | None = None, amount: int = 1
    ) -> Verdict:
        """Take `amount` tokens (one request's worth unless given) from `bucket` (the API-token limits
        unless `rate`/`burst` are given). Taking none reads the bucket's level."""
        settings = get_settings()
        rate = settings.rate_limit_per_second if rate is None else rate
        burst = settings.rate_limit_burst if burst is None else burst
        try:
            allowed, remaining, retry_ms = await self.script(
                keys=[f"ratelimit:{bucket}"], args=[rate, burst, clock.timestamp(), amount]
            )
        except (RedisError, OSError, TimeoutError):
            # Fails open: without Redis the limit cannot be counted, and refusing every request
            # would turn a Redis outage into an API outage. Logged, so operators see it.
            log.warning("rate_limit_unavailable", bucket_kind=bucket.split(":", 1)[0])
            metrics.RATE_LIMIT_FAIL_OPEN.inc()
            return Verdict(allowed=True, limit=burst, remaining=burst, reset_seconds=0, retry_after=1)
        refill = math.ceil((burst - int(remaining)) / rate) if rate > 0 else 0
        return Verdict(
            allowed=bool(allowed),
            limit=burst,
            remaining=int(remaining),
            reset_seconds=refill,
            retry_after=max(1, math.ceil(int(retry_ms) / 1000)),
        )

    async def ping(self) -> bool:
        return bool(await self.redis.ping())

    async def close(self) -> None:
        await self.redis.aclose()


def bucket_of(principal: Principal) -> str | None:
    """Whose budget a request spends: its API token's, or its session's signed-in user or driver
    (all of one person's sessions share one, so signing in again does not refill it)."""
    if principal.token_id is not None:
        return str(principal.token_id)  # the bucket name tokens have always had
    if principal.actor_id is not None and principal.actor_type in (ActorType.USER, ActorType.DRIVER):
        return f"{principal.actor_type.value}:{principal.actor_id}"
    return None


async def limit_rate(limiter: RateLimiter | None, principal: Principal) -> dict[str, str]:
    """Count one request against its caller's bucket (shared by the API replicas through Redis),
    on REST and GraphQL alike: the RateLimit headers to answer with, or 429."""
    bucket = bucket_of(principal)
    if limiter is None or bucket is None:
        return {}
    verdict = await limiter.hit(bucket)
    if not verdict.allowed:
        metrics.RATE_LIMIT_REFUSALS.labels("api_token").inc()
        raise RateLimited(verdict.retry_after, verdict.headers())
    return verdict.headers()
