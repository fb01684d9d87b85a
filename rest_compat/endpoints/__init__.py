"""Every endpoint of the contract, one module per resource."""

from __future__ import annotations

from rest_compat.endpoints import (
    assignments,
    auth,
    branches,
    depots,
    drivers,
    events,
    me,
    missions,
    mobile_users,
    optimization_jobs,
    planning,
    reports,
    routes,
    settings,
    vehicles,
    webhooks,
)
from rest_compat.spec import Endpoint

ENDPOINTS: list[Endpoint] = [
    *me.ENDPOINTS,
    *branches.ENDPOINTS,
    *depots.ENDPOINTS,
    *vehicles.ENDPOINTS,
    *drivers.ENDPOINTS,
    *mobile_users.ENDPOINTS,
    *assignments.ENDPOINTS,
    *missions.ENDPOINTS,
    *routes.ENDPOINTS,
    *planning.ENDPOINTS,
    *optimization_jobs.ENDPOINTS,
    *reports.ENDPOINTS,
    *settings.ENDPOINTS,
    *webhooks.ENDPOINTS,
    *events.ENDPOINTS,
    *auth.ENDPOINTS,
]
