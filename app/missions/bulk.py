"""Bulk import: up to 1,000 missions in one request, each item succeeding or failing on its own.

Set-based on purpose: every item is validated in Python first, branches and existing externalIds
are read with one query each, and one statement per chunk of missions writes them with their
history entries and events (`_import_statement`). Each new mission is serialised once: those bytes
are its history entry, its event's `data` and, with its proof code added, its item of the answer."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from functools import cache
from operator import itemgetter
from typing import Any, get_args

import orjson
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Table
from sqlalchemy.dialects import postgresql

from app.core import jsonutil
from app.core.db import UnitOfWork
from app.core.envelope import validation_failed
from app.core.errors import Conflict, DomainError, PayloadTooLarge, ValidationFailed
from app.core.models import utcnow
from app.core.outbox import announce, new_event_id
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

# What every mission of a batch starts with besides its body: bound once, not once per row.
_SHARED = {
    "status": "unassigned", "route_id": None, "sequence": None, "eta": None, "etd": None,
    "distance_from_previous_meters": None, "duration_from_previous_seconds": None,
    "failure_reason": None, "credit_charged": False, "started_at": None, "finished_at": None,
    "proof_sms_status": "not_sent", "proof_sent_at": None, "proof_attempts": 0,
    "proof_max_attempts": 5, "proof_verified_at": None,
}  # fmt: skip
_SHARED_COLUMNS = ("company_id", "created_at", "updated_at", *_SHARED)
_MISSION_TABLE: Table = Mission.__table__  # type: ignore[attr-defined]
_ROW_COLUMNS = tuple(c.name for c in _MISSION_TABLE.columns if c.name not in _SHARED_COLUMNS)

_ITEMS: TypeAdapter[list[MissionCreate]] = TypeAdapter(list[MissionCreate])
_TEMPORAL = frozenset({dt.datetime, dt.date, dt.time})


def _is_temporal(annotation: Any) -> bool:
    return bool(_TEMPORAL.intersection(get_args(annotation) or (annotation,)))


class _Layout:
    """How `_documents` fills one output object (a mission, its proof) from a mission row: in the
    output's field order, batch-wide values from a template, the row's own values picked by one
    C-level getter, and its dates and times formatted."""

    def __init__(self, fields: Iterable[tuple[str, str, Any]]) -> None:
        """`fields`: (public name, column, annotation) of each output field."""
        self.fields = list(fields)
        own = [(alias, column, kind) for alias, column, kind in self.fields if column in _ROW_COLUMNS]
        self.temporal = [(alias, column) for alias, column, kind in own if _is_temporal(kind)]
        plain = [(alias, column) for alias, column, kind in own if not _is_temporal(kind)]
        self.plain_aliases = [alias for alias, _ in plain]
        columns = [column for _, column in plain]
        # itemgetter of one key answers the bare value, not a 1-tuple.
        self.plain_values = itemgetter(*columns) if len(columns) > 1 else lambda row: (row[columns[0]],)

    def template(self, common: dict[str, Any]) -> dict[str, Any]:
        """The object with the batch-wide values filled in and the row's own left empty."""
        return {alias: common.get(column) for alias, column, _ in self.fields}

    def fill(
        self, template: dict[str, Any], row: dict[str, Any], plain: Callable[[Any], Any]
    ) -> dict[str, Any]:
        out = template.copy()
        out.update(zip(self.plain_aliases, self.plain_values(row), strict=True))
        for alias, column in self.temporal:
            out[alias] = plain(row[column])
        return out


