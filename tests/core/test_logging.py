"""Operators' view: every log line is one JSON object, the libraries' lines included."""

from __future__ import annotations

import json
import logging
import uuid

import httpx
import pytest
import structlog

from app.core.logging import configure_logging
from tests.fixtures.factories import Factory
from tests.graphql.client import gql


def test_library_records_are_json_lines_too(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in ("httpx", "httpcore")}
    configure_logging("INFO")  # as the CLI sets the process up, for this test only
    try:
        logging.getLogger("uvicorn.error").info("Started server process [%d]", 42)
        logging.getLogger("dramatiq.worker.Worker").warning("Worker is ready")
        logging.getLogger("httpx").info("HTTP Request: POST http://127.0.0.1/hooks")  # below its level
        output = capsys.readouterr().out
    finally:
        root.handlers[:], root.level = handlers, level
        for name, saved in levels.items():
            logging.getLogger(name).setLevel(saved)
        structlog.reset_defaults()
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    events = {line["event"]: line for line in lines}
    assert events["Started server process [42]"]["logger"] == "uvicorn.error"
    assert events["Worker is ready"]["level"] == "warning"
    assert not any("HTTP Request" in line["event"] for line in lines)


async def test_a_callers_graphql_error_is_one_line_without_a_traceback(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    tenant = await factory.tenant()
    with structlog.testing.capture_logs() as events:
        missing = await gql(client, tenant.read_token, f'{{ branch(id: "{uuid.uuid4()}") {{ id }} }}')
    assert missing.json()["errors"][0]["extensions"]["code"] == "not_found"
    refused = [e for e in events if e["event"] == "graphql_refused"]
    assert len(refused) == 1 and refused[0]["refusal"] == "not_found" and refused[0]["log_level"] == "info"
    assert not any("exc_info" in e or e["log_level"] == "error" for e in events), events
