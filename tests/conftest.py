"""Test harness: real PostgreSQL and Redis (embedded unless DATABASE_URL / REDIS_URL are set),
migrated once per session, with the real ASGI app served in-process.

Tests isolate themselves by tenant: every test makes its own companies, so nothing needs
truncating and row-level security keeps them apart."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

# Settings are read once; point them at a throw-away data dir before anything imports them.
_DATA_DIR = Path(tempfile.mkdtemp(prefix="rouptimize-test-"))
os.environ.setdefault("ROUPTIMIZE_DATA_DIR", str(_DATA_DIR))
os.environ.setdefault("ENVIRONMENT", "test")
# Test receivers listen on loopback, which the webhook address guard refuses by default; the guard's
# own tests switch it back on.
os.environ.setdefault("WEBHOOK_ALLOW_PRIVATE_NETWORKS", "true")
# Every in-process request comes from one address; the throttle's own tests lower this again.
os.environ.setdefault("CREDENTIAL_ATTEMPTS_PER_ADDRESS", "1000000")
# Tests read the events feed right after writing; the settle window has its own test.
os.environ.setdefault("EVENTS_FEED_SETTLE_SECONDS", "0")
# `TEST_TODAY=2030-06-15 make test` runs the whole suite (API, worker and the tests' own dates) as if
# it were that day, through the application clock's offset, which the worker process inherits.
if _today := os.environ.get("TEST_TODAY"):
    _now = dt.datetime.now(dt.UTC)
    _then = dt.datetime.combine(dt.date.fromisoformat(_today), _now.timetz())
    os.environ["CLOCK_OFFSET_SECONDS"] = str((_then - _now).total_seconds())

from app.core import db, jobs  # noqa: E402
from app.core.embedded import ensure_services  # noqa: E402
from app.core.ratelimit import RateLimiter  # noqa: E402
from app.migrations import run_migrations  # noqa: E402
from app.settings import get_settings  # noqa: E402
from tests.fixtures.factories import Factory  # noqa: E402
from tests.fixtures.workers import private_workers  # noqa: E402, F401 (a fixture)


@pytest.fixture(scope="session")
def services() -> Iterator[object]:
    get_settings.cache_clear()
    found = ensure_services(Path(os.environ["ROUPTIMIZE_DATA_DIR"]), stop_postgres_at_exit=True)
    run_migrations(found.owner_url)
    db.configure(owner_url=found.owner_url, app_url=found.app_url)
    os.environ["REDIS_URL"] = found.redis_url
    get_settings.cache_clear()
    yield found


@pytest.fixture(scope="session")
async def app(services: object) -> AsyncIterator[object]:
    from rest_compat.asgi import build_app

    application = build_app()
    application.state.rate_limiter = RateLimiter(get_settings().redis_url or "")
    yield application
    await application.state.rate_limiter.close()
    await db.dispose()


@pytest.fixture
async def client(app: object) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


@pytest.fixture
def factory(client: httpx.AsyncClient) -> Factory:
    return Factory(client)


# A real Dramatiq worker (a `rouptimize worker` process on the test services), for webhook delivery
# and auto-optimize tests.
@pytest.fixture(scope="session")
def worker(services: Any) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        **services.env(),
        "ROUPTIMIZE_DATA_DIR": str(get_settings().data_dir),
        # Ten attempts a second apart: retries within a test's patience.
        "WEBHOOK_RETRY_SCHEDULE_SECONDS": "0,1,1,1,1,1,1,1,1,1",
        "WEBHOOK_SWEEP_AFTER_SECONDS": "2",
    }
    log = open(get_settings().data_dir / "worker.log", "wb")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker", "--threads", "2"], env=env, stdout=log, stderr=log
    )
    yield process
    _stop(process, log)


@pytest.fixture(scope="session")
def api_server(services: Any) -> Iterator[str]:
    """The real API (`rouptimize serve-api`) in its own process on a loopback port, for what the
    in-process client cannot carry (WebSocket subscriptions): its base URL."""
    yield from serve_api(services, "api.log")


def serve_api(services: Any, log_name: str, **env: str) -> Iterator[str]:
    """Run `rouptimize serve-api` on a free loopback port with `env` added; yields its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, **services.env(), "ROUPTIMIZE_DATA_DIR": str(get_settings().data_dir), **env}
    log = open(get_settings().data_dir / log_name, "wb")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve-api", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=log, stderr=log,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert process.poll() is None and time.monotonic() < deadline, "the API server did not start"
        time.sleep(0.2)
    yield base
    _stop(process, log)


def _stop(process: subprocess.Popen[bytes], log: Any) -> None:
    """Stop a process the session started (gracefully, then not) and close its log."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture
def delivering(worker: subprocess.Popen[bytes]) -> Iterator[None]:
    """The in-process API sends jobs to Redis, as `serve` does, while the worker runs."""
    jobs.configure(get_settings().redis_url)
    yield
    jobs.close()
