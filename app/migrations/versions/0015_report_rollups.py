"""Report rollups and the indexes of the report and dashboard queries.

`report_day` (per company, branch and day: missions by status, on-time, proof and finish-hour
figures, the missions' credit movements, routes by status with their distance and duration) and
`report_route` (per route: its missions' counts and load) are kept by statement-level triggers on
`mission`, `route`, `credit_ledger` and `branch` (a time-zone change moves on-time figures and
finish hours), written in the same transaction as the change whatever the write path, including
set-based imports and COPY. Each statement's changed rows arrive as transition tables and are
applied as one grouped upsert (`old` rows subtracted, `new` rows added), so a bulk import of 1,000
missions touches each of its (branch, day) rows once, and an update that changes nothing reported
writes nothing. The functions run as the invoking role: under row-level security the application
role writes its own company's rollup rows. A change cascaded from a company's deletion is skipped
(the company row is gone; its rollups go with it).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.migrations.rls import disable_tenant_rls, enable_tenant_rls, force_tenant_rls, unforce_tenant_rls

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

STATUSES = ("unassigned", "scheduled", "in_progress", "delivered", "proofed", "failed", "cancelled")
MISSION_FIGURES = (
    "missions", *STATUSES, "evaluated", "on_time", "early", "late", "without_window", "proof_required",
    "proof_done",
)  # fmt: skip
HOURS = tuple(f"delivered_h{hour:02d}" for hour in range(24))
CREDIT_FIGURES = ("credits_consumed", "credits_refunded")
ROUTE_FIGURES = ("routes", "routes_planned", "routes_assigned", "routes_in_progress", "routes_completed")
ROUTE_SUMS = ("route_distance", "route_duration")
ROUTE_LOAD_COUNTS = ("stops", "delivered", "failed", "on_time", "evaluated")

# Each figure as the signed contribution of one changed mission (`facts` below). Kept exactly as
# the report queries count them (app/reports/repository.py before the rollups).
MISSION_TERMS = {
    "missions": "sign",
    **{status: f"sign * (status = '{status}')::int" for status in STATUSES},
    "evaluated": "sign * evaluated::int",
    "on_time": "sign * (evaluated AND NOT early AND NOT late)::int",
    "early": "sign * early::int",
    "late": "sign * late::int",
    "without_window": "sign * (completed AND NOT has_window)::int",
    "proof_required": "sign * (done AND proof_required)::int",
    "proof_done": "sign * (status = 'proofed' AND proof_required)::int",
    **{name: f"sign * (completed AND hour = {hour})::int" for hour, name in enumerate(HOURS)},
    "credits_consumed": "sign * consumed",
    "credits_refunded": "sign * refunded",
}
ROUTE_LOAD_TERMS = {
    "stops": "sign",
    "delivered": "sign * done::int",
    "failed": "sign * (status = 'failed')::int",
    "on_time": "sign * (evaluated AND NOT early AND NOT late)::int",
    "evaluated": "sign * evaluated::int",
    "weight": "sign * coalesce(weight_kg::numeric, 0)",
    "volume": "sign * coalesce(volume_m3::numeric, 0)",
    "items": "sign * coalesce(items, 0)",
}
ROUTE_TERMS = {
    "routes": "sign",
    "routes_planned": "sign * (status = 'planned')::int",
    "routes_assigned": "sign * (status = 'assigned')::int",
    "routes_in_progress": "sign * (status = 'in_progress')::int",
    "routes_completed": "sign * (status = 'completed')::int",
    "route_distance": "sign * total_distance_meters::bigint",
    "route_duration": "sign * total_duration_seconds::bigint",
}


def _upsert(table: str, keys: tuple[str, ...], terms: dict[str, str], source: str, unique: int = 3) -> str:
    """Add the grouped signed terms of `source` to `table`'s rows (keyed by the first `unique`
    keys), skipping groups that add up to nothing. Rows are written in key order, so concurrent
    writers lock them in one order."""
    names = list(terms)
    sums = ", ".join(f"sum({term}) AS {name}" for name, term in terms.items())
    key_list = ", ".join(keys)
    additions = ", ".join(f"{n} = t.{n} + excluded.{n}" for n in names)
    return f"""
    INSERT INTO {table} AS t ({key_list}, {", ".join(names)})
    SELECT {key_list}, {", ".join(names)} FROM (
        SELECT {key_list}, {sums} FROM {source} GROUP BY {key_list}
    ) AS delta
    WHERE ({", ".join(names)}) <> ({", ".join("0" for _ in names)})
    ORDER BY {key_list}
    ON CONFLICT ({", ".join(keys[:unique])}) DO UPDATE SET {additions}"""


# The changed missions, each with a sign and the time zone its on-time figures are read in; the
# company join drops changes cascaded from a company's deletion.
MISSION_FACTS = """
    changed AS (
        SELECT -1 AS sign, m.*, coalesce(gone_zone, b.timezone) AS zone
        FROM unnest(gone) AS m JOIN branch b ON b.id = m.branch_id JOIN company c ON c.id = m.company_id
        UNION ALL
        SELECT 1, m.*, coalesce(came_zone, b.timezone)
        FROM unnest(came) AS m JOIN branch b ON b.id = m.branch_id JOIN company c ON c.id = m.company_id
    ),
    finished AS (
        SELECT *, status IN ('delivered', 'proofed') AS done,
            status IN ('delivered', 'proofed') AND coalesce(finished_at, proof_verified_at) IS NOT NULL
                AS completed,
            timezone(zone, coalesce(finished_at, proof_verified_at)) AS local_finish,
            (time_window_start IS NOT NULL OR time_window_end IS NOT NULL) AS has_window
        FROM changed
    ),
    facts AS (
        SELECT f.*, completed AND has_window AS evaluated,
            completed AND time_window_start IS NOT NULL AND local_finish < date + time_window_start AS early,
            completed AND time_window_end IS NOT NULL AND local_finish > date + time_window_end AS late,
            extract(hour FROM local_finish)::int AS hour,
            coalesce(l.consumed, 0) AS consumed, coalesce(l.refunded, 0) AS refunded
        FROM finished f
        LEFT JOIN LATERAL (
            SELECT sum(amount) FILTER (WHERE kind = 'consume') AS consumed,
                sum(amount) FILTER (WHERE kind = 'refund') AS refunded
            FROM credit_ledger WHERE mission_id = f.id AND company_id = f.company_id
        ) l ON true
    )"""

ON_ROUTES = "facts WHERE route_id IS NOT NULL"
FUNCTIONS = {
    # A set of missions leaving (gone) and arriving (came), in the branch's time zone unless given.
    "report_apply_missions(mission[], text, mission[], text)": f"""
