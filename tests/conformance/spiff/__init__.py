"""Scenarios for the `spiff/` corpus (SpiffWorkflow's test diagrams), each run on Baton and,
as a differential oracle, on SpiffWorkflow (see `drivers.py`)."""

import pytest

# plain `assert a == b` in the scenario modules should explain itself like in test files
pytest.register_assert_rewrite(*(f"{__name__}.{m}" for m in (
    "drivers", "scenarios_bpmn", "scenarios_camunda", "scenarios_test_workflows")))

from . import scenarios_bpmn, scenarios_camunda, scenarios_test_workflows  # noqa: E402,F401