_MISSION_LAYOUT = _Layout(
    (info.alias or name, name, info.annotation)
    for name, info in MissionOut.model_fields.items()
    if name != "proof"
)
_PROOF_LAYOUT = _Layout(
    (ProofOut.model_fields[name].alias or name, column, ProofOut.model_fields[name].annotation)
    for name, column in PROOF_COLUMNS.items()
)
# Missions per statement: small enough that a chunk's arguments go out in one socket write.
_CHUNK = 100


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
    # The branches and externalIds the items name are looked up while the items are validated.
    branch_ids, external_ids = _named(items)
    async with _Pipeline(connection, _LOOKUP) as lookup:
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
    # Written in chunks, each sent before the next is prepared: PostgreSQL writes one chunk while
    # Python prepares the next, and the event loop gets a turn between chunks.
    now = utcnow()
    shared = {**_SHARED, "company_id": uow.company_id, "created_at": now, "updated_at": now}
    prepare = _Preparation(zones, shared, len(accepted))
    rows: dict[int, dict[str, Any]] = {}
    event_ids: dict[int, str] = {}
    async with _Pipeline(connection, _import_statement()) as pipeline:
        for start in range(0, len(accepted), _CHUNK):
            chunk = accepted[start : start + _CHUNK]
            snapshots = prepare(chunk, rows, results)
            ids = [new_event_id() for _ in chunk]
            event_ids.update(zip((index for index, _ in chunk), ids, strict=True))
            await pipeline.send(*_arguments(uow, [rows[i] for i, _ in chunk], shared, snapshots, ids))
    inserted = {record[0] for record in pipeline.records}

    raced = [index for index, row in rows.items() if row["id"] not in inserted]
    if raced:
        # Another request took these externalIds between our look-up and our insert.
        taken = {rows[index]["external_id"] for index in raced}
        _, existing = await _look_up(connection, uow.company_id, set(), taken)
        for index in raced:
            results[index] = _item_error(index, _already_exists(existing.get(rows[index]["external_id"])))
    announce(uow, [event_ids[index] for index, row in rows.items() if row["id"] in inserted])
    return [r for r in results if r is not None]


class _Preparation:
    """Turns accepted items into mission rows, their serialised snapshots and their answers."""

    def __init__(self, zones: dict[Any, str], shared: dict[str, Any], count: int) -> None:
        self.zones, self.shared = zones, shared
        self.key, self.codes = proof.hash_key(), iter(proof.new_codes(count))

    def __call__(
        self,
        chunk: list[tuple[int, MissionCreate]],
        rows: dict[int, dict[str, Any]],
        results: list[dict[str, Any] | None],
    ) -> list[bytes]:
        """Adds the chunk's rows to `rows` and answers to `results`; returns its snapshots."""
        codes: list[str | None] = []
        for index, mission in chunk:
            mission_id = uuid.uuid4()
            code = next(self.codes) if mission.proof_required else None
            # The validated fields themselves: a flat model's dump is a copy of its __dict__.
            row = {**mission.__dict__, "id": mission_id}
            row.update(proof.fields(mission_id, code, mission.date, self.zones[mission.branch_id],
                                    mission.customer_phone or mission.customer_email, self.key))  # fmt: skip
            rows[index] = row
            codes.append(code)
        snapshots = []
        documents = _documents([rows[index] for index, _ in chunk], self.shared)
        for (index, _), doc, code in zip(chunk, documents, codes, strict=True):
            snapshot = jsonutil.dumps(doc)
            snapshots.append(snapshot)
            results[index] = _created(index, _with_code(snapshot, code) if code else snapshot)
        return snapshots


def _with_code(snapshot: bytes, code: str) -> bytes:
    """The snapshot with `proof.code` added, spliced in rather than serialised again: `proof` is
    the document's last member and `proofed` its own, so the text ends with `}}`."""
    if not snapshot.endswith(b"}}"):
        raise ValueError("a mission snapshot must end with its proof object")
    return snapshot[:-2] + b',"code":"' + code.encode() + b'"}}'


class _Pipeline:
    """Statements on one connection, each sent as soon as its arguments are ready and awaited only
    when the next one is: the connection runs one at a time, but we need not wait idle for it."""

    def __init__(self, connection: Any, sql: str) -> None:
        self.connection, self.sql = connection, sql
        self.records: list[Any] = []
        self._in_flight: asyncio.Future[list[Any]] | None = None

    async def send(self, *arguments: Any) -> None:
        await self._drain()
        self._in_flight = asyncio.ensure_future(self.connection.fetch(self.sql, *arguments))
        await asyncio.sleep(0)  # lets the statement go out before the caller's next Python work

    async def _drain(self) -> None:
        if self._in_flight is not None:
            in_flight, self._in_flight = self._in_flight, None
            self.records.extend(await in_flight)

    async def __aenter__(self) -> _Pipeline:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        # Also on error: the transaction's rollback must not meet a statement still running.
        await self._drain()


def _created(index: int, document: bytes) -> dict[str, Any]:
    return {"index": index, "status": "created", "data": orjson.Fragment(document)}


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


