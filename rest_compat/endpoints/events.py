"""The events feed: what webhooks deliver, to pull (declarations only)."""

from __future__ import annotations

from app.core.principal import Scope
from app.webhooks import feed
from app.webhooks.feed import EventQuery
from rest_compat.spec import Endpoint, example_id

TAG = "Events"
MISSION = "5f0c1f7e-8d4b-4a53-9a43-1c2b3d4e5f60"
EVENT = {
    "id": "evt_0193a5e07c1d7e2f8a3b4c5d6e7f8090", "type": "mission.status_changed",
    "timestamp": "2026-11-26T08:30:00Z", "companyId": example_id(), "resourceType": "mission",
    "resourceId": MISSION,
    "data": {"id": MISSION, "status": "delivered", "previousStatus": "in_progress"},
}  # fmt: skip
PAGE = {"data": [EVENT], "pagination": {"limit": 50, "nextCursor": None, "hasMore": False}}

ENDPOINTS = [
    Endpoint("GET", "/events", Scope.READ, lambda uow, c: feed.list_events(uow, c.query),
             summary="Read the events feed.", tag=TAG, query=EventQuery, many=True,
             response_example=PAGE,
             description="Your company's events of the last 30 days, oldest first, each exactly the body a "
             "webhook delivers. Page with `after=<the last id you read>` (`pagination.nextCursor` is that id "
             "when more follow); narrow with `types` (repeatable). An event is listed a few seconds after it "
             "happens (EVENTS_FEED_SETTLE_SECONDS, default 5): long enough for every transaction that wrote "
             "an earlier event to commit, so paging with `after` never skips one. For integrators who pull "
             "instead of receiving webhooks, or who catch up after an outage."),
    Endpoint("GET", "/events/{id}", Scope.READ, lambda uow, c: feed.get_event(uow, c.path["id"]),
             summary="Read one event.", tag=TAG, response_example={"data": EVENT},
             description="The event exactly as webhooks deliver it; 404 once it is older than 30 days."),
]  # fmt: skip
