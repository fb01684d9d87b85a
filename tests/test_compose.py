"""docker-compose.yml cannot run here (no Docker engine), so check it describes the deployment the
README documents: PostgreSQL, Redis, migrations, and API and worker replicas running our commands."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).parents[1]


def _compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())  # type: ignore[no-any-return]


def test_services_and_replicas() -> None:
    services = _compose()["services"]
    assert {"postgres", "redis", "migrate", "api", "worker"} <= set(services)
    assert services["api"]["deploy"]["replicas"] >= 2
    assert services["worker"]["deploy"]["replicas"] >= 2


def test_commands_are_the_documented_cli() -> None:
    services = _compose()["services"]
    readme = (ROOT / "README.md").read_text()
    for name in ("migrate", "api", "worker"):
        command = services[name]["command"]
        assert command[0] == "rouptimize"
        # The README documents every subcommand the deployment runs.
        assert f"rouptimize {command[1]}" in readme, command


def test_cli_knows_those_commands() -> None:
    from typer.main import get_command

    from app.cli import cli as app

    names = set(get_command(app).commands)  # type: ignore[attr-defined]
    for name in ("migrate", "api", "worker"):
        assert _compose()["services"][name]["command"][1] in names


def test_metrics_ports_are_exposed_and_never_published() -> None:
    compose = _compose()
    environment = compose["x-app"]["environment"]
    services = compose["services"]
    for service, setting in (("api", "METRICS_PORT"), ("worker", "WORKER_METRICS_PORT")):
        port = str(environment[setting])
        assert port in [str(p) for p in services[service]["expose"]], service
        assert not any(str(p).split(":")[-1] == port for p in services[service].get("ports", [])), service
    readme = (ROOT / "README.md").read_text()
    assert "WORKER_METRICS_PORT" in readme and "METRICS_PORT" in readme


def test_readme_opens_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```(?:sh|bash)?\n(.*?)```", readme, re.S)
    assert blocks and blocks[0].split() == ["make", "run"]
    assert blocks[1].split() == ["make", "test"]
    assert "make test" in (ROOT / ".ci" / "run").read_text()