CREATE FUNCTION report_apply_missions(gone mission[], gone_zone text, came mission[], came_zone text)
RETURNS void LANGUAGE plpgsql SET search_path = public, pg_temp AS $$ BEGIN
    WITH {MISSION_FACTS.strip()},
    days AS ({_upsert("report_day", ("company_id", "branch_id", "date"), MISSION_TERMS, "facts")}
        RETURNING 1
    )
    {_upsert("report_route", ("route_id", "company_id"), ROUTE_LOAD_TERMS, ON_ROUTES, 1)};
END $$""",
    "report_apply_routes(route[], route[])": f"""
CREATE FUNCTION report_apply_routes(gone route[], came route[])
RETURNS void LANGUAGE plpgsql SET search_path = public, pg_temp AS $$ BEGIN
    WITH changed AS (
        SELECT -1 AS sign, r.* FROM unnest(gone) AS r JOIN company c ON c.id = r.company_id
        UNION ALL
        SELECT 1, r.* FROM unnest(came) AS r JOIN company c ON c.id = r.company_id
    )
    {_upsert("report_day", ("company_id", "branch_id", "date"), ROUTE_TERMS, "changed")};
END $$""",
    # Ledger movements count for the (branch, date) of the mission they name, while it exists.
    "report_apply_credits(credit_ledger[], credit_ledger[])": f"""
CREATE FUNCTION report_apply_credits(gone credit_ledger[], came credit_ledger[])
RETURNS void LANGUAGE plpgsql SET search_path = public, pg_temp AS $$ BEGIN
    WITH changed AS (
        SELECT -1 AS sign, l.kind, l.amount, l.mission_id, l.company_id FROM unnest(gone) AS l
        UNION ALL
        SELECT 1, l.kind, l.amount, l.mission_id, l.company_id FROM unnest(came) AS l
    ),
    moves AS (
        SELECT m.company_id, m.branch_id, m.date,
            CASE WHEN kind = 'consume' THEN sign * amount ELSE 0 END AS consumed,
            CASE WHEN kind = 'refund' THEN sign * amount ELSE 0 END AS refunded
        FROM changed JOIN mission m ON m.id = changed.mission_id AND m.company_id = changed.company_id
    )
    {
        _upsert(
            "report_day",
            ("company_id", "branch_id", "date"),
            {"credits_consumed": "consumed", "credits_refunded": "refunded"},
            "moves",
        )
    };
END $$""",
}


def _trigger_function(table: str, apply: str) -> str:
    # Transition tables are named per trigger; an INSERT has no old rows, a DELETE no new ones.
    return f"""
CREATE FUNCTION report_{table}_changed() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
    gone {table}[];
    came {table}[];
BEGIN
    IF TG_OP <> 'INSERT' THEN
        SELECT array_agg(o) INTO gone FROM old_rows o;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        SELECT array_agg(n) INTO came FROM new_rows n;
    END IF;
    PERFORM {apply.format(gone="gone", came="came")};
    RETURN NULL;
END
$$"""


TRIGGERED = {
    "mission": "report_apply_missions({gone}, NULL, {came}, NULL)",
    "route": "report_apply_routes({gone}, {came})",
    "credit_ledger": "report_apply_credits({gone}, {came})",
}
TRANSITIONS = {
    "insert": "REFERENCING NEW TABLE AS new_rows",
    "update": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "delete": "REFERENCING OLD TABLE AS old_rows",
}

# A branch's new time zone re-reads its missions' finishes: out in the old zone, back in the new.
BRANCH_ZONE = """
CREATE FUNCTION report_branch_zone_changed() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
    missions mission[];
