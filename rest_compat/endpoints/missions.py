from __future__ import annotations

from app.core.principal import Scope
from app.missions import bulk, export
from app.missions.schemas import (
    BULK_LIMIT,
    BulkResultOut,
    DistributionOut,
    DistributionQuery,
    ExportRowOut,
    HistoryEntryOut,
    HistoryQuery,
    MissionBulkCreate,
    MissionCreate,
    MissionExportQuery,
    MissionOut,
    MissionQuery,
    MissionReassign,
    MissionUpdate,
    ProofVerify,
)
from app.missions.service import mission_service as svc
from rest_compat.spec import Endpoint, example_id

TAG = "Missions"
BULK_MAX_BODY_BYTES = 10 * 1024 * 1024
EXAMPLE = {
    "externalId": "erp-order-1001",
    "branchId": example_id(),
    "type": "delivery",
    "date": "2026-11-27",
    "customerName": "Mehmet Demir",
    "customerPhone": "+905551112233",
    "customerEmail": "mehmet@example.com",
    "address": "Bagdat Cd. 120, Kadikoy, Istanbul",
    "latitude": 40.9681,
    "longitude": 29.0622,
    "timeWindowStart": "09:00",
    "timeWindowEnd": "12:00",
    "serviceDurationSeconds": 300,
    "priority": 1,
    "weightKg": 12.5,
    "volumeM3": 0.08,
    "items": 2,
    "notes": "Ring twice.",
    "proofRequired": True,
}
_PROOF = {"required": True, "sentTo": "+905551112233", "smsStatus": "not_sent", "sentAt": None,
          "expiresAt": "2026-11-28T21:00:00.000Z", "attempts": 0, "maxAttempts": 5, "verifiedAt": None,
          "proofed": False}  # fmt: skip
MISSION = {
    "id": example_id(), **EXAMPLE, "status": "unassigned", "routeId": None, "sequence": None,
    "driverId": None,
    "vehicleId": None, "eta": None, "etd": None, "failureReason": None, "proof": _PROOF,
    "createdAt": "2026-11-26T08:30:00.000Z", "updatedAt": "2026-11-26T08:30:00.000Z",
}  # fmt: skip
CREATED = {**MISSION, "proof": {**_PROOF, "code": "40917"}}
_ISSUE = "Input should be less than or equal to 90"
BULK_ANSWER = {"data": [
    {"index": 0, "status": "created", "data": CREATED},
    {"index": 1, "status": "error", "error": {
        "code": "validation_error", "message": f"latitude: {_ISSUE}",
        "details": [{"field": "latitude", "issue": _ISSUE}]}},
]}  # fmt: skip
EXPORT_ANSWER = {"data": [{
    "id": example_id(), "externalId": "erp-order-1001", "status": "scheduled",
    "routeName": "Route 1 2026-11-27",
    "sequence": 1, "driverName": "Ayse Yilmaz", "vehicleName": "Van 34"}]}  # fmt: skip

EXPORT_CSV_EXAMPLE = (
    ",".join(export.HEADER) + "\n"
    + ",".join({"id": example_id(), "externalId": "erp-order-1001", "status": "scheduled",
                "routeName": "Route 1 2026-11-27", "sequence": "1", "driverName": "Ayse Yilmaz",
                "vehicleName": "Van 34"}.get(name, "") for name in export.HEADER) + "\n"
)  # fmt: skip

