"""Every executable `spiff/` corpus diagram replayed as SpiffWorkflow's own tests did
(scenarios in `spiff/`, expected behaviour from `MANIFEST.tsv`), and the same commands
replayed on SpiffWorkflow itself as a differential oracle (`oracle.py`)."""

from __future__ import annotations

import pytest

from . import spiff  # noqa: F401  (registers the scenarios)
from .harness import Row, corpus_params, run_row


@pytest.mark.parametrize("row", corpus_params("spiff"))
def test_spiff_corpus(row: Row) -> None:
    run_row(row)


def _oracle_params() -> list[object]:
    from .spiff.drivers import REGISTERED

    return [pytest.param(spec, body, id=spec.path) for spec, body in REGISTERED
            if spec.oracle is None]


@pytest.mark.parametrize(("spec", "body"), _oracle_params())
def test_scenario_holds_on_spiffworkflow(spec: object, body: object) -> None:
    """Each scenario, run on SpiffWorkflow alone, passes: the steps and expectations written
    from SpiffWorkflow's tests hold on SpiffWorkflow itself, whatever Baton does (so a known
    diff is a difference of Baton, not a mistake of the scenario)."""
    from .spiff.drivers import SpiffDriver

    body(SpiffDriver(spec))  # type: ignore[arg-type, operator]
