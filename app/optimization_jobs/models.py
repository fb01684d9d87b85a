from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import Column, DateTime, Index, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from app.core.models import TenantColumns, same_company_reference


class OptimizationJob(TenantColumns, table=True):
    """One auto-optimize run: its request, where it stands, and what it made (or why it failed)."""

    __tablename__ = "optimization_job"
    __table_args__ = (
        # The sweeper's question: which unfinished jobs have not moved for a while.
        Index(
            "ix_optimization_job_unfinished",
            "updated_at",
            postgresql_where=text("status IN ('queued', 'running')"),
        ),
        # The list's keyset order.
        Index("ix_optimization_job_company_created", "company_id", "created_at", "id"),
        # A branch's jobs go with it (it can be deleted only once nothing else hangs off it).
        same_company_reference("optimization_job", "branch_id", "branch", ondelete="CASCADE"),
    )

    status: str = Field(default="queued", max_length=16)
    progress: int = 0
    engine: str = Field(max_length=16)
    branch_id: uuid.UUID
    date: dt.date
    # How many runs a worker started: a job whose worker died is run once more, and only the
    # latest run may save.
    runs: int = 0
    started_at: dt.datetime | None = Field(default=None, sa_type=DateTime(timezone=True))  # type: ignore[call-overload]
    finished_at: dt.datetime | None = Field(default=None, sa_type=DateTime(timezone=True))  # type: ignore[call-overload]
    request: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
    error: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB, nullable=True))