LIST_DOC = (
    "Filters combine with AND; `status` may be repeated (`?status=scheduled&status=in_progress`) to "
    "match any of them. `driverId` matches missions on that driver's routes."
)
PATCH_DOC = (
    "Partial update. `status` may make the moves an integrator reports: `in_progress`, `delivered`, "
    "`failed` (with `failureReason`), `cancelled`, and `failed` -> `unassigned`. `scheduled` and taking a "
    "scheduled mission off its route belong to routes and reassign, `proofed` to proof verification: "
    "asking PATCH for them is 409 `conflict` with `details.useEndpoint`; any other move outside the "
    "status machine is 409 with `details.allowedMoves`. Sending the current status again changes "
    "nothing. Field changes come first, then the move. A finished mission (`proofed`, `failed`, "
    "`cancelled`, or `delivered` without proof) only accepts `externalId` and `notes` (409 otherwise); "
    "a mission on a route keeps its `branchId` and `date` (409: reassign it off the route first); "
    "moving a stop's coordinates, time window or service time recomputes its route's ETAs."
)
DELETE_DOC = (
    "Refused with 409 `conflict` while the mission is `in_progress`. A mission on a route leaves it "
    "first (the route's ETAs are recomputed); one that was charged but never started gets its credit "
    "back, as a cancellation would. `mission.deleted` carries the mission as it was."
)
BULK_DOC = (
    f"Creates up to {BULK_LIMIT} missions (more is 413 `payload_too_large` with `details.limit`; the body "
    f"limit of this endpoint is {BULK_MAX_BODY_BYTES // 1024 // 1024} MiB). Each item is validated and "
    "created on its own: the answer is 200 with one result per item, in input order, either "
    '`{"index", "status": "created", "data": <mission with proof.code>}` or `{"index", "status": '
    '"error", "error": {"code", "message", "details"}}`. Validation details name fields relative to '
    "the item. An `externalId` that already exists is a `conflict` with `details.existingId`; one "
    "repeated inside the batch fails from its second occurrence with `details.duplicateOfIndex`. The "
    "whole batch is one request for Idempotency-Key purposes."
)
VERIFY_DOC = (
    "Checks the customer's 5-digit code. Only `in_progress` and `delivered` missions that need proof "
    "can be proofed (409 `conflict` otherwise). An expired code is 422 `proof_code_expired`; after 5 "
    "wrong codes, 422 `proof_attempts_exhausted` (regenerate the code through GraphQL). A wrong code "
    "is 422 `invalid_proof_code` with `details.attemptsRemaining` and spends an attempt even though the "
    "request fails; refusals for status, expiry or exhaustion spend none. Every check is in the "
    "history as a `proof_attempt` (never with the code). Success makes the mission `proofed` (an "
    "`in_progress` one passes through `delivered` first), emitting `mission.status_changed`. A replay "
    "with the same Idempotency-Key returns the stored answer and spends no attempt. A mission that "
    "needs no proof, or was switched to `proofRequired` after creation (no code was made; regenerate "
    "one), is 409."
)
REASSIGN_DOC = (
    "Moves an `unassigned` or `scheduled` mission onto a route at `position` (1-based, default last) or, "
    "with `routeId: null`, off its route (it becomes `unassigned`; an unassigned one is a 200 no-op). "
    "Both routes' sequences and ETAs are recomputed (`route.reordered` for each). The first scheduling "
    "of a mission charges one credit (402 `insufficient_credits` changes nothing); moving between routes "
    "does not. A route of another branch or date, or a completed route, is 409; a route that is not "
    "yours is 422 on `routeId`. Other statuses are 409."
)
HISTORY_DOC = (
    "Newest first. `action` is `created`, `updated`, `status_changed`, `proof_attempt`, `reassigned` "
    "or `deleted`; `actor.type` is `user`, `token`, `driver` or `system`; `source` is the surface "
    "(`api`, `graphql`, `mobile`, `system`). Proof attempts record their outcome in `changes` "
    "(`proofResult`), never the code."
)
DISTRIBUTION_DOC = (
    "One branch's day for a dispatch map: each route of that date (summary, driver, vehicle) with its "
    "missions in stop order, plus the day's `unassigned` missions. Both parameters are required."
)
EXPORT_DOC = (
    "All missions matching the list's filters (no pagination), streamed. JSON by default: "
    '`{"data": [row, ...]}`; CSV with `Accept: text/csv` or `?format=csv`: a header row, then one row per '
    "mission. Both carry the same columns: the mission's fields (the proof flattened to `proofRequired` "
    "and `proofedAt`), plus `routeName`, `sequence`, `driverName`, `vehicleName`. In CSV, null is an "
    "empty cell and booleans are `true`/`false`. Rows are ordered by `createdAt`, then `id`."
)

