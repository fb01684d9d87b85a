from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from pydantic import Field

from app.core.schemas import OutModel, QueryModel
from app.routes.schemas import Engine, UnassignedOut


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


UNFINISHED = (JobStatus.QUEUED, JobStatus.RUNNING)


class OptimizationResultOut(OutModel):
    route_ids: list[uuid.UUID]
    unassigned: list[UnassignedOut] = Field(description="Missions left out, each with the reason.")
    credits_charged: int = Field(0, description="Scheduled-order credits the saved routes consumed.")


class JobErrorOut(OutModel):
    code: str
    message: str
    details: Any = None


class OptimizationJobOut(OutModel):
    id: uuid.UUID
    status: JobStatus = Field(description="queued -> running -> succeeded | failed | cancelled")
    progress: int = Field(description="0..100; 100 once the job is finished.")
    engine: Engine
    branch_id: uuid.UUID
    date: dt.date
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    result: OptimizationResultOut | None = Field(description="Set once the job succeeded.")
    error: JobErrorOut | None = Field(description="Why the job failed; nothing was saved.")


class JobQuery(QueryModel):
    limit: int = Field(50, ge=1, le=200, description="Page size, 1..200.")
    cursor: str | None = Field(None, description="Opaque cursor from `pagination.nextCursor`.")
    status: list[JobStatus] | None = Field(None, description="Repeatable: any of these statuses.")
    branch_id: uuid.UUID | None = Field(None, description="Only jobs planning this branch.")
    date: dt.date | None = Field(None, description="Only jobs planning this day.")
