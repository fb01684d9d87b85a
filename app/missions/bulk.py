"""Bulk import: up to 1,000 missions in one request, each item succeeding or failing on its own.

Set-based on purpose: every item is validated in Python first, branches and existing externalIds
are read with one query each, and the missions, their history rows and their events are written
with one INSERT per table, each column bound as one array (`unnest`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from functools import cache
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import String, Table, Uuid, bindparam, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB

from app.branches.models import Branch
from app.core import jsonutil
from app.core.db import UnitOfWork
from app.core.envelope import validation_failed
from app.core.errors import Conflict, DomainError, PayloadTooLarge, ValidationFailed
from app.core.history import ChangeRecord
from app.core.models import utcnow
from app.core.outbox import WebhookEvent, announce, new_event_id
from app.missions import proof
from app.missions.models import Mission
from app.missions.schemas import (
    BULK_LIMIT,
    PROOF_COLUMNS,
    MissionBulkCreate,
    MissionCreate,
    MissionOut,
    ProofOut,
)

_MISSION_COLUMNS = [c.name for c in Mission.__table__.columns]  # type: ignore[attr-defined]
# Column defaults of a new mission that the create body does not carry.
_DEFAULTS = {
    "status": "unassigned", "route_id": None, "sequence": None, "eta": None, "etd": None,
    "distance_from_previous_meters": None, "duration_from_previous_seconds": None,
    "failure_reason": None, "credit_charged": False, "started_at": None, "finished_at": None,
    "proof_sms_status": "not_sent", "proof_sent_at": None, "proof_attempts": 0,
    "proof_max_attempts": 5, "proof_verified_at": None,
}  # fmt: skip


async def _existing(uow: UnitOfWork, external_ids: list[str]) -> dict[str, Any]:
    """{externalId: id} of the company's missions among `external_ids`. Joined against the array
    rather than `IN`/`= ANY`, which PostgreSQL may evaluate as a linear array search per row of the
    company when its statistics are stale (right after a large import): this stays index lookups."""
    if not external_ids:
        return {}
    rows = await uow.execute(_EXISTING, {"company_id": uow.company_id, "external_ids": external_ids})
    return dict(rows.all())


_EXISTING = text(
    "SELECT m.external_id, m.id FROM unnest(:external_ids) AS wanted(external_id) "
    "JOIN mission m ON m.company_id = :company_id AND m.external_id = wanted.external_id"
).bindparams(bindparam("external_ids", type_=postgresql.ARRAY(String)), bindparam("company_id", type_=Uuid))


def _creation(public: dict[str, Any]) -> list[dict[str, Any]]:
    """history.creation() for a snapshot that is already plain JSON (saves a JSON round trip per item)."""
    return [
        {"field": key, "from": None, "to": value}
        for key, value in public.items()
        if key not in ("id", "createdAt", "updatedAt") and value is not None
    ]


def _item_error(index: int, error: DomainError) -> dict[str, Any]:
    return {"index": index, "status": "error",
            "error": {"code": error.code, "message": error.message, "details": error.details}}  # fmt: skip


_ITEMS: TypeAdapter[list[MissionCreate]] = TypeAdapter(list[MissionCreate])
# (field, public name) of the mission's own fields and of its proof object, for `_public`.
_FIELDS = [(name, info.alias or name) for name, info in MissionOut.model_fields.items() if name != "proof"]
_PROOF = [(ProofOut.model_fields[name].alias or name, column) for name, column in PROOF_COLUMNS.items()]


def _public(rows: list[dict[str, Any]], codes: list[str | None]) -> list[dict[str, Any]]:
    """New missions as GET shows them (plus their codes), built straight from the inserted rows and
    made plain JSON in one pass: per-item model validation would cost more than the insert.
    MissionOut stays the reference; tests compare the two."""
    docs = []
    for row, code in zip(rows, codes, strict=True):
        proof = {alias: row[column] for alias, column in _PROOF}
        proof["proofed"] = row["proof_verified_at"] is not None
        if code is not None:
            proof["code"] = code
        docs.append({**{alias: row.get(name) for name, alias in _FIELDS}, "proof": proof})
    return jsonutil.loads(jsonutil.dumps(docs))  # type: ignore[no-any-return]


def _validate_all(items: list[Any]) -> list[MissionCreate] | None:
    """The whole batch in one pass when every item is valid (the common case), else None."""
    if not all(isinstance(item, dict) for item in items):
        return None
    try:
        return _ITEMS.validate_json(jsonutil.dumps(items))
    except ValidationError:
        return None


def _validate(raw: Any) -> MissionCreate:
    if not isinstance(raw, dict):
        raise ValidationFailed.field("body", "must be a JSON object")
    try:
        # JSON mode, as a single create parses its body: strict types, dates as strings.
        return MissionCreate.model_validate_json(jsonutil.dumps(raw))
    except ValidationError as exc:
        raise validation_failed(exc) from None


@cache
def _unnest_insert(table: Table, conflict: str | None) -> tuple[str, tuple[str, ...]]:
    """`INSERT .. SELECT FROM unnest($1::t1[], $2::t2[], ..)`: one array parameter per column, so a
    batch of any size is one short statement (a VALUES list would bind a parameter per cell)."""
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    columns = tuple(c.name for c in table.columns)
    casts = ", ".join(
        f"${n}::{c.type.compile(dialect=dialect)}[]" for n, c in enumerate(table.columns, start=1)
    )
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM unnest({casts})"
    if conflict:
        sql += f" ON CONFLICT ON CONSTRAINT {conflict} DO NOTHING RETURNING id"
    return sql, columns


async def _insert_rows(
    uow: UnitOfWork, table: Table, rows: Sequence[dict[str, Any]], conflict: str | None = None
) -> set[Any]:
    """Insert `rows` in one statement on the unit of work's own transaction; with `conflict`,
    rows clashing on that constraint are skipped and the ids of the inserted ones returned."""
    if not rows:
        return set()
    sql, columns = _unnest_insert(table, conflict)
    json_columns = {c.name for c in table.columns if isinstance(c.type, JSONB)}
    arrays = [
        [jsonutil.dumps(row[name]).decode() for row in rows]
        if name in json_columns
        else [row[name] for row in rows]
        for name in columns
    ]
    connection = await uow.driver_connection()
    if conflict:
        return {record[0] for record in await connection.fetch(sql, *arrays)}
    await connection.execute(sql, *arrays)
    return set()


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
    batch = _validate_all(items)
    if batch is not None:
        valid = dict(enumerate(batch))
    else:
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
    existing = await _existing(uow, external_ids)

    first_index: dict[str, int] = {}
    now, key = utcnow(), proof.hash_key()
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
                                mission.customer_phone or mission.customer_email, key))  # fmt: skip
        row["proof_attempts"] = 0
        rows[index] = {name: row[name] for name in _MISSION_COLUMNS}
        codes[index] = code

    inserted = await _insert_rows(uow, Mission.__table__, list(rows.values()), "uq_mission_external_id")  # type: ignore[arg-type]
    raced = [index for index, row in rows.items() if row["id"] not in inserted]
    if raced:
        # Another request took these externalIds between our read and our insert.
        taken = await _existing(uow, [rows[i]["external_id"] for i in raced])
        for index in raced:
            results[index] = _item_error(index, Conflict(
                "A mission with this externalId already exists.",
                {"field": "externalId",
                 "existingId": str(taken.get(rows.pop(index)["external_id"]))}))  # fmt: skip

    principal, source = uow.principal, uow.source.value
    history_rows, event_rows = [], []
    created = _public(list(rows.values()), [codes[index] for index in rows])
    for (index, row), public in zip(rows.items(), created, strict=True):
        results[index] = {"index": index, "status": "created", "data": public}
        snapshot = {**public, "proof": {k: v for k, v in public["proof"].items() if k != "code"}}
        history_rows.append({
            "id": uuid.uuid4(), "company_id": uow.company_id, "resource_type": "mission",
            "resource_id": row["id"], "action": "created", "source": source,
            "actor_type": principal.actor_type.value, "actor_id": principal.actor_id,
            "actor_name": principal.actor_name, "changes": _creation(snapshot), "at": now,
        })  # fmt: skip
        event_id = new_event_id()
        event_rows.append({
            "id": event_id, "company_id": uow.company_id, "type": "mission.created",
            "resource_type": "mission", "resource_id": row["id"], "created_at": now, "status": "pending",
            "payload": {"id": event_id, "type": "mission.created", "timestamp": jsonutil.iso_z(now),
                        "companyId": str(uow.company_id), "resourceType": "mission",
                        "resourceId": str(row["id"]), "data": snapshot},
        })  # fmt: skip
    await _insert_rows(uow, ChangeRecord.__table__, history_rows)  # type: ignore[arg-type]
    await _insert_rows(uow, WebhookEvent.__table__, event_rows)  # type: ignore[arg-type]
    announce(uow, [row["id"] for row in event_rows])
    return [r for r in results if r is not None]