BEGIN
    SELECT array_agg(m) INTO missions FROM mission m WHERE m.branch_id = NEW.id;
    PERFORM report_apply_missions(missions, OLD.timezone, missions, NEW.timezone);
    RETURN NULL;
END
$$"""

# What the triggers would have written for the rows that exist when the rollups arrive.
# One (branch, day) at a time, so no statement holds a whole table in memory.
BACKFILL = """
DO $$
DECLARE
    day record;
BEGIN
    FOR day IN SELECT DISTINCT branch_id, date FROM route LOOP
        PERFORM report_apply_routes(
            NULL, (SELECT array_agg(r) FROM route r WHERE r.branch_id = day.branch_id AND r.date = day.date));
    END LOOP;
    FOR day IN SELECT DISTINCT branch_id, date FROM mission LOOP
        PERFORM report_apply_missions(NULL, NULL, (
            SELECT array_agg(m) FROM mission m WHERE m.branch_id = day.branch_id AND m.date = day.date
        ), NULL);
    END LOOP;
END
$$"""

INDEXES = {
    # Recent activity: newest first by (at, id), company-wide or of one resource type; read backward.
    "ix_change_history_recent": ("change_history", ["company_id", "at", "id"], None),
    "ix_change_history_recent_type": ("change_history", ["company_id", "resource_type", "at", "id"], None),
    # Failure reasons and the failures section: the period's failed missions only.
    "ix_mission_failed": ("mission", ["company_id", "date"], "status = 'failed'"),
    # The drivers and vehicles sections: each listed driver's or vehicle's routes of the period.
    "ix_route_driver_date": ("route", ["company_id", "driver_id", "date"], None),
    "ix_route_vehicle_date": ("route", ["company_id", "vehicle_id", "date"], None),
    # Stats of a day and the routes section of a period.
    "ix_route_company_date": ("route", ["company_id", "date"], None),
}


def upgrade() -> None:
    _create_tables()
    for table in ("report_day", "report_route"):
        enable_tenant_rls(table)
        force_tenant_rls(table)
    for name, (table, columns, where) in INDEXES.items():
        op.create_index(name, table, columns, postgresql_where=sa.text(where) if where else None)
    for ddl in FUNCTIONS.values():
        op.execute(ddl)
    for table, apply in TRIGGERED.items():
        op.execute(_trigger_function(table, apply))
        for event, transition in TRANSITIONS.items():
            op.execute(
                f"CREATE TRIGGER report_{table}_{event} AFTER {event.upper()} ON {table} {transition} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION report_{table}_changed()"
            )
    op.execute(BRANCH_ZONE)
    op.execute(
        "CREATE TRIGGER report_branch_zone AFTER UPDATE OF timezone ON branch FOR EACH ROW "
        "WHEN (OLD.timezone IS DISTINCT FROM NEW.timezone) EXECUTE FUNCTION report_branch_zone_changed()"
    )
    # The backfill reads and writes every company's rows: the migrating owner, bound by the forced
    # policies since 0013, would see none of them, so they are lifted for this statement alone.
    backfilled = ("mission", "route", "credit_ledger", "branch", "report_day", "report_route")
    for table in backfilled:
        unforce_tenant_rls(table)
    op.execute(BACKFILL)
    for table in backfilled:
        force_tenant_rls(table)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS report_branch_zone ON branch")
    op.execute("DROP FUNCTION IF EXISTS report_branch_zone_changed()")
    for table in TRIGGERED:
        for event in TRANSITIONS:
            op.execute(f"DROP TRIGGER IF EXISTS report_{table}_{event} ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS report_{table}_changed()")
    for signature in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    for name, (table, _, _) in INDEXES.items():
        op.drop_index(name, table_name=table)
    for table in ("report_day", "report_route"):
        disable_tenant_rls(table)
    op.drop_table("report_route")
    op.drop_table("report_day")


def _create_tables() -> None:
    counts = [
        sa.Column(name, sa.Integer(), server_default="0", nullable=False)
        for name in MISSION_FIGURES + HOURS + CREDIT_FIGURES + ROUTE_FIGURES
    ]
    op.create_table(
        "report_day",
        sa.Column("company_id", sa.Uuid(), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        *counts,
        *[sa.Column(name, sa.BigInteger(), server_default="0", nullable=False) for name in ROUTE_SUMS],
        sa.ForeignKeyConstraint(["company_id"], ["company.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["branch_id"], ["branch.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("company_id", "branch_id", "date"),
    )
    op.create_table(
        "report_route",
        sa.Column("route_id", sa.Uuid(), nullable=False),
        sa.Column("company_id", sa.Uuid(), nullable=False),
        *[sa.Column(name, sa.Integer(), server_default="0", nullable=False) for name in ROUTE_LOAD_COUNTS],
        sa.Column("weight", sa.Numeric(), server_default="0", nullable=False),
        sa.Column("volume", sa.Numeric(), server_default="0", nullable=False),
        sa.Column("items", sa.BigInteger(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(["route_id"], ["route.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["company_id"], ["company.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("route_id"),
    )
