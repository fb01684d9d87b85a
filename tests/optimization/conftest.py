from __future__ import annotations

import pytest

from app.optimization import vrp


@pytest.fixture(params=vrp.ENGINES)
def engine(request: pytest.FixtureRequest) -> vrp.Engine:
    """Every engine must honour the whole model: tests taking this fixture run once per engine."""
    return request.param  # type: ignore[no-any-return]
