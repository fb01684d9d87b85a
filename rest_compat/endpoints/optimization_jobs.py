"""Optimization jobs: follow and cancel auto-optimize runs (declarations only)."""

from __future__ import annotations

from app.core.principal import Scope
from app.optimization_jobs import service as jobs
from app.optimization_jobs.schemas import JobQuery, OptimizationJobOut
from rest_compat.spec import Endpoint, example_id

TAG = "Optimization jobs"
ROUTE_ID, MISSION = "0b3c9a52-52f4-4c1e-9a0b-3f1f1e2d4c5b", "9c8b7a6f-5e4d-4c3b-8a29-1807f6e5d4c3"
JOB = {
    "id": "01937c4e-8a2b-7c3d-9e4f-5a6b7c8d9e0f", "status": "succeeded", "progress": 100, "engine": "pyvrp",
    "branchId": example_id(), "date": "2026-11-26", "createdAt": "2026-11-25T16:00:00Z",
    "startedAt": "2026-11-25T16:00:01Z", "finishedAt": "2026-11-25T16:00:07Z",
    "result": {"routeIds": [ROUTE_ID], "unassigned": [{"missionId": MISSION, "reason": "capacity"}],
               "creditsCharged": 12},
    "error": None,
}  # fmt: skip
QUEUED = {**JOB, "status": "queued", "progress": 0, "startedAt": None, "finishedAt": None, "result": None}
LOCATION = "/api/v1/optimization-jobs/{id}"  # where a job started with respond-async is followed


ENDPOINTS = [
    Endpoint("GET", "/optimization-jobs", Scope.READ, lambda uow, c: jobs.list_jobs(uow, c.query),
             summary="List optimization jobs.", tag=TAG, query=JobQuery, returns=OptimizationJobOut,
             many=True, response_example={
                 "data": [JOB], "pagination": {"limit": 50, "nextCursor": None, "hasMore": False}},
             description="Auto-optimize jobs of your company, oldest first, filtered by `status` "
             "(repeatable), `branchId` and `date`. Jobs are kept with the routes they made."),
    Endpoint("GET", "/optimization-jobs/{id}", Scope.READ, lambda uow, c: c.record, loads=jobs.get,
             summary="Follow one optimization job.", tag=TAG, returns=OptimizationJobOut,
             response_example={"data": JOB},
             description="`status` moves queued -> running -> succeeded | failed | cancelled; `progress` "
             "0..100 moves every second while the optimizer searches and is 100 once the job is finished. "
             "A succeeded job has `result: {routeIds, unassigned, creditsCharged}`; a failed one "
             "`error: {code, message, details}` (e.g. `insufficient_credits`) and saved nothing. A job "
             "whose worker stopped is run once more from its request; a re-run never saves twice."),
    Endpoint("POST", "/optimization-jobs/{id}/cancel", Scope.WRITE, lambda uow, c: jobs.cancel(uow, c.record),
             loads=jobs.locked, summary="Cancel a queued or running job.", tag=TAG,
             returns=OptimizationJobOut,
             response_example={"data": {**QUEUED, "status": "cancelled", "progress": 100,
                                        "finishedAt": "2026-11-25T16:00:03Z"}},
             description="The job ends `cancelled` and saves nothing: no routes, no credits. A job "
             "already succeeded, failed or cancelled is `409 conflict` with `details.status`."),
]  # fmt: skip
