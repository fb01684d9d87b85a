"""One HTTP POST of a webhook delivery, made safely: only to public addresses checked just before
connecting (app/webhooks/addresses.py), bounded in time and in what is read, and never raising for
what the network or the receiver does."""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import math
import socket
import ssl
import time
import weakref
from collections import OrderedDict
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import TypeVar, cast

import httpx

from app.core import clock
from app.settings import get_settings
from app.webhooks import addresses

READ_LIMIT = 64 * 1024  # of an answer's body; a receiver sending more has its connection dropped
EXCERPT_BYTES = 1024
MAX_RETRY_AFTER_SECONDS = 86_400
# Per server name (see _PoolPerServerName): enough for thousands of deliveries a second to one
# receiver, with connections kept open between them. More would not be faster: the pool looks at
# each of its connections for every request, and a receiver is not helped by a flood.
_LIMITS = httpx.Limits(max_connections=32, max_keepalive_connections=32, keepalive_expiry=30)
# Sends in flight at once from one process to one receiver (scheme, host and port). Beyond this they
# wait here, not in httpcore's pool, whose every request walks all the connections and every queued
# request: a long queue there costs more CPU than the sends themselves. Per receiver, so a slow one
# holds up only its own deliveries.
IN_FLIGHT = 16
_POOLS_KEPT = 64

_E = TypeVar("_E", bound=BaseException)


@dataclass(frozen=True)
class Answer:
    status_code: int | None  # None when no HTTP answer came
    duration_ms: int
    excerpt: str | None  # the body's first KiB (UTF-8, errors replaced); None when no answer came
    error: str | None  # why no answer came; None for every HTTP answer, a 500 too
    retry_after_seconds: int | None  # a 429's or 503's Retry-After, within 0..86400


async def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST `body` to `url` once. A redirect is an answer, not followed. Resolving, connecting,
    sending and reading take at most WEBHOOK_TIMEOUT_SECONDS together."""
    async with _in_flight(url):
        return await _post(url, body, headers)


async def _post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    started = time.perf_counter()
    limit = get_settings().webhook_timeout_seconds
    deadline = asyncio.get_running_loop().time() + limit
    try:
        async with asyncio.timeout_at(deadline):
            response = await _send(url, body, headers, limit)
    except TimeoutError:
        return _no_answer(started, f"timed out after {limit:g} s")
    except addresses.AddressRefused as refused:
        return _no_answer(started, f"address refused: {refused}")
    except (httpx.HTTPError, httpx.InvalidURL, OSError) as error:
        return _no_answer(started, _describe(error, limit))
    head = bytearray()
    try:
        async with asyncio.timeout_at(deadline):
            await _read_head(response, head)
    except (TimeoutError, httpx.HTTPError):
        pass  # the status came in time: that is the answer, with as much of the body as came too
    finally:
        await response.aclose()  # drops the connection unless the whole body was read
    return Answer(
        status_code=response.status_code,
        duration_ms=_since(started),
        excerpt=head[:EXCERPT_BYTES].decode("utf-8", errors="replace"),
        error=None,
        retry_after_seconds=_retry_after(response),
    )


async def close() -> None:
    """Close the connections this event loop keeps open (at shutdown)."""
    client = _clients.pop(asyncio.get_running_loop(), None)
    if client is not None:
        await client.aclose()


async def _send(url: str, body: bytes, headers: dict[str, str], limit: float) -> httpx.Response:
    addresses.check_url(url)  # again: the URL may have been saved under older rules or settings
    target = httpx.URL(url)
    host = target.raw_host.decode("ascii")
    port = target.port or (443 if target.scheme == "https" else 80)
    pinned = (await addresses.checked_addresses(host, port))[0]
    sent_headers = {**headers, "Accept-Encoding": "identity"}  # a compressed answer can be a bomb
    extensions: dict[str, str] = {}
    if addresses.literal_address(host) is None:
        # Connect to the address just checked, never to whatever DNS answers next; the receiver
        # still sees its own name, in Host and (https) in SNI and the certificate check.
        sent_headers["Host"] = host if target.port is None else f"{host}:{target.port}"
        if target.scheme == "https":
            extensions["sni_hostname"] = host
    client = _client()
    request = client.build_request(
        "POST",
        target.copy_with(host=pinned),
        content=body,
        headers=sent_headers,
        extensions=extensions,
        timeout=limit,
    )
    return await client.send(request, stream=True)


async def _read_head(response: httpx.Response, head: bytearray) -> None:
    # aiter_raw (not aiter_bytes): what is counted is what came over the wire, never decompressed.
    chunks = cast(AsyncGenerator[bytes, None], response.aiter_raw())
    async with contextlib.aclosing(chunks):
        async for chunk in chunks:
            head += chunk[: READ_LIMIT - len(head)]
            if len(head) >= READ_LIMIT:
                return


def _retry_after(response: httpx.Response) -> int | None:
    """Retry-After (RFC 9110 §10.2.3) in seconds from now. Only a rate limit (429) or an
    unavailable service (503) asks to be retried later; other answers' values are ignored."""
    value = response.headers.get("Retry-After", "").strip()
    if response.status_code not in (429, 503) or not value:
        return None
    if value.isascii() and value.isdigit():
        seconds = int(value) if len(value) <= 9 else MAX_RETRY_AFTER_SECONDS
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            return None  # an HTTP date is in GMT; one without a zone is malformed
        seconds = math.ceil((when - clock.utcnow()).total_seconds())
    return min(max(seconds, 0), MAX_RETRY_AFTER_SECONDS)


