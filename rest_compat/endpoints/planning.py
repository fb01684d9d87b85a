"""The optimizer's endpoints: two previews and auto-optimize (declarations only)."""

from __future__ import annotations

from app.core.principal import Scope
from app.optimization_jobs import service as jobs
from app.optimization_jobs.schemas import OptimizationJobOut
from app.routes import planning
from app.routes.schemas import PlanMissionRoute, PlanRoutes, RoutePlanOut
from rest_compat.endpoints import optimization_jobs
from rest_compat.spec import Endpoint, example_id

TAG = "Routes"
MISSION_A, MISSION_B, MISSION_C = (
    "5f0c1f7e-8d4b-4a53-9a43-1c2b3d4e5f60", "7a1d2e3f-4b5c-4d6e-8f70-8192a3b4c5d6",
    "9c8b7a6f-5e4d-4c3b-8a29-1807f6e5d4c3",
)  # fmt: skip
VEHICLE = "3e2d1c0b-9a8f-4e7d-8c6b-5a4938271605"
PLAN = {
    "branchId": example_id(), "date": "2026-11-26", "vehicleIds": [VEHICLE], "missionIds": None,
    "startDepotId": None, "endDepotId": None, "startTime": "08:30", "timeLimitSeconds": 5, "engine": "pyvrp",
}  # fmt: skip
PLANNED = {"data": {
    "routes": [{
        "vehicleId": VEHICLE, "driverId": None, "startDepotId": example_id(), "endDepotId": example_id(),
        "startTime": "08:30",
        "stops": [
            {"missionId": MISSION_A, "sequence": 1, "eta": "2026-11-26T05:42:00Z",
             "etd": "2026-11-26T05:47:00Z", "distanceFromPreviousMeters": 5400,
             "durationFromPreviousSeconds": 720},
            {"missionId": MISSION_B, "sequence": 2, "eta": "2026-11-26T05:58:00Z",
             "etd": "2026-11-26T06:03:00Z", "distanceFromPreviousMeters": 2600,
             "durationFromPreviousSeconds": 660},
        ],
        "totalDistanceMeters": 13100, "totalDurationSeconds": 3120,
        "load": {"weightKg": 14.5, "volumeM3": 0.2, "items": 3},
    }],
    "unassigned": [{"missionId": MISSION_C, "reason": "time_window"}],
    "creditsRequired": 2, "creditsRemaining": 198,
}}  # fmt: skip
PREVIEW = (
    "Runs the optimizer (`engine`: `pyvrp` by default, or `ortools`) with vehicle capacities in weight, "
    "volume and items; mission time windows and service durations; driver shifts; depot opening hours; "
    "start and end depots; priorities (lower ones left out first), for at most `timeLimitSeconds` "
    "(small runs stop sooner) and answers the "
    "proposed routes with ETAs as saved routes would show them. Persists nothing and charges nothing; "
    "`creditsRequired` is what saving the plan would consume (missions never charged before). Each "
    "mission left out has a `reason`: `capacity` (no vehicle has room), `time_window` (no insertion "
    "meets the windows), `shift_length` (it would run past the driver's shift or the end depot's "
    "closing), `no_vehicle` (no vehicle to plan with). Depots: `startDepotId` defaults to the branch's "
    "oldest depot (when neither depot is given) and `endDepotId` to the start depot. Each vehicle starts "
    "at `startTime`, else the later of the start depot's opening and its driver's shift start, else 08:00; "
    "its driver is the one assigned to it that day (an active driver without another route that day)."
)

ENDPOINTS = [
    Endpoint("POST", "/routes/plan", Scope.WRITE, lambda uow, c: planning.plan(uow, c.body),
             summary="Preview route planning.", tag=TAG, body=PlanRoutes, returns=RoutePlanOut,
             example=PLAN, response_example=PLANNED,
             description=PREVIEW + " Defaults: every active vehicle of the branch without a route that day, "
             "and every unassigned mission of the branch and date. Named missions must be unassigned "
             "missions of the branch and date, named vehicles active vehicles of the branch "
             "(409 otherwise)."),
    Endpoint("POST", "/missions/plan-route", Scope.WRITE,
             lambda uow, c: planning.plan_mission_route(uow, c.body),
             summary="Preview mission route planning where supported.", tag="Missions",
             body=PlanMissionRoute, returns=RoutePlanOut,
             example={"missionIds": [MISSION_A, MISSION_B, MISSION_C], "vehicleId": None,
                      "startDepotId": None, "endDepotId": None, "startTime": "08:30", "timeLimitSeconds": 2},
             response_example=PLANNED,
             description="The best order of the given missions as one route, in the same shape as "
             "`POST /routes/plan` (`routes` holds at most one route). The missions must be of one branch and "
             "date and not finished (409 otherwise); any status is allowed, it is only a preview. With "
             "`vehicleId` its capacities and its driver's shift apply, else nothing limits the route. "
             + PREVIEW),
    Endpoint("POST", "/routes/auto-optimize", Scope.WRITE,
             lambda uow, c: jobs.start(uow, c.body, in_background=c.respond_async),
             async_location=optimization_jobs.LOCATION,
             summary="Auto-optimize routes and consume credits according to existing rules.", tag=TAG,
             body=PlanRoutes, returns=OptimizationJobOut, error_codes=(402,),
             emits=("route.created", "route.optimized", "mission.status_changed"),
             example=PLAN, response_example={"data": optimization_jobs.JOB},
             description="Plans as `POST /routes/plan` does, then saves each proposed route as "
             "`POST /routes` would (same checks, one credit per mission never charged before, "
             "`route.created` and `mission.status_changed` per mission), sets `optimizedAt` and emits "
             "`route.optimized`. Answers the optimization job. By default the run is done within the "
             "request (`200`, the job `succeeded` with `result: {routeIds, unassigned, creditsCharged}`); "
             "a shortage of credits is `402 insufficient_credits` with `details.required`/`remaining` and "
             "saves nothing. With `Prefer: respond-async` (RFC 7240) the job is queued for a worker: "
             "`202` with `Location: /api/v1/optimization-jobs/{id}` and `Preference-Applied: "
             "respond-async`; follow it there (or with the GraphQL subscription `optimizationJob`), "
             "cancel it with `POST /api/v1/optimization-jobs/{id}/cancel`. A queued job that fails "
             "records `error: {code, message, details}` (e.g. `insufficient_credits`) and saves nothing."),
]  # fmt: skip
