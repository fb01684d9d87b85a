"""Schemathesis against /openapi.json: every operation of every surface, with real credentials,
every check, on schema-valid and schema-breaking data, then the stateful phase following the
document's links (a created record's id into its GET, PATCH, DELETE and actions). Derandomized,
so a failure reproduces run after run; FUZZ_EXAMPLES sets how many cases each operation gets."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import CHECKS
from schemathesis.generation.modes import GenerationMode

from tests.fuzz import hooks  # noqa: F401 (registers the hooks)
from tests.fuzz.conftest import EXAMPLES, World

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


def _fuzz(operation: Any, mode: GenerationMode, world: World) -> None:
    @FUZZ_SETTINGS
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        case.call_and_validate(headers=world.headers(case.path), checks=CHECKS.get_all())

    run()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation(fuzz_schema: Any, fuzz_world: World, mode: GenerationMode) -> None:
    failures: list[str] = []
    operations = [result.ok() for result in fuzz_schema.get_all_operations()]
    assert len(operations) > 70
    for operation in operations:
        try:
            _fuzz(operation, mode, fuzz_world)
        except Exception as exc:  # every operation's failures in one report
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)


def test_stateful_links(fuzz_schema: Any, fuzz_world: World) -> None:
    headers = fuzz_world.headers

    class Machine(fuzz_schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": headers(case.path)}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            case.validate_response(
                response, checks=CHECKS.get_all(), headers=headers(case.path), transport_kwargs=kwargs or None
            )

    Machine.run(settings=settings(FUZZ_SETTINGS, max_examples=max(EXAMPLES // 2, 5), stateful_step_count=6))
