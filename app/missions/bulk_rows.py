"""The rows a bulk import writes: new mission rows, their public documents, and the statement that
inserts a chunk of them with their history entries and events.

Each new mission is serialised once: those bytes are its history entry, its event's `data` and,
with its proof code added, its item of the answer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from functools import cache
from operator import itemgetter
from typing import Any, get_args

import orjson
from sqlalchemy import Table
from sqlalchemy.dialects import postgresql

from app.core import jsonutil
from app.core.db import UnitOfWork
from app.core.models import new_id
from app.missions import proof
from app.missions.models import Mission
from app.missions.schemas import PROOF_COLUMNS, MissionCreate, MissionOut, ProofOut

# What every mission of a batch starts with besides its body: bound once, not once per row.
SHARED = {
    "status": "unassigned", "route_id": None, "sequence": None, "eta": None, "etd": None,
    "distance_from_previous_meters": None, "duration_from_previous_seconds": None,
    "failure_reason": None, "credit_charged": False, "started_at": None, "finished_at": None,
    "proof_sms_status": "not_sent", "proof_sent_at": None, "proof_attempts": 0,
    "proof_max_attempts": 5, "proof_verified_at": None,
}  # fmt: skip
SHARED_COLUMNS = ("company_id", "created_at", "updated_at", *SHARED)
_MISSION_TABLE: Table = Mission.__table__  # type: ignore[attr-defined]
ROW_COLUMNS = tuple(c.name for c in _MISSION_TABLE.columns if c.name not in SHARED_COLUMNS)

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
        own = [(alias, column, kind) for alias, column, kind in self.fields if column in ROW_COLUMNS]
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


class Preparation:
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
            mission_id = new_id()
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


def _created(index: int, document: bytes) -> dict[str, Any]:
    return {"index": index, "status": "created", "data": orjson.Fragment(document)}


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


def arguments(
    uow: UnitOfWork,
    rows: list[dict[str, Any]],
    shared: dict[str, Any],
    snapshots: list[bytes],
    event_ids: list[str],
) -> list[Any]:
    """`import_statement`'s parameters for these rows."""
    principal = uow.principal
    return [
        *([row[name] for row in rows] for name in ROW_COLUMNS),
        *(shared[name] for name in SHARED_COLUMNS),
        [snapshot.decode() for snapshot in snapshots],
        event_ids,
        [new_id() for _ in rows],
        uow.source.value,
        principal.actor_type.value,
        principal.actor_id,
        principal.actor_name,
        jsonutil.iso_z(shared["created_at"]),
    ]


@cache
def import_statement() -> str:
    """The missions, then for each one inserted its `created` history entry (its snapshot) and its
    `mission.created` event (the snapshot in the event envelope). Per-mission values are bound as
    one array per column and unnested, shared ones once, so a batch of any size is one short
    statement and one round trip. A mission whose externalId a concurrent request took is skipped
    by ON CONFLICT, and its history and event with it."""
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    types = {c.name: c.type.compile(dialect=dialect) for c in _MISSION_TABLE.columns}
    n = len(ROW_COLUMNS)
    arrays = ", ".join(f"${i}::{types[name]}[]" for i, name in enumerate(ROW_COLUMNS, start=1))
    constants = ", ".join(f"${i}::{types[name]}" for i, name in enumerate(SHARED_COLUMNS, start=n + 1))
    p = n + len(SHARED_COLUMNS)  # the parameters after the mission columns, named:
    snapshots, event_ids, history_ids, source, actor_type, actor_id, actor_name, timestamp = (
        f"${i}" for i in range(p + 1, p + 9)
    )
    company, now = f"${n + 1}", f"${n + 2}"
    ids = f"${ROW_COLUMNS.index('id') + 1}"
    return f"""
WITH inserted AS (
    INSERT INTO mission ({", ".join((*ROW_COLUMNS, *SHARED_COLUMNS))})
    SELECT m.*, {constants} FROM unnest({arrays}) AS m
    ON CONFLICT ON CONSTRAINT uq_mission_external_id DO NOTHING
    RETURNING id
), created AS (
    SELECT c.* FROM unnest({ids}::uuid[], {snapshots}::json[], {event_ids}::text[], {history_ids}::uuid[])
        AS c(mission_id, snapshot, event_id, history_id)
    JOIN inserted ON inserted.id = c.mission_id
), history AS (
    INSERT INTO change_history
        (id, company_id, resource_type, resource_id, action, source, actor_type, actor_id, actor_name,
         changes, at)
    SELECT history_id, {company}::uuid, 'mission', mission_id, 'created', {source}::text,
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