ENDPOINTS = [
    Endpoint("GET", "/missions", Scope.READ, lambda uow, c: svc.list(uow, c.query),
             summary="List missions.", tag=TAG, query=MissionQuery, returns=MissionOut, many=True,
             description=LIST_DOC, response_example={"data": [MISSION], "pagination": {
                 "limit": 50, "nextCursor": None, "hasMore": False}}),
    Endpoint("POST", "/missions", Scope.WRITE, lambda uow, c: svc.create(uow, c.body),
             summary="Create a mission.", tag=TAG, body=MissionCreate, returns=MissionOut, status=201,
             emits=("mission.created",), example=EXAMPLE, response_example={"data": CREATED},
             description="A new mission is `unassigned`. When `proofRequired` (the default), a 5-digit "
             "proof code is made and shown once, here, as `proof.code`; it expires at the end of the day "
             "after `date` in the branch's time zone."),
    Endpoint("POST", "/missions/bulk", Scope.WRITE, lambda uow, c: bulk.bulk_create(uow, c.body),
             summary="Create multiple missions.", tag=TAG, body=MissionBulkCreate, returns=BulkResultOut,
             emits=("mission.created",), example={"missions": [EXAMPLE, {**EXAMPLE, "externalId": None,
                                                                          "latitude": 123}]},
             response_example=BULK_ANSWER, max_body_bytes=BULK_MAX_BODY_BYTES, description=BULK_DOC),
    Endpoint("GET", "/missions/distribution-view", Scope.READ, lambda uow, c: svc.distribution(uow, c.query),
             summary="Read distribution-ready mission data.", tag=TAG, query=DistributionQuery,
             returns=DistributionOut, description=DISTRIBUTION_DOC),
    Endpoint("GET", "/missions/export", Scope.READ, lambda uow, c: export.stream(uow, c.query, c.accept),
             summary="Read export-style mission data.", tag=TAG, query=MissionExportQuery, raw_response=True,
             returns=ExportRowOut,
             description=EXPORT_DOC, response_example=EXPORT_ANSWER,
             alternative_media={"text/csv": EXPORT_CSV_EXAMPLE}),
    Endpoint("GET", "/missions/{id}", Scope.READ, lambda uow, c: c.record, loads=svc.get,
             summary="Get a mission.", tag=TAG, returns=MissionOut, response_example={"data": MISSION}),
    Endpoint("GET", "/missions/{id}/history-changes", Scope.READ,
             lambda uow, c: svc.history(uow, c.record, c.query), loads=svc.get,
             summary="Read mission history changes.", tag=TAG, query=HistoryQuery, returns=HistoryEntryOut,
             many=True, description=HISTORY_DOC, response_example={"data": [{
                 "id": example_id(), "at": "2026-11-26T08:31:00.000Z", "action": "status_changed",
                 "source": "api", "actor": {"type": "token", "id": example_id(), "name": "ERP"},
                 "changes": [{"field": "status", "from": "scheduled", "to": "in_progress"}]}],
                 "pagination": {"limit": 50, "nextCursor": None, "hasMore": False}}),
    Endpoint("PATCH", "/missions/{id}", Scope.WRITE, lambda uow, c: svc.update(uow, c.record, c.body),
             loads=svc.get, summary="Update a mission.", tag=TAG, body=MissionUpdate, returns=MissionOut,
             emits=("mission.updated", "mission.status_changed"), example={"status": "failed",
                                                                          "failureReason": "Customer absent"},
             response_example={"data": {**MISSION, "status": "failed", "failureReason": "Customer absent"}},
             description=PATCH_DOC),
    Endpoint("POST", "/missions/{id}/reassign", Scope.WRITE,
             lambda uow, c: svc.reassign(uow, c.record, c.body),
             loads=svc.get, summary="Reassign a mission.", tag=TAG, body=MissionReassign, returns=MissionOut,
             emits=("mission.updated", "mission.status_changed", "route.reordered"),
             example={"routeId": example_id(), "position": 2},
             response_example={"data": {**MISSION, "status": "scheduled", "routeId": example_id(),
                                         "sequence": 2}},
             error_codes=(402,), description=REASSIGN_DOC),
    Endpoint("POST", "/missions/{id}/proof-of-delivery/verify", Scope.WRITE,
             lambda uow, c: svc.verify_proof(uow, c.record, c.body.code), loads=svc.get,
             summary="Verify proof of delivery where rules allow it.", tag=TAG, body=ProofVerify,
             returns=MissionOut, emits=("mission.status_changed",), example={"code": "40917"},
             response_example={"data": {**MISSION, "status": "proofed", "proof": {
                 **_PROOF, "attempts": 1, "verifiedAt": "2026-11-27T10:02:00.000Z", "proofed": True}}},
             description=VERIFY_DOC),
    Endpoint("DELETE", "/missions/{id}", Scope.WRITE, lambda uow, c: svc.delete(uow, c.record),
             loads=svc.get, summary="Delete a mission.", tag=TAG, status=204, emits=("mission.deleted",),
             description=DELETE_DOC),
]  # fmt: skip
