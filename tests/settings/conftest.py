"""A server of the settings pages' own, and the webhook tests' loopback receiver."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import serve_api
from tests.webhooks.conftest import receiver  # noqa: F401 (a fixture)


@pytest.fixture(scope="module")
def pages_server(services: Any) -> Iterator[str]:
    """The real API (`rouptimize serve-api`) on a loopback port, started for these tests alone: the
    suite's shared `api_server` has served other modules' WebSocket subscriptions, and its state
    must not decide whether these pass. Its base URL."""
    yield from serve_api(services, "settings-pages-api.log")
