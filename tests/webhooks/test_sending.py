"""One delivery POST against real receivers on 127.0.0.1: what is read, how long it may take,
what counts as an answer, and that refused addresses are never connected to."""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import socket
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.core import clock
from app.settings import get_settings
from app.webhooks import addresses, sending

HEADERS = {"Content-Type": "application/json", "User-Agent": "Rouptimize-Webhooks/1.0"}
BODY = b'{"id":"evt_1"}'


@dataclass
class Request:
    target: str
    headers: dict[str, str]
    body: bytes


Respond = Callable[[Request, asyncio.StreamWriter], Awaitable[None]]


def answer(status: int, body: bytes = b"ok", headers: dict[str, str] | None = None) -> Respond:
    async def respond(request: Request, writer: asyncio.StreamWriter) -> None:
        lines = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await writer.drain()

    return respond


async def never_answer(request: Request, writer: asyncio.StreamWriter) -> None:
    await asyncio.Event().wait()


@dataclass
class Listener:
    """A receiver on 127.0.0.1 that counts the connections made to it."""

    port: int
    respond: Respond = field(default_factory=lambda: answer(200))
    requests: list[Request] = field(default_factory=list)
    connections: int = 0
    server_names: list[str | None] = field(default_factory=list)  # SNI, when serving TLS

    def url(self, host: str = "127.0.0.1", path: str = "/hooks", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    line, *fields = head.decode("latin-1").split("\r\n")[:-2]
    headers = {name.lower(): value.strip() for name, value in (f.split(":", 1) for f in fields)}
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return Request(line.split(" ")[1], headers, body)


@pytest.fixture
async def listener_factory() -> AsyncIterator[Callable[..., Awaitable[Listener]]]:
    servers: list[asyncio.Server] = []
    handlers: set[asyncio.Task[Any]] = set()

    async def start(tls: ssl.SSLContext | None = None) -> Listener:
        listener = Listener(port=0)

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            handlers.add(task)
            listener.connections += 1
            try:
                while (request := await _read_request(reader)) is not None:
                    listener.requests.append(request)
                    await listener.respond(request, writer)
            except ConnectionError:
                pass
            finally:
                writer.close()

        if tls is not None:
            tls.sni_callback = lambda _socket, name, _context: listener.server_names.append(name)
        server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=tls)
        servers.append(server)
        listener.port = server.sockets[0].getsockname()[1]
        return listener

    yield start
    for server in servers:
        server.close()
    for task in handlers:
        task.cancel()
    await asyncio.gather(*handlers, return_exceptions=True)
    for server in servers:
        await server.wait_closed()


@pytest.fixture
async def listener(listener_factory: Callable[..., Awaitable[Listener]]) -> Listener:
    return await listener_factory()


