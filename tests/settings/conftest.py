"""The webhook tests' loopback receiver stands in for an integrator's endpoint here too."""

from tests.webhooks.conftest import receiver  # noqa: F401 (a fixture)
