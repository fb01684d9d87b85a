"""Schemathesis hooks shared by the suite's fuzz tests and a developer's `st run`:

    SCHEMATHESIS_HOOKS=tests.fuzz.hooks st run http://127.0.0.1:8000/openapi.json --checks all ...

A schema-valid request may still be refused with 422 for facts no OpenAPI document can state:
that an id names a record of the caller's company, that a cursor is one this API issued, or how two
values relate (`dateFrom` <= `dateTo`, `openingTime` < `closingTime`, both or neither). Those
refusals, and only those, are not failures of `positive_data_acceptance`; every other check and
every other 422 still is."""

from __future__ import annotations

from typing import Any

import schemathesis

# The issues (`details[].issue`) of refusals that depend on stored data or on several parameters.
UNSTATEABLE_ISSUES = (
    "does not name a record of your company",
    "does not name a mission of your company",
    "is not a cursor this API issued",
    "is not on this route",
    "dateFrom and dateTo go together",
    "must not be before dateFrom",
    "the range may span at most",
    "give either days or dateFrom/dateTo, not both",
    # One value after another (JSON Schema compares no two values).
    "must be after openingTime",
    "must be before closingTime",
    "must be after timeWindowStart",
    "must be before timeWindowEnd",
    "must be after startsAt",
    "must be before endsAt",
)


# A create's document states this one; a PATCH sends one field and the other is the stored record's.
UNSTATEABLE_ON_UPDATE = ("latitude and longitude go together",)


def unstateable_refusal(status: int, body: Any, method: str = "GET") -> bool:
    """A 422 whose every detail is one of the refusals above."""
    if status != 422 or not isinstance(body, dict):
        return False
    known = UNSTATEABLE_ISSUES + (UNSTATEABLE_ON_UPDATE if method == "PATCH" else ())
    details = body.get("error", {}).get("details")
    return (
        isinstance(details, list)
        and bool(details)
        and all(
            isinstance(d, dict) and any(str(d.get("issue", "")).startswith(i) for i in known) for d in details
        )
    )


@schemathesis.hook
def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
    if type(failure).__name__ != "RejectedPositiveData":
        return True
    try:
        body = response.json()
    except ValueError:
        return True
    return not unstateable_refusal(response.status_code, body, case.method)
