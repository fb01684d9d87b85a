"""The admin commands print exactly one JSON object and work against a running deployment's data."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx

from app.settings import get_settings


def _run(services: object, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **services.env(), "ROUPTIMIZE_DATA_DIR": str(get_settings().data_dir)}  # type: ignore[attr-defined]
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_company_and_token_create(services: object, client: httpx.AsyncClient) -> None:
    created = _run(
        services,
        "company",
        "create",
        "--name",
        "CLI Co",
        "--admin-email",
        "cli-admin@example.com",
        "--admin-password",
        "long-enough-pw",
        "--credits",
        "7",
    )
    assert created.returncode == 0, created.stderr
    company = json.loads(created.stdout)
    assert set(company) == {"companyId", "adminUserId"}
    token = _run(
        services,
        "token",
        "create",
        "--company-id",
        company["companyId"],
        "--preset",
        "read_only",
        "--name",
        "cli",
    )
    assert token.returncode == 0, token.stderr
    data = json.loads(token.stdout)
    assert data["token"].startswith("rpt_test_") and data["preset"] == "read_only"
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {data['token']}"})
    assert me.json()["data"]["company"] == {
        "id": company["companyId"],
        "name": "CLI Co",
        "creditsRemaining": 7,
    }
    duplicate = _run(
        services,
        "company",
        "create",
        "--name",
        "Again",
        "--admin-email",
        "cli-admin@example.com",
        "--admin-password",
        "long-enough-pw",
    )
    assert duplicate.returncode == 1 and duplicate.stdout == ""
    assert json.loads(duplicate.stderr.strip().splitlines()[-1])["error"]["code"] == "conflict"