def _describe(error: BaseException, limit: float) -> str:
    """A short sentence for the delivery's history, without a stack trace."""
    if isinstance(error, httpx.TimeoutException):
        return f"timed out after {limit:g} s"
    if isinstance(error, socket.gaierror):
        return f"DNS lookup failed: {error.strerror}"
    if isinstance(error, httpx.InvalidURL):
        return "invalid URL"
    if certificate := _caused_by(error, ssl.SSLCertVerificationError):
        return f"TLS error: {certificate.verify_message}"
    if _caused_by(error, ssl.SSLError):
        return "TLS error"
    if _caused_by(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, httpx.ConnectError):
        return "could not connect"
    if isinstance(error, httpx.RemoteProtocolError):
        return "the answer was not valid HTTP"
    if isinstance(error, httpx.NetworkError):
        return "connection lost"
    return f"request failed ({type(error).__name__})"


def _caused_by(error: BaseException, kind: type[_E]) -> _E | None:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, kind):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _no_answer(started: float, error: str) -> Answer:
    return Answer(None, _since(started), None, error, None)


def _since(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


class _PoolPerServerName(httpx.AsyncBaseTransport):
    """Connections kept open between deliveries, one pool per TLS server name.

    httpx pools connections by the address they go to, and requests here go to addresses. A TLS
    connection, though, was verified for one name: two names on one address (a CDN, a shared
    host) must not share it, or a request for one would travel on a connection whose certificate
    only proved the other. Plain HTTP and literal addresses need no name and share one pool."""

    def __init__(self) -> None:
        # trust_env: SSL_CERT_FILE / SSL_CERT_DIR, when set, name the trusted certificates.
        self._tls = httpx.create_ssl_context(trust_env=True)
        self._pools: OrderedDict[str, _Pool] = OrderedDict()  # least recently used first

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        name = str(request.extensions.get("sni_hostname", ""))
        pool = self._pools.pop(name, None) or _Pool(
            httpx.AsyncHTTPTransport(verify=self._tls, limits=_LIMITS, trust_env=False)
        )
        self._pools[name] = pool
        pool.in_use += 1
        try:
            response = await pool.transport.handle_async_request(request)
        except BaseException:
            pool.in_use -= 1
            raise
        response.stream = _Releasing(cast(httpx.AsyncByteStream, response.stream), pool)
        await self._close_idle_pools()
        return response

    async def _close_idle_pools(self) -> None:
        # Beyond _POOLS_KEPT, idle pools go, oldest first: their kept connections are file
        # descriptors, and a pool whose name gets no traffic never expires them itself.
        surplus = len(self._pools) - _POOLS_KEPT
        for name, pool in list(self._pools.items()):
            if surplus <= 0:
                return
            if pool.in_use == 0 and self._pools.get(name) is pool:  # still idle after the awaits
                del self._pools[name]
                surplus -= 1
                await pool.transport.aclose()

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), OrderedDict()
        for pool in pools:
            await pool.transport.aclose()


@dataclass
class _Pool:
    transport: httpx.AsyncHTTPTransport
    in_use: int = 0  # answers sent through it and not yet closed


class _Releasing(httpx.AsyncByteStream):
    """An answer's body that marks its pool as no longer in use once closed."""

    def __init__(self, stream: httpx.AsyncByteStream, pool: _Pool) -> None:
        self._stream, self._pool, self._released = stream, pool, False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            if not self._released:
                self._released = True
                self._pool.in_use -= 1


# One client per event loop: httpx connections belong to the loop that opened them.
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
    weakref.WeakKeyDictionary()
)


_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Semaphore]] = (
    weakref.WeakKeyDictionary()
)


def _in_flight(url: str) -> asyncio.Semaphore:
    # One small semaphore per receiver this process has sent to: a few hundred bytes each.
    receivers = _slots.setdefault(asyncio.get_running_loop(), {})
    origin = url.split("/", 3)[2] if url.count("/") >= 2 else url  # scheme://host:port/...
    if origin not in receivers:
        receivers[origin] = asyncio.Semaphore(IN_FLIGHT)
    return receivers[origin]


def _client() -> httpx.AsyncClient:
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None or client.is_closed:
        # trust_env=False: a proxy from the environment would connect, on our behalf, to whatever
        # its own DNS answers, past the address check.
        client = httpx.AsyncClient(transport=_PoolPerServerName(), trust_env=False, follow_redirects=False)
        _clients[loop] = client
    return client