def _documents(rows: Any, shared: dict[str, Any]) -> list[dict[str, Any]]:
    """New missions as GET shows them, built straight from their rows: per-item model validation
    would cost more than the insert. MissionOut stays the reference; tests compare the two.
    Dates and times are formatted here, once per distinct value: a batch shares a handful."""
    formatted: dict[Any, Any] = {}

    def plain(value: Any) -> Any:
        if value is None:
            return None
        text = formatted.get(value)
        if text is None:
            text = formatted[value] = jsonutil.loads(jsonutil.dumps(value))
        return text

    common = {name: plain(value) if type(value) in _TEMPORAL else value for name, value in shared.items()}
    mission, proof = _MISSION_LAYOUT.template(common), _PROOF_LAYOUT.template(common)
    proof["proofed"] = common["proof_verified_at"] is not None
    docs = []
    for row in rows:
        doc = _MISSION_LAYOUT.fill(mission, row, plain)
        doc["proof"] = _PROOF_LAYOUT.fill(proof, row, plain)
        docs.append(doc)
    return docs


def _arguments(
    uow: UnitOfWork,
    rows: list[dict[str, Any]],
    shared: dict[str, Any],
    snapshots: list[bytes],
    event_ids: list[str],
) -> list[Any]:
    """`_import_statement`'s parameters for these rows."""
    principal = uow.principal
    return [
        *([row[name] for row in rows] for name in _ROW_COLUMNS),
        *(shared[name] for name in _SHARED_COLUMNS),
        [snapshot.decode() for snapshot in snapshots],
        event_ids,
        uow.source.value,
        principal.actor_type.value,
        principal.actor_id,
        principal.actor_name,
        jsonutil.iso_z(shared["created_at"]),
    ]


@cache
def _import_statement() -> str:
    """The missions, then for each one inserted its `created` history entry (its snapshot) and its
    `mission.created` event (the snapshot in the event envelope). Per-mission values are bound as
    one array per column and unnested, shared ones once, so a batch of any size is one short
    statement and one round trip. A mission whose externalId a concurrent request took is skipped
    by ON CONFLICT, and its history and event with it."""
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    types = {c.name: c.type.compile(dialect=dialect) for c in _MISSION_TABLE.columns}
    n = len(_ROW_COLUMNS)
    arrays = ", ".join(f"${i}::{types[name]}[]" for i, name in enumerate(_ROW_COLUMNS, start=1))
    constants = ", ".join(f"${i}::{types[name]}" for i, name in enumerate(_SHARED_COLUMNS, start=n + 1))
    p = n + len(_SHARED_COLUMNS)  # the parameters after the mission columns, named:
    snapshots, event_ids, source, actor_type, actor_id, actor_name, timestamp = (
        f"${i}" for i in range(p + 1, p + 8)
    )
    company, now = f"${n + 1}", f"${n + 2}"
    ids = f"${_ROW_COLUMNS.index('id') + 1}"
    return f"""
WITH inserted AS (
    INSERT INTO mission ({", ".join((*_ROW_COLUMNS, *_SHARED_COLUMNS))})
    SELECT m.*, {constants} FROM unnest({arrays}) AS m
    ON CONFLICT ON CONSTRAINT uq_mission_external_id DO NOTHING
    RETURNING id
), created AS (
    SELECT c.* FROM unnest({ids}::uuid[], {snapshots}::json[], {event_ids}::text[])
        AS c(mission_id, snapshot, event_id)
    JOIN inserted ON inserted.id = c.mission_id
), history AS (
    INSERT INTO change_history
        (id, company_id, resource_type, resource_id, action, source, actor_type, actor_id, actor_name,
         changes, at)
    SELECT gen_random_uuid(), {company}::uuid, 'mission', mission_id, 'created', {source}::text,
           {actor_type}::text, {actor_id}::uuid, {actor_name}::text, snapshot, {now}::timestamptz
    FROM created
), events AS (
    INSERT INTO webhook_event (id, company_id, type, resource_type, resource_id, payload, created_at, status)
    SELECT event_id, {company}::uuid, 'mission.created', 'mission', mission_id,
           json_build_object('id', event_id, 'type', 'mission.created', 'timestamp', {timestamp}::text,
                             'companyId', {company}::uuid, 'resourceType', 'mission',
                             'resourceId', mission_id, 'data', snapshot),
           {now}::timestamptz, 'pending'
    FROM created
)
SELECT id FROM inserted"""
