"""Bulk import: up to 1,000 missions in one request, each item succeeding or failing on its own.

Set-based on purpose: every item is validated in Python first, branches and existing externalIds
are read with one query each, and the missions, their history rows and their events are written
with one multi-row INSERT per table (split only where PostgreSQL's 32,767 bind-parameter limit
forces it)."""

from __future__ import annotations

import types
import uuid
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Table, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from app.branches.models import Branch
from app.core import history, jsonutil
from app.core.db import UnitOfWork
from app.core.envelope import validation_failed
from app.core.errors import Conflict, DomainError, PayloadTooLarge, ValidationFailed
from app.core.history import ChangeRecord
from app.core.models import utcnow
from app.core.outbox import WebhookEvent, new_event_id
from app.missions import proof
from app.missions.models import Mission
from app.missions.schemas import BULK_LIMIT, MissionBulkCreate, MissionCreate, MissionOut

_PARAMETER_LIMIT = 32_000
_MISSION_COLUMNS = [c.name for c in Mission.__table__.columns]  # type: ignore[attr-defined]
# Column defaults of a new mission that the create body does not carry.
_DEFAULTS = {
    "status": "unassigned", "route_id": None, "sequence": None, "eta": None, "etd": None,
    "distance_from_previous_meters": None, "duration_from_previous_seconds": None,
    "failure_reason": None, "credit_charged": False, "started_at": None, "finished_at": None,
    "proof_sms_status": "not_sent", "proof_sent_at": None, "proof_attempts": 0,
    "proof_max_attempts": 5, "proof_verified_at": None,
}  # fmt: skip


def _item_error(index: int, error: DomainError) -> dict[str, Any]:
    return {"index": index, "status": "error",
            "error": {"code": error.code, "message": error.message, "details": error.details}}  # fmt: skip


def _validate(raw: Any) -> MissionCreate:
    if not isinstance(raw, dict):
        raise ValidationFailed.field("body", "must be a JSON object")
    try:
        # JSON mode, as a single create parses its body: strict types, dates as strings.
        return MissionCreate.model_validate_json(jsonutil.dumps(raw))
    except ValidationError as exc:
        raise validation_failed(exc) from None


