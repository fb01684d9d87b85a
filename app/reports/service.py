"""Reports over a period (mission and route dates): the overview's figures and each section's rows."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlmodel import col

from app.branches.models import Branch
from app.core.db import UnitOfWork
from app.core.errors import NotFound
from app.core.pagination import Page, encode_cursor
from app.core.repository import Repository
from app.reports import repository as repo
from app.reports.schemas import (
    ROW_MODELS,
    CreditsOut,
    DayOut,
    FailureReasonCount,
    FailuresOut,
    MissionStatusCounts,
    MissionTotals,
    OnTimeOut,
    OverviewOut,
    PeriodOut,
    ProofTotalsOut,
    ReportDetailsQuery,
    ReportQuery,
    RouteStatusCounts,
    RouteTotals,
    Section,
    counts,
    ratio,
)

_branches = Repository(Branch)


def _days(date_from: dt.date, date_to: dt.date) -> list[dt.date]:
    return [date_from + dt.timedelta(days=n) for n in range((date_to - date_from).days + 1)]


def _sum(rows: list[Any], key: str) -> int:
    return sum(int(r[key]) for r in rows)


class ReportService:
    async def scope_branch(self, uow: UnitOfWork, branch_id: uuid.UUID) -> None:
        """A branch filter must name a branch of the company (else 422 on `branchId`)."""
        await _branches.reference(uow, branch_id, "branchId")

    async def scope(self, uow: UnitOfWork, query: ReportQuery) -> tuple[dt.date, dt.date, uuid.UUID | None]:
        if query.branch_id is not None:
            await self.scope_branch(uow, query.branch_id)
        return query.date_from, query.date_to, query.branch_id

    async def overview(self, uow: UnitOfWork, query: ReportQuery) -> OverviewOut:
        """The period's figures in five statements. Missions count by their date and current
        status; a mission is on time when it finished (delivered or proofed) inside its time
        window, in its branch's local time; proof rate is over delivered missions that need proof;
        credits are the ledger movements of the period's missions."""
        scope = await self.scope(uow, query)
        missions = await repo.missions_by_day(uow, *scope)
        routes = await repo.routes_by_day(uow, *scope)
        reasons = await repo.failure_reasons(uow, *scope)
        ledger = await repo.credits(uow, *scope)

        by_status = {s: _sum(missions, s) for s in repo.MISSION_STATUSES}
        delivered = by_status["delivered"] + by_status["proofed"]
        route_status = {s: _sum(routes, s) for s in repo.ROUTE_STATUSES}
        evaluated, on_time = _sum(missions, "evaluated"), _sum(missions, "on_time")
        proof_required, proofed = _sum(missions, "proof_required"), _sum(missions, "proof_done")
        consumed, refunded = -ledger.get("consume", 0), ledger.get("refund", 0)
        return OverviewOut(
            period=PeriodOut(
                date_from=query.date_from,
                date_to=query.date_to,
                days=(query.date_to - query.date_from).days + 1,
                branch_id=query.branch_id,
            ),  # fmt: skip
            missions=MissionTotals(
                total=_sum(missions, "total"),
                by_status=counts(MissionStatusCounts, by_status),
                delivered=delivered,
                completion_rate=ratio(delivered, delivered + by_status["failed"]),
            ),  # fmt: skip
            on_time=OnTimeOut(
                evaluated=evaluated,
                on_time=on_time,
                early=_sum(missions, "early"),
                late=_sum(missions, "late"),
                without_window=_sum(missions, "without_window"),
                rate=ratio(on_time, evaluated),
            ),  # fmt: skip
            failures=FailuresOut(
                total=by_status["failed"],
                reasons=[FailureReasonCount(reason=r["reason"], count=r["count"]) for r in reasons],
            ),
            proof=ProofTotalsOut(
                required=proof_required,
                proofed=proofed,
                pending=proof_required - proofed,
                rate=ratio(proofed, proof_required),
            ),  # fmt: skip
            routes=RouteTotals(
                total=_sum(routes, "total"),
                by_status=counts(RouteStatusCounts, route_status),
                completed=route_status["completed"],
                total_distance_meters=_sum(routes, "distance"),
                total_duration_seconds=_sum(routes, "duration"),
            ),  # fmt: skip
            credits=CreditsOut(consumed=consumed, refunded=refunded, net=consumed - refunded),
            daily=self.daily(query.date_from, query.date_to, missions, routes),
        )

    def daily(
        self, date_from: dt.date, date_to: dt.date, missions: list[Any], routes: list[Any]
    ) -> list[DayOut]:
        """Every day of the period, zeros included, so charts need no gap filling."""
        by_mission = {r["date"]: r for r in missions}
        by_route = {r["date"]: r for r in routes}
        days = []
        for day in _days(date_from, date_to):
            m, r = by_mission.get(day), by_route.get(day)
            days.append(
                DayOut(
                    date=day,
                    missions=m["total"] if m else 0,
                    delivered=(m["delivered"] + m["proofed"]) if m else 0,
                    failed=m["failed"] if m else 0,
                    cancelled=m["cancelled"] if m else 0,
                    on_time=m["on_time"] if m else 0,
                    routes=r["total"] if r else 0,
                    distance_meters=int(r["distance"]) if r else 0,
                    duration_seconds=int(r["duration"]) if r else 0,
                )
            )
        return days

    async def details(self, uow: UnitOfWork, section: str, query: ReportDetailsQuery) -> Page[Any]:
        """One page of a section's rows (keyset over the driving table's createdAt, id). An unknown
        section is a 404: it names a resource of the path."""
        try:
            kind = Section(section)
        except ValueError:
            known = ", ".join(s.value for s in Section)
            raise NotFound(f"No report section {section!r}; sections are {known}.") from None
        scope = await self.scope(uow, query)
        args = (uow, scope, query.cursor, query.limit)
        if kind == Section.MISSIONS:
            rows, cursor = await repo.mission_rows(*args)
        elif kind == Section.FAILURES:
            rows, cursor = await repo.mission_rows(*args, repo.Mission.status == "failed")
        elif kind == Section.PROOF:
            rows, cursor = await repo.mission_rows(
                *args, col(repo.Mission.status).in_(repo.DONE), repo.Mission.proof_required
            )
        elif kind == Section.ROUTES:
            rows, cursor = await repo.route_rows(*args)
        elif kind == Section.DRIVERS:
            rows, cursor = await repo.driver_rows(*args)
        else:
            rows, cursor = await repo.vehicle_rows(*args)
        model = ROW_MODELS[kind]
        items = [model.model_validate(_ROW[kind](row)) for row in rows]
        return Page(
            items=items, next_cursor=cursor, has_more=cursor is not None, limit=query.limit,
            cursor_at=lambda i: encode_cursor(rows[i]["_created"], rows[i]["_id"]),
        )  # fmt: skip


