"""Automatic persisted queries, Apollo's protocol: a client sends `extensions.persistedQuery =
{"version": 1, "sha256Hash": ...}` instead of its document; on `PersistedQueryNotFound` it sends
the document with the hash once, which registers it. GET requests then carry only the hash, so
their URLs are short and stable.

Documents are stored in Redis by their hash, shared by every company (the hash is of the text,
which names no tenant's data), but only registered by an authenticated caller and only once the
document validates, so no anonymous caller can fill the store. Bounds, which hold in a Redis shared
with the rate limits and the job broker: documents over MAX_STORED_CHARS run but are not kept; each
kept document expires `GRAPHQL_PERSISTED_TTL_SECONDS` after its last use; and a sorted set of last
uses keeps at most `GRAPHQL_PERSISTED_MAX_DOCUMENTS` (registering one more drops the least recently
used), so the store holds at most max documents x 32 KiB (a panel's few hundred documents take
about a megabyte). Without Redis every lookup misses and nothing is kept: clients then send their
documents in full, and nothing fails."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import Response

from app.core import clock
from app.core.envelope import json_response
from app.core.errors import ValidationFailed
from app.core.logging import get_logger
from app.settings import get_settings

log = get_logger("rouptimize.graphql")
VERSION = 1
MAX_STORED_CHARS = 32 * 1024
DOCUMENT_KEY = "apq:doc:"
INDEX_KEY = "apq:index"  # hash -> time of last use
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
HASH_FIELD = "extensions.persistedQuery.sha256Hash"

# KEYS: document, index; ARGV: hash, ttl (s), now (s). The document, its lease renewed, or nil.
_LOOKUP = """
local document = redis.call('GET', KEYS[1])
if document then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
  redis.call('EXPIRE', KEYS[2], ARGV[2])
end
return document
"""

# KEYS: document, index; ARGV: hash, document, ttl (s), now (s), max documents, document key prefix.
_STORE = """
local ttl = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
redis.call('SET', KEYS[1], ARGV[2], 'EX', ttl)
redis.call('ZADD', KEYS[2], now, ARGV[1])
redis.call('EXPIRE', KEYS[2], ttl)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - ttl)
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[5])
if excess > 0 then
  for _, hash in ipairs(redis.call('ZRANGE', KEYS[2], 0, excess - 1)) do
    redis.call('DEL', ARGV[6] .. hash)
  end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, excess - 1)
end
return excess
"""


@dataclass(frozen=True)
class PersistedQuery:
    sha256: str
    query: str | None  # the document when the client sent it (to register), None for a lookup


def requested(payload: dict[str, Any]) -> PersistedQuery | None:
    """The request's `extensions.persistedQuery`, checked (and its hash against the document sent
    with it, as Apollo Server does), or None when it has none."""
    extensions = payload.get("extensions")
    if extensions is None:
        return None
    if not isinstance(extensions, dict):
        raise ValidationFailed.field("extensions", "must be an object")
    persisted = extensions.get("persistedQuery")
    if persisted is None:
        return None
    if not isinstance(persisted, dict) or persisted.get("version") != VERSION:
        raise ValidationFailed(
            "Unsupported persisted query version",
            [{"field": "extensions.persistedQuery.version", "issue": f"must be {VERSION}"}],
        )
    sha256 = persisted.get("sha256Hash")
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        raise ValidationFailed.field(HASH_FIELD, "must be a SHA-256 in hexadecimal (64 digits)")
    sha256 = sha256.lower()
    query = payload.get("query")
    if query is not None and hashlib.sha256(query.encode()).hexdigest() != sha256:
        # Apollo Server's message, word for word.
        mismatch = [{"field": HASH_FIELD, "issue": "is not the SHA-256 of query"}]
        raise ValidationFailed("provided sha does not match query", mismatch)
    return PersistedQuery(sha256, query)


def not_found(request_id: str) -> Response:
    """Apollo's answer to an unknown hash, which its clients recognise (message and code alike) to
    send the document: 200, and not to be cached, since the next request may well find it."""
    body = {
        "errors": [
            {
                "message": "PersistedQueryNotFound",
                "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND", "requestId": request_id},
            }
        ]
    }
    return json_response(body, headers={"Cache-Control": "private, no-cache, must-revalidate"})


class PersistedQueries:
    def __init__(self, redis: Redis) -> None:
        self._lookup = redis.register_script(_LOOKUP)
        self._store = redis.register_script(_STORE)

    async def lookup(self, sha256: str) -> str | None:
        """The document registered under `sha256`, or None (also when Redis does not answer)."""
        try:
            found = await self._lookup(
                keys=[DOCUMENT_KEY + sha256, INDEX_KEY],
                args=[sha256, get_settings().graphql_persisted_ttl_seconds, clock.timestamp()],
            )
        except (RedisError, OSError, TimeoutError):
            log.warning("persisted_queries_unavailable", action="lookup")
            return None
        return found.decode() if found is not None else None

    async def register(self, sha256: str, query: str) -> None:
        if len(query) > MAX_STORED_CHARS:
            return
        settings = get_settings()
        try:
            await self._store(
                keys=[DOCUMENT_KEY + sha256, INDEX_KEY],
                args=[
                    sha256, query, settings.graphql_persisted_ttl_seconds, clock.timestamp(),
                    settings.graphql_persisted_max_documents, DOCUMENT_KEY,
                ],
            )  # fmt: skip
        except (RedisError, OSError, TimeoutError):
            log.warning("persisted_queries_unavailable", action="register")


def store_of(request: Request) -> PersistedQueries | None:
    """The app's store, on its rate limiter's Redis connection; None when the app runs without Redis."""
    limiter = getattr(request.app.state, "rate_limiter", None)
    if limiter is None:
        return None
    kept = getattr(request.app.state, "persisted_queries", None)
    if kept is None or kept[0] is not limiter:
        kept = request.app.state.persisted_queries = (limiter, PersistedQueries(limiter.redis))
    return kept[1]
