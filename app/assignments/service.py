"""Vehicle-driver assignments: who drives what, when. A vehicle has at most one driver at any
instant and a driver at most one vehicle; the database's exclusion constraints have the last word."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from app.assignments.models import DRIVER_OVERLAP, VEHICLE_OVERLAP, VehicleDriverAssignment
from app.assignments.schemas import AssignmentOut, AssignmentQuery
from app.core.db import UnitOfWork
from app.core.errors import Conflict, ValidationFailed
from app.core.schemas import ListQuery
from app.core.service import ResourceService
from app.drivers.models import Driver
from app.drivers.service import driver_service, register_driver_dependant
from app.vehicles.models import Vehicle
from app.vehicles.service import register_vehicle_dependant, vehicle_service

Assignment = VehicleDriverAssignment

register_vehicle_dependant("vehicleDriverAssignments", Assignment)
register_driver_dependant("vehicleDriverAssignments", Assignment)

_SIDES = {"vehicle_id": ("vehicleId", "vehicle"), "driver_id": ("driverId", "driver")}


def _overlaps(starts_at: dt.datetime, ends_at: dt.datetime | None) -> list[Any]:
    # Half-open [starts_at, ends_at): touching intervals do not overlap; null ends are open.
    clauses: list[Any] = [or_(col(Assignment.ends_at).is_(None), col(Assignment.ends_at) > starts_at)]
    if ends_at is not None:
        clauses.append(Assignment.starts_at < ends_at)
    return clauses


class AssignmentService(ResourceService[VehicleDriverAssignment]):
    model = VehicleDriverAssignment
    out = AssignmentOut
    resource_type = "vehicle_driver_assignment"
    event_prefix = "vehicle_driver_assignment"

    def filters(self, query: ListQuery) -> list[Any]:
        assert isinstance(query, AssignmentQuery)
        clauses: list[Any] = []
        if query.vehicle_id:
            clauses.append(Assignment.vehicle_id == query.vehicle_id)
        if query.driver_id:
            clauses.append(Assignment.driver_id == query.driver_id)
        if query.active_at is not None:
            at = query.active_at if query.active_at.tzinfo else query.active_at.replace(tzinfo=dt.UTC)
            clauses += [
                Assignment.starts_at <= at,
                or_(col(Assignment.ends_at).is_(None), col(Assignment.ends_at) > at),
            ]
        return clauses

    async def check_create(self, uow: UnitOfWork, values: dict[str, Any]) -> None:
        await self._check(uow, values, None)

    async def check_update(self, uow: UnitOfWork, record: Assignment, changes: dict[str, Any]) -> None:
        names = ("vehicle_id", "driver_id", "starts_at", "ends_at")
        merged = {name: changes.get(name, getattr(record, name)) for name in names}
        if merged["ends_at"] is not None and merged["ends_at"] <= merged["starts_at"]:
            if "ends_at" in changes or "starts_at" not in changes:
                raise ValidationFailed.field("endsAt", "must be after startsAt")
            raise ValidationFailed.field("startsAt", "must be before endsAt")
        await self._check(uow, merged, record.id, changed=set(changes))

    async def _check(
        self,
        uow: UnitOfWork,
        values: dict[str, Any],
        own_id: uuid.UUID | None,
        changed: set[str] | None = None,
    ) -> None:
        """Both sides in the company (422) and active (409), and no overlap (409). On update only
        a side that changes must be active: editing the end of a past assignment of a vehicle
        since retired stays possible."""
        vehicle: Vehicle = await vehicle_service.repo.reference(uow, values["vehicle_id"], "vehicleId")
        driver: Driver = await driver_service.repo.reference(uow, values["driver_id"], "driverId")
        for field, record in (("vehicle_id", vehicle), ("driver_id", driver)):
            if (changed is None or field in changed) and record.status != "active":
                public, kind = _SIDES[field]
                raise Conflict(f"Only an active {kind} can be assigned.",
                               {"field": public, "status": record.status})  # fmt: skip
        for field in ("vehicle_id", "driver_id"):
            clash = await self._clash(uow, field, values, own_id)
            if clash is not None:
                raise self._conflict(field, clash)

    async def _clash(
        self, uow: UnitOfWork, field: str, values: dict[str, Any], own_id: uuid.UUID | None
    ) -> Assignment | None:
        statement = self.repo.base(uow).where(
            getattr(Assignment, field) == values[field], *_overlaps(values["starts_at"], values["ends_at"])
        )
        if own_id is not None:
            statement = statement.where(col(Assignment.id) != own_id)
        return await uow.scalar(statement.order_by(col(Assignment.starts_at)).limit(1))  # type: ignore[no-any-return]

    def _conflict(self, field: str, clash: Assignment) -> Conflict:
        public, kind = _SIDES[field]
        return Conflict(
            f"The {kind} already has an assignment overlapping this period.",
            {"field": public, "conflictingAssignmentId": str(clash.id)},
        )

    async def write_unique(self, uow: UnitOfWork, record: Assignment, mutate: Callable[[], None]) -> None:
        """The pre-check gives the friendly answer; a concurrent request that slipped past it meets
        the exclusion constraint (SQLSTATE 23P01), answered with the same 409."""
        values: dict[str, Any] = {}

        def capture_and_mutate() -> None:
            mutate()
            # Read now: the rolled-back savepoint would expire the record's attributes.
            values.update(
                {n: getattr(record, n) for n in ("id", "vehicle_id", "driver_id", "starts_at", "ends_at")}
            )

        try:
            await super().write_unique(uow, record, capture_and_mutate)
        except IntegrityError as exc:
            message = str(exc.orig)
            for field, constraint in (("vehicle_id", VEHICLE_OVERLAP), ("driver_id", DRIVER_OVERLAP)):
                if constraint in message:
                    # The savepoint is rolled back; the winner has committed (the constraint
                    # waited for it), so a fresh statement sees the row it clashed with.
                    clash = await self._clash(uow, field, values, values["id"])
                    if clash is None:  # the winner moved away since; still a clash
                        details = {"field": _SIDES[field][0], "conflictingAssignmentId": None}
                        raise Conflict("An overlapping assignment was just written.", details) from None
                    raise self._conflict(field, clash) from None
            raise


assignment_service = AssignmentService()
