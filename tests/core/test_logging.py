"""Operators' view: every log line is one JSON object, the libraries' lines included."""

from __future__ import annotations

import json
import logging

import pytest
import structlog

from app.core.logging import configure_logging


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
