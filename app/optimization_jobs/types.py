from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncGenerator
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.scalars import JSON

from app.auth.service import auth_service
from app.core.db import UnitOfWork, unit_of_work
from app.core.errors import DomainError
from app.core.logging import get_logger
from app.core.principal import ANONYMOUS, Scope, Source
from app.graphql.context import Info, SubscriptionInfo
from app.graphql.inputs import graphql_enum, to_model
from app.graphql.mutations import mutation, query
from app.graphql.nodes import Node, register_node
from app.graphql.permissions import permission
from app.graphql.relay import Connection, connection
from app.optimization_jobs import service as jobs
from app.optimization_jobs.schemas import UNFINISHED, JobQuery, JobStatus, OptimizationJobOut
from app.routes.schemas import Engine, PlanRoutes
from app.routes.types import PlanRoutesInput, UnassignedMission

log = get_logger("rouptimize.graphql")
JobStatusEnum = graphql_enum(JobStatus)
EngineEnum = graphql_enum(Engine)
# How often a subscription looks at its job: progress moves once a second while the solver runs.
WATCH_EVERY_SECONDS = 0.25


@strawberry.type
class OptimizationJobResult:
    route_ids: list[uuid.UUID]
    unassigned: list[UnassignedMission]
    credits_charged: int


@strawberry.type
class OptimizationJobError:
    code: str
    message: str
    details: JSON | None


@strawberry.type(description="An auto-optimize run: QUEUED -> RUNNING -> SUCCEEDED | FAILED | CANCELLED.")
class OptimizationJob(Node):
    id: strawberry.ID  # the record's UUID, unique across every type
    status: JobStatusEnum  # type: ignore[valid-type]
    progress: int = strawberry.field(description="0..100; 100 once the job is finished.")
    engine: EngineEnum  # type: ignore[valid-type]
    branch_id: uuid.UUID
    date: dt.date
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    result: OptimizationJobResult | None
    error: OptimizationJobError | None


def as_job(record: object) -> OptimizationJob:
    out = OptimizationJobOut.model_validate(record)
    result, error = out.result, out.error
    return OptimizationJob(
        id=strawberry.ID(str(out.id)), status=out.status, progress=out.progress, engine=out.engine,
        branch_id=out.branch_id,
        date=out.date, created_at=out.created_at, started_at=out.started_at, finished_at=out.finished_at,
        result=OptimizationJobResult(
            route_ids=result.route_ids,
            unassigned=[UnassignedMission.from_pydantic(u) for u in result.unassigned],  # type: ignore[attr-defined]
            credits_charged=result.credits_charged,
        ) if result else None,
        error=OptimizationJobError(code=error.code, message=error.message, details=error.details)
        if error else None,
    )  # fmt: skip


@strawberry.type
class OptimizationJobQueries:
    @query(description="An auto-optimize job: its status, progress and result.")
    async def optimization_job(self, info: Info, id: uuid.UUID) -> OptimizationJob:
        return as_job(await jobs.get(info.context.uow, id))

    @query(description="Auto-optimize jobs, oldest first, filtered as the REST list is.")
    async def optimization_jobs(
        self, info: Info, first: int = 50, after: str | None = None,
        status: list[JobStatusEnum] | None = None,  # type: ignore[valid-type]
        branch_id: uuid.UUID | None = None, date: dt.date | None = None,
    ) -> Connection[OptimizationJob]:  # fmt: skip
        params = to_model(JobQuery, JobQuery.model_construct(
            limit=first, cursor=after, status=status, branch_id=branch_id, date=date))  # fmt: skip
        return connection(await jobs.list_jobs(info.context.uow, params), as_job, after=after)  # type: ignore[no-any-return]


@strawberry.type
class OptimizationJobMutations:
    @mutation(
        description="Build and save optimized routes for a branch and day (charges credits). Solved "
        "within the call, or with `respondAsync: true` queued for a worker: follow it with the "
        "`optimizationJob` query or subscription."
    )
    async def auto_optimize_routes(
        self,
        info: Info,
        input: PlanRoutesInput,  # type: ignore[valid-type]
        respond_async: bool = False,
    ) -> OptimizationJob:
        data = to_model(PlanRoutes, input)
        return as_job(await jobs.start(info.context.uow, data, in_background=respond_async))

    @mutation(description="Cancel a queued or running job: it saves nothing. A finished job is a conflict.")
    async def cancel_optimization_job(self, info: Info, id: uuid.UUID) -> OptimizationJob:
        uow = info.context.uow
        return as_job(await jobs.cancel(uow, await jobs.locked(uow, id)))


@strawberry.type
class OptimizationJobSubscriptions:
    @strawberry.subscription(
        description="The job as it moves: its current state at once, then every change of status or "
        "progress, ending with its final state.",
        extensions=permission(Scope.READ),
    )
    async def optimization_job(
        self, info: SubscriptionInfo, id: uuid.UUID
    ) -> AsyncGenerator[OptimizationJob, None]:
        seen: tuple[Any, ...] | None = None
        while True:
            # A short transaction per look: a subscription may last minutes and must hold nothing.
            # The credential is checked at every look, so a revoked token stops the stream at once.
            try:
                async with unit_of_work(ANONYMOUS, Source.GRAPHQL) as uow:
                    await auth_service.authenticate(uow, info.context.credential)
                    job = as_job(await jobs.get(uow, id))
            except DomainError as error:
                # Sent over the socket as is: carry the contract's code as the HTTP surface does.
                raise GraphQLError(
                    error.message, extensions={"code": error.code, "details": error.details}
                ) from None
            except Exception:
                log.exception("subscription_failed", job_id=str(id))
                raise GraphQLError(
                    "An unexpected error occurred.", extensions={"code": "internal_error"}
                ) from None
            state = (job.status, job.progress)
            if state != seen:
                seen = state
                yield job
            if JobStatus(job.status) not in UNFINISHED:
                return
            await asyncio.sleep(WATCH_EVERY_SECONDS)


async def _optimization_job_node(uow: UnitOfWork, record_id: uuid.UUID) -> Any:
    return as_job(await jobs.get(uow, record_id))


register_node("optimization_job", Scope.READ, _optimization_job_node)
