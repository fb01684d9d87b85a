"""Alembic, driven from code: no alembic.ini, the script directory is this package."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from app.core.db import async_url, sync_url

HERE = Path(__file__).resolve().parent

# Table modules that do not follow the `<area>/models.py` layout.
CORE_TABLE_MODULES = ("app.core.outbox", "app.core.history", "app.core.idempotency")


def import_models() -> None:
    """Import every module that declares tables, so SQLModel.metadata is complete."""
    import app

    for info in pkgutil.iter_modules(app.__path__):
        if info.ispkg and (Path(app.__path__[0]) / info.name / "models.py").exists():
            importlib.import_module(f"app.{info.name}.models")
    for name in CORE_TABLE_MODULES:
        importlib.import_module(name)


def psycopg2_url(url: str) -> str:
    # SQLAlchemy 2.1 maps a bare `postgresql://` to psycopg 3, which is not installed; name the driver.
    return sync_url(async_url(url)).replace("postgresql://", "postgresql+psycopg2://", 1)


def alembic_config(owner_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    # Passed as an attribute, not a main option: ConfigParser would treat a `%` in a URL as interpolation.
    config.attributes["url"] = psycopg2_url(owner_url)
    return config


def run_migrations(owner_url: str, revision: str = "head") -> None:
    """Upgrade the database to `revision`, then give the application role its password if configured."""
    from app.settings import get_settings

    command.upgrade(alembic_config(owner_url), revision)
    password = get_settings().app_database_password
    if password:
        eng = create_engine(psycopg2_url(owner_url), poolclass=NullPool)
        try:
            with eng.begin() as conn:
                # ALTER ROLE takes no bind parameters; format(%L) quotes the literal on the server.
                stmt = conn.scalar(
                    text("select format('ALTER ROLE rouptimize_app PASSWORD %L', cast(:pw as text))"),
                    {"pw": password},
                )
                conn.execute(text(stmt))
        finally:
            eng.dispose()
