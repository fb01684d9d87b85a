"""The mission status machine: which moves exist, and which of them a PATCH may make.

`scheduled` and the return to `unassigned` from it belong to route operations (create, add-missions,
reassign, delete); `proofed` belongs to proof verification. Everything else may be reported by an
integrator (PATCH) or by the driver app."""

from __future__ import annotations

from app.core.errors import Conflict
from app.missions.schemas import MissionStatus as S

FINAL = frozenset({S.PROOFED, S.FAILED, S.CANCELLED})
# Statuses that count as "done" for completing a route.
ROUTE_DONE = frozenset({S.DELIVERED, S.PROOFED, S.FAILED, S.CANCELLED})

MOVES: dict[S, frozenset[S]] = {
    S.UNASSIGNED: frozenset({S.SCHEDULED, S.CANCELLED}),
    S.SCHEDULED: frozenset({S.IN_PROGRESS, S.UNASSIGNED, S.CANCELLED}),
    S.IN_PROGRESS: frozenset({S.DELIVERED, S.FAILED, S.CANCELLED}),
    S.DELIVERED: frozenset({S.PROOFED, S.CANCELLED}),
    S.PROOFED: frozenset(),
    S.FAILED: frozenset({S.UNASSIGNED}),
    S.CANCELLED: frozenset(),
}

# The endpoint that makes a move PATCH may not make itself.
RESERVED = {
    S.SCHEDULED: "Put the mission on a route: POST /routes, PUT /routes/:id/add-missions or "
    "POST /missions/:id/reassign.",
    S.PROOFED: "Verify the customer's code: POST /missions/:id/proof-of-delivery/verify.",
}


def allowed_moves(current: S, proof_required: bool) -> list[S]:
    if current == S.DELIVERED and not proof_required:
        return []  # delivered without proof is final
    return sorted(MOVES[current], key=list(S).index)


def check_move(current: S, target: S, proof_required: bool) -> None:
    """Raise 409 naming the allowed moves when `current -> target` is not a move of the machine."""
    allowed = allowed_moves(current, proof_required)
    if target not in allowed:
        raise Conflict(
            f"A {current.value} mission cannot become {target.value}.",
            {"status": current.value, "requested": target.value, "allowedMoves": [s.value for s in allowed]},
        )


def check_patch_move(current: S, target: S, proof_required: bool) -> None:
    """PATCH may make every allowed move except those owned by routes and proof verification."""
    if target in RESERVED or (target == S.UNASSIGNED and current == S.SCHEDULED):
        endpoint = (
            RESERVED.get(target) or "Take it off its route: POST /missions/:id/reassign with routeId null."
        )
        raise Conflict(
            f"PATCH cannot make a mission {target.value}. {endpoint}",
            {
                "status": current.value,
                "requested": target.value,
                "useEndpoint": endpoint,
                "allowedMoves": [
                    s.value
                    for s in allowed_moves(current, proof_required)
                    if s not in RESERVED and not (s == S.UNASSIGNED and current == S.SCHEDULED)
                ],
            },
        )
    check_move(current, target, proof_required)
