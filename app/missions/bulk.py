"""Bulk import: up to 1,000 missions in one request, each item succeeding or failing on its own.

Set-based on purpose: every item is validated in Python while one query looks up the branches and
existing externalIds the batch names, then one statement per chunk of missions writes them with
their history entries and events (`bulk_rows.import_statement`)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from pydantic import TypeAdapter, ValidationError

from app.core import jsonutil
from app.core.clock import utcnow
from app.core.db import UnitOfWork
from app.core.envelope import validation_failed
from app.core.errors import Conflict, DomainError, PayloadTooLarge, ValidationFailed
from app.core.outbox import announce, new_event_id
from app.core.pipeline import StatementPipeline
from app.missions import bulk_rows
from app.missions.schemas import BULK_LIMIT, MissionBulkCreate, MissionCreate

# Missions per statement: small enough that a chunk's arguments go out in one socket write.
_CHUNK = 100


_ITEMS: TypeAdapter[list[MissionCreate]] = TypeAdapter(list[MissionCreate])


async def bulk_create(uow: UnitOfWork, body: MissionBulkCreate) -> list[dict[str, Any]]:
    """Create the valid items; answer one result per item, in input order. A created item's `data`
    is already serialised (an `orjson.Fragment`), as it was for the history and the event."""
    items = body.missions
    if len(items) > BULK_LIMIT:
        raise PayloadTooLarge(
            f"A bulk request takes at most {BULK_LIMIT} missions; split the batch.",
            {"limit": BULK_LIMIT, "received": len(items)},
        )
    results: list[dict[str, Any] | None] = [None] * len(items)
    connection = await uow.driver_connection()
    accepted, zones = await _accept(uow, connection, items, results)
    rows, event_ids, inserted = await _write(uow, connection, accepted, zones, results)
    raced = [index for index, row in rows.items() if row["id"] not in inserted]
    if raced:
        # Another request took these externalIds between our look-up and our insert.
        taken = {rows[index]["external_id"] for index in raced}
        _, existing = await _look_up(connection, uow.company_id, set(), taken)
        for index in raced:
            results[index] = _item_error(index, _already_exists(existing.get(rows[index]["external_id"])))
    announce(uow, [event_ids[index] for index, row in rows.items() if row["id"] in inserted])
    return [r for r in results if r is not None]


async def _accept(
    uow: UnitOfWork, connection: Any, items: list[Any], results: list[dict[str, Any] | None]
) -> tuple[list[tuple[int, MissionCreate]], dict[Any, str]]:
    """The items that can be created, in the order to insert them, and their branches' time zones.
    Every other item gets its error in `results`."""
    # The branches and externalIds the items name are looked up while the items are validated.
    branch_ids, external_ids = _named(items)
    async with StatementPipeline(connection, _LOOKUP) as lookup:
        await lookup.send(uow.company_id, list(branch_ids), list(external_ids))
        valid = _validate_items(items, results)
    zones, existing = _references(lookup.records)
    # Validation may have normalised what was looked up: look up what it changed, exactly.
    branches_left = {m.branch_id for m in valid.values()} - branch_ids
    external_ids_left = {m.external_id for m in valid.values() if m.external_id is not None} - external_ids
    if branches_left or external_ids_left:
        more_zones, more_existing = await _look_up(
            connection, uow.company_id, branches_left, external_ids_left
        )
        zones.update(more_zones)
        existing.update(more_existing)
    first_index: dict[str, int] = {}
    accepted: list[tuple[int, MissionCreate]] = []
    for index, mission in valid.items():
        refusal = _refusal(mission, zones, existing, first_index)
        if refusal is not None:
            results[index] = _item_error(index, refusal)
        else:
            if mission.external_id is not None:
                first_index[mission.external_id] = index
            accepted.append((index, mission))
    # Inserted in externalId order: two imports naming the same externalIds then wait on each
    # other in one order instead of deadlocking. Results stay keyed by index.
    accepted.sort(key=lambda item: (item[1].external_id is None, item[1].external_id or ""))
    return accepted, zones


async def _write(
    uow: UnitOfWork,
    connection: Any,
    accepted: list[tuple[int, MissionCreate]],
    zones: dict[Any, str],
    results: list[dict[str, Any] | None],
) -> tuple[dict[int, dict[str, Any]], dict[int, str], set[Any]]:
    """Insert the accepted missions with their history entries and events, answering each in
    `results`: ({index: row}, {index: event id}, the ids actually inserted). Written in chunks,
    each sent before the next is prepared: PostgreSQL writes one chunk while Python prepares the
    next, and the event loop gets a turn between chunks."""
    now = utcnow()
    shared = {**bulk_rows.SHARED, "company_id": uow.company_id, "created_at": now, "updated_at": now}
    prepare = bulk_rows.Preparation(zones, shared, len(accepted))
    rows: dict[int, dict[str, Any]] = {}
    event_ids: dict[int, str] = {}
    async with StatementPipeline(connection, bulk_rows.import_statement()) as pipeline:
        for start in range(0, len(accepted), _CHUNK):
            chunk = accepted[start : start + _CHUNK]
            snapshots = prepare(chunk, rows, results)
            ids = [new_event_id() for _ in chunk]
            event_ids.update(zip((index for index, _ in chunk), ids, strict=True))
            await pipeline.send(
                *bulk_rows.arguments(uow, [rows[i] for i, _ in chunk], shared, snapshots, ids)
            )
    return rows, event_ids, {record[0] for record in pipeline.records}


def _item_error(index: int, error: DomainError) -> dict[str, Any]:
    return {"index": index, "status": "error",
            "error": {"code": error.code, "message": error.message, "details": error.details}}  # fmt: skip


def _refusal(
    mission: MissionCreate, zones: dict[Any, str], existing: dict[str, Any], first_index: dict[str, int]
) -> DomainError | None:
    if mission.branch_id not in zones:
        return ValidationFailed.field("branchId", "does not name a record of your company")
    if mission.external_id is not None and mission.external_id in existing:
        return _already_exists(existing[mission.external_id])
    if mission.external_id is not None and mission.external_id in first_index:
        return Conflict(
            "This externalId is repeated earlier in the batch.",
            {"field": "externalId", "duplicateOfIndex": first_index[mission.external_id]},
        )
    return None


def _already_exists(existing_id: Any) -> Conflict:
    # Without an id when the mission that took it is already gone again (deleted since).
    details = {"field": "externalId"} | ({"existingId": str(existing_id)} if existing_id else {})
    return Conflict("A mission with this externalId already exists.", details)


def _validate_all(items: list[Any]) -> list[MissionCreate] | None:
    """The whole batch in one pass when every item is valid (the common case), else None."""
    if not all(isinstance(item, dict) for item in items):
        return None
    try:
        return _ITEMS.validate_json(_as_json(items))
    except ValidationError:
        return None


def _as_json(value: Any) -> bytes:
    """Parsed JSON back to text. JSON numbers have no size limit and orjson's integers stop at 64
    bits: such a number (too large for every field) is written by the standard library instead,
    so validation refuses it on its field."""
    try:
        return jsonutil.dumps(value)
    except TypeError:
        return json.dumps(value).encode()


def _validate(raw: Any) -> MissionCreate:
    if not isinstance(raw, dict):
        raise ValidationFailed.field("body", "must be a JSON object")
    try:
        # JSON mode, as a single create parses its body: strict types, dates as strings.
        return MissionCreate.model_validate_json(_as_json(raw))
    except ValidationError as exc:
        raise validation_failed(exc) from None


def _validate_items(items: list[Any], results: list[dict[str, Any] | None]) -> dict[int, MissionCreate]:
    """{index: item} of the valid items; the invalid ones get their error in `results`."""
    batch = _validate_all(items)
    if batch is not None:
        return dict(enumerate(batch))
    valid: dict[int, MissionCreate] = {}
    for index, raw in enumerate(items):
        try:
            valid[index] = _validate(raw)
        except DomainError as error:
            results[index] = _item_error(index, error)
    return valid


def _named(items: list[Any]) -> tuple[set[uuid.UUID], set[str]]:
    """The branch ids and externalIds the raw items name, where well-formed (validation refuses
    the rest). Items are raw JSON here (or a GraphQL input's values): anything may be anywhere."""
    branch_ids: set[uuid.UUID] = set()
    external_ids: set[str] = set()
    texts: set[str] = set()
    for item in items:
        if not isinstance(item, dict):
            continue
        branch_id, external_id = item.get("branchId"), item.get("externalId")
        if isinstance(branch_id, uuid.UUID):
            branch_ids.add(branch_id)
        elif isinstance(branch_id, str):
            texts.add(branch_id)
        if isinstance(external_id, str):
            external_ids.add(external_id)
    for text_id in texts:  # a batch names a handful of branches: parse each once
        try:
            branch_ids.add(uuid.UUID(text_id))
        except ValueError:
            pass
    return branch_ids, external_ids


async def _look_up(
    connection: Any, company_id: uuid.UUID, branch_ids: set[uuid.UUID], external_ids: set[str]
) -> tuple[dict[uuid.UUID, str], dict[str, uuid.UUID]]:
    return _references(await connection.fetch(_LOOKUP, company_id, list(branch_ids), list(external_ids)))


def _references(records: list[Any]) -> tuple[dict[uuid.UUID, str], dict[str, uuid.UUID]]:
    """`_LOOKUP`'s answer: ({branch id: time zone}, {externalId: mission id})."""
    zones = {uuid.UUID(key): value for kind, key, value in records if kind == "branch"}
    existing = {key: uuid.UUID(value) for kind, key, value in records if kind == "mission"}
    return zones, existing


# The company's branches among $2 with their time zones, and its missions whose externalId is
# among $3. ExternalIds are joined against the array rather than `IN`/`= ANY`, which PostgreSQL
# may evaluate as a linear array search per row of the company when its statistics are stale
# (right after a large import): the join stays on the unique index.
_LOOKUP = """
SELECT 'branch', b.id::text, b.timezone FROM branch b WHERE b.company_id = $1 AND b.id = ANY($2::uuid[])
UNION ALL
SELECT 'mission', m.external_id, m.id::text FROM unnest($3::text[]) AS wanted(external_id)
JOIN mission m ON m.company_id = $1 AND m.external_id = wanted.external_id
"""
