"""A server of the settings pages' own, and the webhook tests' loopback receiver."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from app.settings import get_settings
from tests.webhooks.conftest import receiver  # noqa: F401 (a fixture)


@pytest.fixture(scope="module")
def pages_server(services: Any) -> Iterator[str]:
    """The real API (`rouptimize serve-api`) on a loopback port, started for these tests alone: the
    suite's shared `api_server` has served other modules' WebSocket subscriptions, and its state
    must not decide whether these pass. Its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, **services.env(), "ROUPTIMIZE_DATA_DIR": str(get_settings().data_dir)}
    log = open(get_settings().data_dir / "settings-pages-api.log", "wb")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve-api", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=log, stderr=log,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, "the API server did not start"
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
