"""Schemathesis against /openapi.json: every operation of every surface, with real credentials,
every check, then the stateful phase following the document's links (a created record's id into
its GET, PATCH, DELETE and actions). Derandomized, so a failure reproduces run after run."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS

from tests.fuzz import hooks  # noqa: F401 (registers the hooks)
from tests.fuzz.conftest import EXAMPLES, World

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::ResourceWarning")

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def fuzz_schema(fuzz_world: World) -> Any:
    return schemathesis.openapi.from_url(f"{fuzz_world.base_url}/openapi.json")


schema = schemathesis.pytest.from_fixture("fuzz_schema")


@schema.parametrize()
@FUZZ_SETTINGS
def test_every_operation(case: Any, fuzz_world: World) -> None:
    case.call_and_validate(headers=fuzz_world.headers(case.path), checks=CHECKS.get_all())


def test_stateful_links(fuzz_schema: Any, fuzz_world: World) -> None:
    machine = fuzz_schema.as_state_machine()
    headers = fuzz_world.headers

    class Machine(machine):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": headers(case.path)}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            case.validate_response(
                response, checks=CHECKS.get_all(), headers=headers(case.path), transport_kwargs=kwargs or None
            )

    Machine.run(settings=settings(FUZZ_SETTINGS, max_examples=max(EXAMPLES // 2, 5), stateful_step_count=6))
