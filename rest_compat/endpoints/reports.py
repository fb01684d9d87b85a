from __future__ import annotations

from app.core.principal import Scope
from app.dashboard.schemas import ActivityOut, ActivityQuery, ChartsOut, ChartsQuery, StatsOut, StatsQuery
from app.dashboard.service import dashboard_service as dashboard
from app.reports.schemas import MAX_RANGE_DAYS, OverviewOut, ReportDetailsQuery, ReportQuery, ReportRow
from app.reports.service import report_service as reports
from rest_compat.spec import Endpoint, example_id

REPORTS, DASHBOARD = "Reports", "Dashboard"
BRANCH = example_id()
ID_A, ID_B = "5f0c1f7e-8d4b-4a53-9a43-1c2b3d4e5f60", "7a1d2e3f-4b5c-4d6e-8f70-8192a3b4c5d6"
MISSIONS = {"unassigned": 2, "scheduled": 3, "inProgress": 1, "delivered": 9, "proofed": 21, "failed": 2,
            "cancelled": 1}  # fmt: skip
ROUTES = {"planned": 0, "assigned": 1, "inProgress": 1, "completed": 4}
DAY = {"date": "2026-11-26", "missions": 39, "delivered": 30, "failed": 2, "cancelled": 1, "onTime": 25,
       "routes": 6, "distanceMeters": 182400, "durationSeconds": 61200}  # fmt: skip
OVERVIEW = {"data": {
    "period": {"dateFrom": "2026-11-26", "dateTo": "2026-11-26", "days": 1, "branchId": BRANCH},
    "missions": {"total": 39, "byStatus": MISSIONS, "delivered": 30, "completionRate": 0.9375},
    "onTime": {"evaluated": 28, "onTime": 25, "early": 1, "late": 2, "withoutWindow": 2, "rate": 0.8929},
    "failures": {"total": 2, "reasons": [{"reason": "customer absent", "count": 2}]},
    "proof": {"required": 27, "proofed": 21, "pending": 6, "rate": 0.7778},
    "routes": {"total": 6, "byStatus": ROUTES, "completed": 4, "totalDistanceMeters": 182400,
               "totalDurationSeconds": 61200},
    "credits": {"consumed": 37, "refunded": 1, "net": 36},
    "daily": [DAY],
}}  # fmt: skip
DRIVER_ROW = {
    "driverId": ID_A, "name": "Ayse Kaya", "branchId": BRANCH, "status": "active", "routes": 1,
    "completedRoutes": 1, "missions": 8, "delivered": 7, "failed": 1, "onTime": 6, "evaluated": 7,
    "onTimeRate": 0.8571, "distanceMeters": 31200, "durationSeconds": 10800,
}  # fmt: skip
PAGE = {"limit": 50, "nextCursor": None, "hasMore": False}
STATS = {"data": {
    "date": "2026-11-26", "branchId": None, "missions": MISSIONS, "missionsTotal": 39, "routes": ROUTES,
    "routesTotal": 6, "drivers": {"total": 9, "active": 8, "onRoute": 6},
    "vehicles": {"total": 7, "active": 7, "onRoute": 6}, "creditsRemaining": 163,
}}  # fmt: skip
ACTIVITY = {"data": [{
    "id": ID_B, "at": "2026-11-26T09:12:30Z", "resourceType": "mission", "resourceId": ID_A,
    "action": "status_changed", "source": "mobile", "actor": {"type": "driver", "id": example_id(),
    "name": "Ayse Kaya"}, "changes": [{"field": "status", "from": "in_progress", "to": "delivered"}],
}], "pagination": PAGE}  # fmt: skip
CHARTS = {"data": {
    "dateFrom": "2026-11-20", "dateTo": "2026-11-26", "branchId": None,
    "missionsPerDay": [{"date": "2026-11-26", "total": 39, **MISSIONS}],
    "deliveriesPerHour": [{"hour": h, "delivered": 3 if 9 <= h <= 17 else 0} for h in range(24)],
    "distancePerDay": [
        {"date": "2026-11-26", "routes": 6, "distanceMeters": 182400, "durationSeconds": 61200},
    ],
}}  # fmt: skip

PERIOD = (
    f"The period is `dateFrom`..`dateTo` (inclusive, at most {MAX_RANGE_DAYS} days, else 422 on `dateTo`) "
    "over mission and route dates; `branchId` must name a branch of the company (422 otherwise). "
)

