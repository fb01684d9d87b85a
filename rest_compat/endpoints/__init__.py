"""Every endpoint of the contract, one module per resource."""

from __future__ import annotations

from rest_compat.endpoints import auth, branches, depots, me, settings
from rest_compat.spec import Endpoint

ENDPOINTS: list[Endpoint] = [
    *me.ENDPOINTS,
    *branches.ENDPOINTS,
    *depots.ENDPOINTS,
    *settings.ENDPOINTS,
    *auth.ENDPOINTS,
]