def _mission(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "id": row["_id"], "on_time": row["on_time_flag"], "finished_at": row["finish"]}


def _failure(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "mission_id": row["_id"], "failed_at": row["finished_at"]}


def _proof(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **row, "mission_id": row["_id"], "proofed": row["status"] == "proofed", "delivered_at": row["finish"],
        "verified_at": row["proof_verified_at"], "attempts": row["proof_attempts"],
        "max_attempts": row["proof_max_attempts"], "sms_status": row["proof_sms_status"],
    }  # fmt: skip


def _driver(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **row, "driver_id": row["_id"], "name": f"{row['first_name']} {row['last_name']}".strip(),
        "distance_meters": row["distance"], "duration_seconds": row["duration"],
        "on_time_rate": ratio(row["on_time"], row["evaluated"]),
    }  # fmt: skip


def _share(value: Any) -> float | None:
    return None if value is None else round(float(value), 4)


def _vehicle(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **row, "vehicle_id": row["_id"], "routes": row["routes"] or 0, "stops": int(row["stops"] or 0),
        "distance_meters": int(row["distance"] or 0), "duration_seconds": int(row["duration"] or 0),
        "load_weight_kg": float(row["weight"] or 0), "load_volume_m3": float(row["volume"] or 0),
        "load_items": int(row["item_count"] or 0), "weight_utilization": _share(row["weight_share"]),
        "volume_utilization": _share(row["volume_share"]), "items_utilization": _share(row["items_share"]),
    }  # fmt: skip


_ROW = {
    Section.MISSIONS: _mission,
    Section.FAILURES: _failure,
    Section.PROOF: _proof,
    Section.ROUTES: lambda row: {**row, "id": row["_id"]},
    Section.DRIVERS: _driver,
    Section.VEHICLES: _vehicle,
}

report_service = ReportService()
