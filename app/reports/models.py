"""Report rollups: per company, branch and day, and per route, the figures reports aggregate.

PostgreSQL triggers keep them (migration 0015), in the same statement as every change to missions,
routes, the credit ledger and branch time zones, whatever the write path: the services, bulk imports,
set-based SQL, COPY. Reports read whole days from here instead of aggregating every mission.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, ForeignKey, Integer, Numeric, Table, Uuid
from sqlmodel import SQLModel

# Mission figures of a (branch, mission date): counts by current status, then the on-time, proof
# and finish-hour figures the overview and the charts read (see `app/reports/repository.py`).
MISSION_STATUSES = ("unassigned", "scheduled", "in_progress", "delivered", "proofed", "failed", "cancelled")
MISSION_FIGURES = (
    "missions", *MISSION_STATUSES, "evaluated", "on_time", "early", "late", "without_window",
    "proof_required", "proof_done",
)  # fmt: skip
# Completed missions by the branch-local hour they finished, one column per hour.
HOURS = tuple(f"delivered_h{hour:02d}" for hour in range(24))
# Credit ledger movements of the (branch, date)'s missions, by kind (consume amounts are negative).
CREDIT_FIGURES = ("credits_consumed", "credits_refunded")
# Route figures of a (branch, route date).
ROUTE_FIGURES = ("routes", "routes_planned", "routes_assigned", "routes_in_progress", "routes_completed")
ROUTE_SUMS = ("route_distance", "route_duration")

report_day = Table(
    "report_day",
    SQLModel.metadata,
    Column("company_id", Uuid, ForeignKey("company.id", ondelete="CASCADE"), primary_key=True),
    Column("branch_id", Uuid, ForeignKey("branch.id", ondelete="CASCADE"), primary_key=True),
    Column("date", Date, primary_key=True),
    *[Column(name, Integer, nullable=False, server_default="0") for name in MISSION_FIGURES + HOURS],
    *[Column(name, Integer, nullable=False, server_default="0") for name in CREDIT_FIGURES + ROUTE_FIGURES],
    *[Column(name, BigInteger, nullable=False, server_default="0") for name in ROUTE_SUMS],
)

# The current missions of each route: what the routes, drivers and vehicles sections read per
# route instead of aggregating the missions of every route in the period. Loads are exact sums
# (numeric), so adding and taking away missions never drifts.
ROUTE_LOAD_COUNTS = ("stops", "delivered", "failed", "on_time", "evaluated")
ROUTE_LOADS = ("weight", "volume")
report_route = Table(
    "report_route",
    SQLModel.metadata,
    Column("route_id", Uuid, ForeignKey("route.id", ondelete="CASCADE"), primary_key=True),
    Column("company_id", Uuid, ForeignKey("company.id", ondelete="CASCADE"), nullable=False),
    *[Column(name, Integer, nullable=False, server_default="0") for name in ROUTE_LOAD_COUNTS],
    *[Column(name, Numeric, nullable=False, server_default="0") for name in ROUTE_LOADS],
    Column("items", BigInteger, nullable=False, server_default="0"),
)