async def _insert_rows(
    uow: UnitOfWork, table: Table, rows: Sequence[dict[str, Any]], returning: Any = None
) -> list[Any]:
    if not rows:
        return []
    size = max(1, _PARAMETER_LIMIT // len(rows[0]))
    found: list[Any] = []
    for start in range(0, len(rows), size):
        statement: Any = (pg_insert(table) if returning is not None else insert(table)).values(
            list(rows[start : start + size])
        )
        if returning is not None:
            statement = statement.on_conflict_do_nothing(constraint="uq_mission_external_id").returning(
                returning
            )
            found.extend((await uow.execute(statement)).scalars().all())
        else:
            await uow.execute(statement)
    return found


async def bulk_create(uow: UnitOfWork, body: MissionBulkCreate) -> list[dict[str, Any]]:
    """Create the valid items; answer one result per item, in input order."""
    items = body.missions
    if len(items) > BULK_LIMIT:
        raise PayloadTooLarge(
            f"A bulk request takes at most {BULK_LIMIT} missions; split the batch.",
            {"limit": BULK_LIMIT, "received": len(items)},
        )
    results: list[dict[str, Any] | None] = [None] * len(items)
    valid: dict[int, MissionCreate] = {}
    for index, raw in enumerate(items):
        try:
            valid[index] = _validate(raw)
        except DomainError as error:
            results[index] = _item_error(index, error)

    branch_ids = list({m.branch_id for m in valid.values()})
    zones = dict(
        (await uow.execute(
            select(Branch.id, Branch.timezone)
            .where(Branch.company_id == uow.company_id, Branch.id.in_(branch_ids))
        )).all()
    ) if branch_ids else {}  # fmt: skip
    external_ids = list({m.external_id for m in valid.values() if m.external_id is not None})
    existing = dict(
        (await uow.execute(
            select(Mission.external_id, Mission.id)
            .where(Mission.company_id == uow.company_id, Mission.external_id.in_(external_ids))
        )).all()
    ) if external_ids else {}  # fmt: skip

    first_index: dict[str, int] = {}
    now = utcnow()
    rows: dict[int, dict[str, Any]] = {}
    codes: dict[int, str | None] = {}
    for index, mission in valid.items():
        error: DomainError | None = None
        if mission.branch_id not in zones:
            error = ValidationFailed.field("branchId", "does not name a record of your company")
        elif mission.external_id is not None and mission.external_id in existing:
            error = Conflict("A mission with this externalId already exists.",
                             {"field": "externalId",
                              "existingId": str(existing[mission.external_id])})  # fmt: skip
        elif mission.external_id is not None and mission.external_id in first_index:
            error = Conflict("This externalId is repeated earlier in the batch.",
                             {"field": "externalId",
                              "duplicateOfIndex": first_index[mission.external_id]})  # fmt: skip
        if error is not None:
            results[index] = _item_error(index, error)
            continue
        if mission.external_id is not None:
            first_index[mission.external_id] = index
        mission_id = uuid.uuid4()
        code = proof.new_code() if mission.proof_required else None
        row = {**_DEFAULTS, **mission.model_dump(), "id": mission_id, "company_id": uow.company_id,
               "created_at": now, "updated_at": now}  # fmt: skip
        row.update(proof.fields(mission_id, code, mission.date, zones[mission.branch_id],
                                mission.customer_phone or mission.customer_email))  # fmt: skip
        row["proof_attempts"] = 0
        rows[index] = {name: row[name] for name in _MISSION_COLUMNS}
        codes[index] = code

    inserted = set(await _insert_rows(uow, Mission.__table__, list(rows.values()), Mission.id))  # type: ignore[arg-type]
    raced = [index for index, row in rows.items() if row["id"] not in inserted]
    if raced:
        # Another request took these externalIds between our read and our insert.
        taken = dict((await uow.execute(
            select(Mission.external_id, Mission.id).where(
                Mission.company_id == uow.company_id,
                Mission.external_id.in_([rows[i]["external_id"] for i in raced]))
        )).all())  # fmt: skip
        for index in raced:
            results[index] = _item_error(index, Conflict(
                "A mission with this externalId already exists.",
                {"field": "externalId",
                 "existingId": str(taken.get(rows.pop(index)["external_id"]))}))  # fmt: skip

    principal, source = uow.principal, uow.source.value
    history_rows, event_rows = [], []
    for index, row in rows.items():
        view = types.SimpleNamespace(**row, driver_id=None, vehicle_id=None)
        public = MissionOut.from_record(view).public()
        results[index] = {"index": index, "status": "created",
                          "data": {**public, "proof": {**public["proof"], "code": codes[index]}}
                          if codes[index] else public}  # fmt: skip
        history_rows.append({
            "id": uuid.uuid4(), "company_id": uow.company_id, "resource_type": "mission",
            "resource_id": row["id"], "action": "created", "source": source,
            "actor_type": principal.actor_type.value, "actor_id": principal.actor_id,
            "actor_name": principal.actor_name, "changes": history.creation(public), "at": now,
        })  # fmt: skip
        event_id = new_event_id()
        event_rows.append({
            "id": event_id, "company_id": uow.company_id, "type": "mission.created",
            "resource_type": "mission", "resource_id": row["id"], "created_at": now, "status": "pending",
            "payload": {"id": event_id, "type": "mission.created", "timestamp": jsonutil.iso_z(now),
                        "companyId": str(uow.company_id), "resourceType": "mission",
                        "resourceId": str(row["id"]), "data": jsonutil.loads(jsonutil.dumps(public))},
        })  # fmt: skip
    await _insert_rows(uow, ChangeRecord.__table__, history_rows)  # type: ignore[arg-type]
    await _insert_rows(uow, WebhookEvent.__table__, event_rows)  # type: ignore[arg-type]
    return [r for r in results if r is not None]
