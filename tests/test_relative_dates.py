"""Tests use dates relative to the day they run (tests/fixtures/days.py), so the suite passes on any
day: a literal calendar date in a test module fails here unless it is a parse or format case."""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).parent
CALENDAR_DATE = re.compile(r"(?<!\d)\d{4}-\d{2}-\d{2}(?!\d)")

# (module, literal): cases about the literal itself, which no rule compares with "now".
ALLOWED = {
    ("conftest.py", "2030-06-15"),  # how to run the suite on another day (TEST_TODAY)
    ("core/test_clock.py", "2032-01-01"),  # the clock frozen at a fixed instant: a time-zone case
}


def literal_dates() -> list[tuple[str, int, str]]:
    found = []
    for path in sorted(TESTS.rglob("*.py")):
        module = path.relative_to(TESTS).as_posix()
        if module == "test_relative_dates.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            found += [(module, number, m) for m in CALENDAR_DATE.findall(line) if (module, m) not in ALLOWED]
    return found


def test_no_test_module_holds_a_calendar_date() -> None:
    assert literal_dates() == [], "use tests.fixtures.days (day(), at()) instead of a calendar date"


def test_the_guard_sees_a_date() -> None:
    line = 'create(date="2026-11-26", at="2026-11-26T06:00:00Z", version="12026-11-260")'
    assert CALENDAR_DATE.findall(line) == ["2026-11-26"] * 2