@pytest.fixture(autouse=True)
async def loopback_receivers(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    monkeypatch.setattr(get_settings(), "webhook_allow_private_networks", True)
    monkeypatch.setattr(get_settings(), "webhook_timeout_seconds", 5.0)
    yield
    await sending.close()  # each test starts with no connections kept


def _dns(monkeypatch: pytest.MonkeyPatch, *found: str) -> None:
    async def resolve(host: str, port: int) -> list[str]:
        return list(found)

    monkeypatch.setattr(addresses, "resolve", resolve)


class TestAnswer:
    async def test_2xx_with_an_excerpt_of_the_first_kib(self, listener: Listener) -> None:
        listener.respond = answer(200, b"a" + "é".encode() * 600)
        result = await sending.post(listener.url(), BODY, HEADERS)
        assert (result.status_code, result.error, result.retry_after_seconds) == (200, None, None)
        # 1 + 511 x 2 bytes, then the first byte of the 512th "é", which cannot decode.
        assert result.excerpt == "a" + "é" * 511 + "\ufffd"
        assert 0 <= result.duration_ms < 5000
        [request] = listener.requests
        assert (request.target, request.body) == ("/hooks", BODY)
        assert request.headers["user-agent"] == "Rouptimize-Webhooks/1.0"
        assert request.headers["accept-encoding"] == "identity"

    async def test_an_empty_body_is_an_empty_excerpt(self, listener: Listener) -> None:
        listener.respond = answer(204, b"")
        result = await sending.post(listener.url(), BODY, HEADERS)
        assert (result.status_code, result.excerpt, result.error) == (204, "", None)

    async def test_a_500_is_an_answer(self, listener: Listener) -> None:
        listener.respond = answer(500, b"boom")
        result = await sending.post(listener.url(), BODY, HEADERS)
        assert (result.status_code, result.excerpt, result.error) == (500, "boom", None)

    async def test_redirects_are_not_followed(self, listener: Listener) -> None:
        listener.respond = answer(302, b"", {"Location": listener.url(path="/elsewhere")})
        result = await sending.post(listener.url(), BODY, HEADERS)
        assert (result.status_code, result.error) == (302, None)
        assert [r.target for r in listener.requests] == ["/hooks"]


class TestReadLimit:
    async def test_a_10_mb_answer_is_not_read_to_its_end(self, listener: Listener) -> None:
        async def huge(request: Request, writer: asyncio.StreamWriter) -> None:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10485760\r\n\r\n" + b"x" * 1024 * 1024)
            await writer.drain()
            await asyncio.Event().wait()  # the other 9 MB never come: reading them would time out

        listener.respond = huge
        started = time.monotonic()
        result = await sending.post(listener.url(), BODY, HEADERS)
        assert time.monotonic() - started < 2.5  # well before the 5 s timeout
        assert (result.status_code, result.error, result.excerpt) == (200, None, "x" * 1024)

    async def test_the_connection_is_kept_only_when_the_answer_was_read_whole(
        self, listener: Listener
    ) -> None:
        listener.respond = answer(200, b"x" * 60_000)
        for _ in range(3):
            assert (await sending.post(listener.url(), BODY, HEADERS)).status_code == 200
        assert listener.connections == 1  # kept open and reused

        listener.respond = answer(200, b"x" * 100_000)
        for _ in range(3):
            assert (await sending.post(listener.url(), BODY, HEADERS)).status_code == 200
        assert listener.connections == 3  # over 64 KiB: each connection is dropped after its answer


class TestTimeout:
    async def test_a_receiver_that_never_answers(
        self, listener: Listener, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(get_settings(), "webhook_timeout_seconds", 1.0)
        listener.respond = never_answer
        result = await sending.post(listener.url(), BODY, HEADERS)
        assert (result.status_code, result.excerpt, result.retry_after_seconds) == (None, None, None)
        assert result.error == "timed out after 1 s"
        assert 900 <= result.duration_ms < 2500

    async def test_the_limit_covers_the_whole_attempt(
        self, listener: Listener, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # A body trickling in, each byte well within any per-read timeout, still ends at the limit.
        async def trickle(request: Request, writer: asyncio.StreamWriter) -> None:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
            for _ in range(1000):
                writer.write(b"x")
                await writer.drain()
                await asyncio.sleep(0.1)

        monkeypatch.setattr(get_settings(), "webhook_timeout_seconds", 1.0)
        listener.respond = trickle
        result = await sending.post(listener.url(), BODY, HEADERS)
        assert result.status_code == 200  # the answer came in time; its body did not
        assert result.excerpt is not None and 3 <= len(result.excerpt) < 20
        assert 900 <= result.duration_ms < 2500


class TestRetryAfter:
    @pytest.mark.parametrize(
        ("status", "value", "expected"),
        [
            (429, "120", 120),
            (503, "0", 0),
            (429, "999999", 86_400),
            (500, "120", None),
            (200, "120", None),
            (429, "soon", None),
        ],
    )
    async def test_delta_seconds(
        self, listener: Listener, status: int, value: str, expected: int | None
    ) -> None:
        listener.respond = answer(status, b"", {"Retry-After": value})
        assert (await sending.post(listener.url(), BODY, HEADERS)).retry_after_seconds == expected

    @pytest.mark.parametrize(
        ("status", "offset", "expected"), [(503, 90, 90), (429, -30, 0), (500, 90, None)]
    )
    async def test_http_date_by_the_application_clock(
        self, listener: Listener, status: int, offset: int, expected: int | None
    ) -> None:
        now = clock.utcnow().replace(microsecond=0) + dt.timedelta(days=3)  # not the machine's today
        date = email.utils.format_datetime(now + dt.timedelta(seconds=offset), usegmt=True)
        listener.respond = answer(status, b"", {"Retry-After": date})
        with clock.frozen(now):
            assert (await sending.post(listener.url(), BODY, HEADERS)).retry_after_seconds == expected


class TestNoAnswer:
    async def test_connection_refused(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        result = await sending.post(f"http://127.0.0.1:{port}/hooks", BODY, HEADERS)
        assert (result.status_code, result.excerpt, result.error) == (None, None, "connection refused")

    async def test_a_name_that_does_not_resolve(self, monkeypatch: pytest.MonkeyPatch) -> None:
        async def resolve(host: str, port: int) -> list[str]:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

        monkeypatch.setattr(addresses, "resolve", resolve)
        result = await sending.post("http://missing.example/hooks", BODY, HEADERS)
        assert (result.status_code, result.error) == (None, "DNS lookup failed: Name or service not known")


@pytest.fixture
async def no_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to connect anywhere fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        pytest.fail("a connection was attempted")

    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", refuse)
    monkeypatch.setattr(anyio, "connect_tcp", refuse)
    monkeypatch.setattr(asyncio.get_running_loop(), "create_connection", refuse)


@pytest.mark.usefixtures("no_connection")
class TestRefusedAddresses:
    @pytest.fixture(autouse=True)
    def private_refused(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(get_settings(), "webhook_allow_private_networks", False)

    @pytest.mark.parametrize("answers", [["10.0.0.5"], ["93.184.216.34", "10.0.0.5"], ["::ffff:a00:5"]])
    async def test_a_name_resolving_to_a_private_address(
        self, monkeypatch: pytest.MonkeyPatch, answers: list[str]
    ) -> None:
        _dns(monkeypatch, *answers)
        result = await sending.post("https://hooks.example.com/x", BODY, HEADERS)
        assert result.status_code is None
        assert result.error is not None and result.error.startswith("address refused: hooks.example.com")
        assert "WEBHOOK_ALLOW_PRIVATE_NETWORKS" in result.error

    @pytest.mark.parametrize("url", ["http://2130706433/", "http://[::1]:8000/", "http://localhost/"])
    async def test_a_private_literal_or_local_name(self, url: str) -> None:
        result = await sending.post(url, BODY, HEADERS)
        assert result.error is not None and result.error.startswith("address refused: ")


class TestPinnedAddress:
    async def test_a_name_is_sent_to_the_checked_address_with_its_own_host(
        self, listener: Listener, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        _dns(monkeypatch, "127.0.0.1")
        result = await sending.post(listener.url(host="receiver.example", path="/hooks?a=1"), BODY, HEADERS)
        assert (result.status_code, result.error) == (200, None)
        [request] = listener.requests
        assert request.headers["host"] == f"receiver.example:{listener.port}"
        assert (request.target, request.body) == ("/hooks?a=1", BODY)

    async def test_tls_is_checked_against_the_name_per_name(
        self,
        listener_factory: Callable[..., Awaitable[Listener]],
        monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path,
    ) -> None:
        # One address serving a certificate for a.example only: a.example gets through (SNI and
        # Host are its name), b.example must not, not even over a.example's open connection.
        authority, server = _certificates(tmp_path, "a.example")
        monkeypatch.setenv("SSL_CERT_FILE", str(authority))
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(*server)
        listener = await listener_factory(tls)
        _dns(monkeypatch, "127.0.0.1")

        good = await sending.post(listener.url(host="a.example", scheme="https"), BODY, HEADERS)
        assert (good.status_code, good.error) == (200, None)
        assert listener.server_names == ["a.example"]
        assert listener.requests[0].headers["host"] == f"a.example:{listener.port}"

        bad = await sending.post(listener.url(host="b.example", scheme="https"), BODY, HEADERS)
        assert bad.status_code is None
        assert bad.error is not None and bad.error.startswith("TLS error"), bad.error
        assert len(listener.requests) == 1


class TestConnectionPools:
    async def test_idle_pools_beyond_the_limit_close_oldest_first_busy_ones_stay(
        self, listener: Listener, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(sending, "_POOLS_KEPT", 2)
        pools = sending._PoolPerServerName()
        async with httpx.AsyncClient(transport=pools) as client:
            busy = await client.send(
                client.build_request("POST", listener.url(), extensions={"sni_hostname": "busy"}), stream=True
            )
            for name in ("a", "b", "c"):
                await client.post(listener.url(), extensions={"sni_hostname": name})
            assert list(pools._pools) == ["busy", "c"]  # busy still has an answer open
            await busy.aclose()
            await client.post(listener.url(), extensions={"sni_hostname": "d"})
            assert list(pools._pools) == ["c", "d"]


def _certificates(directory: Path, name: str) -> tuple[Path, tuple[Path, Path]]:
    """A throw-away authority, and a certificate it signed for `name`: (authority, (cert, key))."""
    now = dt.datetime.now(dt.UTC)  # OpenSSL checks validity by the machine's clock, not the application's

    def certificate(
        subject: str, key: ec.EllipticCurvePrivateKey, issuer: str, signer: Any, ca: bool
    ) -> bytes:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False
            )
        return builder.sign(signer, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)

    authority_key = ec.generate_private_key(ec.SECP256R1())
    server_key = ec.generate_private_key(ec.SECP256R1())
    paths = directory / "authority.pem", directory / "server.pem", directory / "server.key"
    paths[0].write_bytes(certificate("Test authority", authority_key, "Test authority", authority_key, True))
    paths[1].write_bytes(certificate(name, server_key, "Test authority", authority_key, False))
    paths[2].write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return paths[0], (paths[1], paths[2])
