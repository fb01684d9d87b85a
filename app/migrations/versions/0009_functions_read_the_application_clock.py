"""The owner-side functions compare stored times with the application's clock, not the database's:
each takes "now" (or a cutoff computed from it) as an argument, so every rule that depends on the
time reads one clock, which tests can set and a deployment can shift to try another day.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 16:00:00.000000
"""

from __future__ import annotations

import importlib

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

APP_ROLE = "rouptimize_app"

FUNCTIONS = {
    "auth_api_token(bytea, timestamptz)": """
CREATE FUNCTION auth_api_token(p_hash bytea, p_now timestamptz)
RETURNS TABLE(id uuid, company_id uuid, name text, preset text, prefix text, expires_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
#variable_conflict use_column
DECLARE
    tok api_token%ROWTYPE;
BEGIN
    SELECT * INTO tok FROM api_token t WHERE t.token_hash = p_hash;
    IF NOT FOUND OR (tok.expires_at IS NOT NULL AND tok.expires_at <= p_now) THEN
        RETURN;
    END IF;
    -- Transaction-local, and not confined to this function (it has no SET clause for it):
    -- the rest of the caller's transaction is bound to the token's company.
    PERFORM set_config('app.company_id', tok.company_id::text, true);
    -- Throttled so a busy token does not rewrite its row on every request.
    IF tok.last_used_at IS NULL OR tok.last_used_at < p_now - interval '30 seconds' THEN
        UPDATE api_token t SET last_used_at = p_now WHERE t.id = tok.id;
    END IF;
    RETURN QUERY SELECT tok.id, tok.company_id, tok.name::text, tok.preset::text, tok.prefix::text,
        tok.expires_at;
END
$$""",
    "expire_idempotency_keys(timestamptz)": """
CREATE FUNCTION expire_idempotency_keys(p_created_before timestamptz) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
    n integer;
BEGIN
    DELETE FROM idempotency_key WHERE created_at < p_created_before;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$""",
    "pending_webhook_events(timestamptz, integer)": """
CREATE FUNCTION pending_webhook_events(p_created_before timestamptz, p_limit integer)
RETURNS TABLE(id text, company_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT e.id::text, e.company_id FROM webhook_event e
    WHERE e.status = 'pending' AND e.created_at < p_created_before
    ORDER BY e.created_at LIMIT p_limit
$$""",
    "stale_optimization_jobs(timestamptz, timestamptz, integer)": """
CREATE FUNCTION stale_optimization_jobs(p_queued_before timestamptz, p_running_before timestamptz,
                                        p_limit integer)
RETURNS TABLE(id uuid, company_id uuid, status text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT j.id, j.company_id, j.status::text FROM optimization_job j
    WHERE j.status IN ('queued', 'running')
      AND j.updated_at < CASE WHEN j.status = 'queued' THEN p_queued_before ELSE p_running_before END
    ORDER BY j.updated_at LIMIT p_limit
$$""",
}

# The signatures they replace, and the revisions that defined them (restored on downgrade).
REPLACED = {
    "auth_api_token(bytea)": ("0001_skeleton", "FUNCTIONS"),
    "expire_idempotency_keys(interval)": ("0001_skeleton", "FUNCTIONS"),
    "pending_webhook_events(interval, integer)": ("0005_webhooks", "PENDING_EVENTS"),
    "stale_optimization_jobs(interval, interval, integer)": ("0008_stale_optimization_jobs", "STALE_JOBS"),
}


def _create(signature: str, ddl: str) -> None:
    op.execute(ddl)
    # Functions are executable by PUBLIC by default; these bypass RLS, so name who may call them.
    op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {APP_ROLE}")


def upgrade() -> None:
    for signature in REPLACED:
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    for signature, ddl in FUNCTIONS.items():
        _create(signature, ddl)


def downgrade() -> None:
    for signature in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
    for signature, (module, name) in REPLACED.items():
        ddl = getattr(importlib.import_module(f"app.migrations.versions.{module}"), name)
        _create(signature, ddl[signature] if isinstance(ddl, dict) else ddl)
