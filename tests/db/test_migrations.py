"""Migrations: a fresh database reaches exactly the schema the models declare, and a database
taken down and back up again ends in the same schema."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from app.migrations import alembic_config, import_models, psycopg2_url


@pytest.fixture
def scratch_url(services: object) -> Iterator[str]:
    owner = psycopg2_url(services.owner_url)  # type: ignore[attr-defined]
    name = "scratch_" + uuid.uuid4().hex[:8]
    admin = create_engine(owner, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(owner).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def _schema(url: str) -> dict[str, object]:
    engine = create_engine(url)
    try:
        inspector = inspect(engine)
        with engine.connect() as conn:
            policies = sorted(
                conn.execute(text("select tablename, policyname, cmd, roles, qual from pg_policies")).all()
            )
            functions = sorted(
                conn.execute(
                    text(
                        "select proname, prosecdef, pg_get_userbyid(proowner) from pg_proc"
                        " where pronamespace = 'public'::regnamespace"
                    )
                ).all()
            )
            forced = sorted(
                conn.execute(
                    text(
                        "select relname, relrowsecurity, relforcerowsecurity from pg_class"
                        " where relnamespace = 'public'::regnamespace and relkind = 'r'"
                    )
                ).all()
            )
        return {
            table: {
                "columns": [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)],
                "indexes": sorted(
                    (i["name"], tuple(i["column_names"]), i["unique"]) for i in inspector.get_indexes(table)
                ),
                "uniques": sorted(u["name"] or "" for u in inspector.get_unique_constraints(table)),
                "fks": sorted(
                    (
                        fk["name"],
                        fk["referred_table"],
                        tuple(fk["constrained_columns"]),
                        tuple(fk["referred_columns"]),
                        str(fk["options"]),
                    )
                    for fk in inspector.get_foreign_keys(table)
                ),
            }
            for table in inspector.get_table_names()
        } | {"_policies": policies, "_functions": functions, "_row_security": forced}
    finally:
        engine.dispose()


def test_fresh_and_round_tripped_databases_match(scratch_url: str) -> None:
    config = alembic_config(scratch_url)
    command.upgrade(config, "head")
    fresh = _schema(scratch_url)
    command.downgrade(config, "base")
    command.upgrade(config, "head")
    assert _schema(scratch_url) == fresh


def test_models_and_migrations_agree(scratch_url: str) -> None:
    command.upgrade(alembic_config(scratch_url), "head")
    import_models()
    engine = create_engine(scratch_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    finally:
        engine.dispose()
    assert diff == [], diff


COMPANY = (
    "insert into company (id, name, credits_balance, created_at, updated_at)"
    " values (:c, 'C', 0, now(), now())"
)
HISTORY = (
    "insert into change_history (id, company_id, resource_type, resource_id, action, source, actor_type,"
    " actor_name, changes, at) values (gen_random_uuid(), :c, 'depot', gen_random_uuid(), :a, 'api',"
    " 'token', 'n', cast(:ch as json), now())"
)


def test_downgrading_history_restores_the_list_form_of_creations(scratch_url: str) -> None:
    """Since 0007 a creation's history entry is the created snapshot; below it, code reads lists."""
    config = alembic_config(scratch_url)
    command.upgrade(config, "0007")
    engine = create_engine(scratch_url)
    company, snapshot = uuid.uuid4(), '{"id": "x", "createdAt": "t", "name": "Depot A", "notes": null}'
    changed = '[{"field": "name", "from": "A", "to": "B"}]'
    try:
        with engine.begin() as conn:
            conn.execute(text(COMPANY), {"c": company})
            for action, changes in (("created", snapshot), ("updated", changed)):
                conn.execute(text(HISTORY), {"c": company, "a": action, "ch": changes})
        command.downgrade(config, "0006")
        with engine.connect() as conn:
            rows = dict(conn.execute(text("select action, changes from change_history")).all())
    finally:
        engine.dispose()
    assert rows == {
        "created": [{"field": "name", "from": None, "to": "Depot A"}],
        "updated": [{"field": "name", "from": "A", "to": "B"}],
    }
