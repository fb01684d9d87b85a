"""`rouptimize` command line: run the services, migrate, and a few admin commands.

This is the composition root, so it alone in `app` may import `workers` and `rest_compat`.
Admin commands print exactly one JSON object on stdout; everything else goes to stderr.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer

from app.core.embedded import Services, bootstrap
from app.core.principal import Preset
from app.settings import get_settings

cli = typer.Typer(help="Rouptimize delivery-dispatch backend.", no_args_is_help=True, add_completion=False)
company_cli = typer.Typer(help="Companies (tenants).", no_args_is_help=True)
token_cli = typer.Typer(help="API tokens.", no_args_is_help=True)
cli.add_typer(company_cli, name="company")
cli.add_typer(token_cli, name="token")

ASGI_APP = "rest_compat.asgi:app"


def _logging() -> None:
    from app.core.logging import configure_logging

    configure_logging(get_settings().log_level)


def _publish(services: Services) -> None:
    """Make the resolved URLs this process's settings, and those of every child it starts."""
    os.environ.update(services.env())
    get_settings.cache_clear()


def _uvicorn(host: str, port: int) -> None:
    import uvicorn

    def _exit(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    # uvicorn shuts down gracefully on SIGINT/SIGTERM and then re-raises the signal; with the default
    # SIGTERM action the process would die there, skipping `finally` (the worker child) and atexit
    # (embedded PostgreSQL and Redis). A clean exit instead.
    signal.signal(signal.SIGINT, _exit)
    signal.signal(signal.SIGTERM, _exit)
    # The app logs each request itself (with its request id); uvicorn keeps the root logging setup.
    uvicorn.run(ASGI_APP, host=host, port=port, log_config=None, access_log=False, proxy_headers=True)


@cli.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    worker_threads: Annotated[int, typer.Option(help="Threads of the worker process.")] = 4,
) -> None:
    """API and one worker process; PostgreSQL and Redis are embedded unless their URLs are set."""
    _logging()
    services = bootstrap(stop_postgres_at_exit=True)
    _publish(services)
    # Outside production, generate the development secrets now, before the API and the worker
    # could each race to create them on first use.
    for name in ("token_hash_secret", "session_secret", "webhook_signing_secret"):
        get_settings().secret(name)
    from workers.broker import close_broker, setup_broker

    setup_broker(services.require_redis())
    worker = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
        [sys.executable, "-m", "app.cli", "worker", "--threads", str(worker_threads)], env=os.environ.copy()
    )
    threading.Thread(target=_watch_child, args=(worker,), daemon=True).start()
    try:
        typer.echo(f"GraphiQL:   http://{host}:{port}/graphql")
        typer.echo(f"Swagger UI: http://{host}:{port}/swagger")
        _uvicorn(host, port)  # returns after a graceful shutdown on SIGINT/SIGTERM
    finally:
        _stop_child(worker)
        close_broker()


_stopping = threading.Event()


def _watch_child(child: subprocess.Popen[bytes]) -> None:
    code = child.wait()
    if not _stopping.is_set():
        from app.core.logging import get_logger

        get_logger().error("worker_exited", returncode=code)


def _stop_child(child: subprocess.Popen[bytes], timeout: float = 35.0) -> None:
    _stopping.set()
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


@cli.command("serve-api")
def serve_api(host: str = "127.0.0.1", port: int = 8000) -> None:
    """API only, no worker and no migrations: for deployments that scale them separately."""
    _logging()
    services = bootstrap(migrate=False)
    _publish(services)
    from workers.broker import close_broker, setup_broker

    setup_broker(services.require_redis())
    try:
        _uvicorn(host, port)
    finally:
        close_broker()


@cli.command()
def worker(threads: int = 4) -> None:
    """A Dramatiq worker (all queues) plus the periodic scheduler."""
    _logging()
    from workers.main import run

    run(threads)


@cli.command()
def migrate() -> None:
    """Upgrade the database schema to the latest revision."""
    _logging()
    bootstrap(need_redis=False)
    typer.echo("migrations: database is at head")


@cli.command("export-schema")
def export_schema(output: Path = Path("schema.graphql")) -> None:
    """Write the GraphQL SDL (what tests/graphql/test_schema_sdl.py compares against)."""
    from app.graphql.schema import schema

    output.write_text(str(schema).rstrip("\n") + "\n")
    typer.echo(f"wrote {output}")


@contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Send everything written to fd 1 (our logs, pgserver, subprocesses) to stderr meanwhile."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _admin(work: Any) -> None:
    """Run an admin coroutine on the owner connection and print its result as one JSON object."""
    from app.core import db
    from app.core.errors import DomainError

    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)

    async def main() -> dict[str, Any]:
        try:
            return dict(await work())
        finally:
            await db.dispose()

    try:
        with _stdout_to_stderr():
            bootstrap(need_redis=False)
            result = asyncio.run(main())
    except DomainError as exc:
        typer.echo(
            json.dumps({"error": {"code": exc.code, "message": exc.message, "details": exc.details}}),
            err=True,
        )
        raise typer.Exit(1) from None
    typer.echo(json.dumps(result))


@company_cli.command("create")
def company_create(
    name: Annotated[str, typer.Option()],
    admin_email: Annotated[str, typer.Option()],
    admin_password: Annotated[str, typer.Option(envvar="ROUPTIMIZE_ADMIN_PASSWORD")],
    credits: int = 200,
) -> None:
    """Create a company with its first admin user and opening credits."""

    async def work() -> dict[str, str]:
        from app.companies.service import company_service
        from app.core.db import unit_of_work
        from app.core.principal import Principal

        # The owner connection: a new tenant cannot pass the RLS check of a company not yet bound.
        async with unit_of_work(Principal.system(None), kind="owner") as uow:
            created = await company_service.create(
                uow, name=name, admin_email=admin_email, admin_password=admin_password, credits=credits
            )
        return {"companyId": str(created.company.id), "adminUserId": str(created.admin.id)}

    _admin(work)


@token_cli.command("create")
def token_create(
    company_id: Annotated[uuid.UUID, typer.Option()],
    preset: Annotated[Preset, typer.Option()],
    name: str = "CLI token",
) -> None:
    """Create an API token; the raw token is printed once and never stored."""

    async def work() -> dict[str, str]:
        from sqlalchemy import select
        from sqlmodel import col

        from app.api_tokens.schemas import ApiTokenCreate
        from app.api_tokens.service import api_token_service
        from app.companies.models import Company
        from app.core.db import unit_of_work
        from app.core.errors import NotFound
        from app.core.principal import Principal

        async with unit_of_work(Principal.system(company_id), kind="owner") as uow:
            # Through the unit of work, which binds the company first: forced row-level security
            # shows even the owner nothing of an unbound company.
            if await uow.scalar(select(col(Company.id)).where(col(Company.id) == company_id)) is None:
                raise NotFound("No such company.", {"companyId": str(company_id)})
            data = ApiTokenCreate.model_validate_json(json.dumps({"name": name, "preset": preset.value}))
            created = await api_token_service.create(uow, data)
        record = created.record
        return {
            "id": str(record.id),
            "token": created.token,
            "prefix": record.prefix,
            "preset": record.preset,
            "name": record.name,
        }

    _admin(work)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