ENDPOINTS = [
    Endpoint("GET", "/reports/overview", Scope.READ, lambda uow, c: reports.overview(uow, c.query),
             summary="Read report overview data.", tag=REPORTS, query=ReportQuery, returns=OverviewOut,
             response_example=OVERVIEW,
             description=PERIOD + "Missions count by their current status. `missions.delivered` is "
             "delivered + proofed; `completionRate` = delivered / (delivered + failed). `onTime`: a "
             "delivered or proofed mission with a time window is on time when it finished (its delivery, "
             "or its proof when it was proofed straight from in_progress) inside the window, in its "
             "branch's local time; before the start is `early`, after the end `late`; missions without a "
             "window are `withoutWindow` and not rated. `failures.reasons`: the 20 most frequent reasons "
             "of missions now failed (full list: details/failures). `proof`: delivered or proofed missions "
             "that need proof, and how many are proofed. `routes`: routes dated in the period and their "
             "planned distance/duration. `credits`: ledger movements of the period's missions (consumed "
             "when first scheduled, refunded on cancellation before start). `daily` has every day of the "
             "period, zeros included. Rates are 0..1 with four decimals, null when their denominator is 0."),
    Endpoint("GET", "/reports/details/{section}", Scope.READ,
             lambda uow, c: reports.details(uow, c.path["section"], c.query),
             summary="Read report details for a supported section.", tag=REPORTS, query=ReportDetailsQuery,
             returns=ReportRow, many=True, error_codes=(404,),
             response_example={"data": [DRIVER_ROW], "pagination": PAGE},
             description=PERIOD + "`section` is one of `missions`, `routes`, `drivers`, `vehicles`, "
             "`failures`, `proof` (anything else: 404 `not_found`). Rows page by `limit`/`cursor`, ordered "
             "by the record's `createdAt` then `id`. `missions`: the period's missions with `onTime` (null "
             "when not delivered or without a window). `routes`: the period's routes with stop, delivered "
             "and failed counts. `drivers`: every driver (of the branch) with the period's routes, planned "
             "distance and duration, missions now on those routes, delivered, failed and on-time figures. "
             "`vehicles`: every vehicle with its routes, distance, carried load and utilisation (mean over "
             "its routes of route load / capacity; null for an unlimited capacity). `failures`: missions "
             "now failed with their reason. `proof`: delivered or proofed missions that need proof."),
    Endpoint("GET", "/dashboard/stats", Scope.READ, lambda uow, c: dashboard.stats(uow, c.query),
             summary="Read dashboard statistics.", tag=DASHBOARD, query=StatsQuery, returns=StatsOut,
             response_example=STATS,
             description="Counters of one day: `date`, else today in the branch's time zone (company-wide: "
             "in the zone all branches share, else UTC). Missions and routes of that date by status, "
             "drivers and vehicles (total, active, on a route that day) and the company's remaining "
             "credits."),
    Endpoint("GET", "/dashboard/recent-activity", Scope.READ,
             lambda uow, c: dashboard.recent_activity(uow, c.query),
             summary="Read recent dashboard activity.", tag=DASHBOARD, query=ActivityQuery,
             returns=ActivityOut, many=True, response_example=ACTIVITY,
             description="The company's change history (creates, updates, status moves, reassignments, "
             "proof attempts, deletes of every record kind), newest first, paged by `cursor`; "
             "`resourceType` narrows it to one kind. Entries are shaped like a mission's history-changes "
             "plus `resourceType` and `resourceId`."),
    Endpoint("GET", "/dashboard/charts", Scope.READ, lambda uow, c: dashboard.charts(uow, c.query),
             summary="Read dashboard chart data.", tag=DASHBOARD, query=ChartsQuery, returns=ChartsOut,
             response_example=CHARTS,
             description="Series over `dateFrom`..`dateTo` (at most 366 days) or the last `days` days "
             "(7..90, default 7) up to today (as in stats); giving both is 422. `missionsPerDay`: missions "
             "per date by current status; `deliveriesPerHour`: delivered or proofed missions by the "
             "branch-local hour they finished (24 buckets); `distancePerDay`: routes and their planned "
             "distance/duration per date. Daily series include every day, zeros too."),
]  # fmt: skip
