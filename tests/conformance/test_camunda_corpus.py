"""Every executable `camunda/` corpus diagram replayed as the Camunda 7 engine tests did
(scenarios in `camunda_scenarios.py`, expected behaviour from `MANIFEST.tsv`)."""

from __future__ import annotations

import pytest

from . import camunda_scenarios  # noqa: F401  (registers the scenarios)
from .harness import Row, corpus_params, run_row


@pytest.mark.parametrize("row", corpus_params("camunda"))
def test_camunda_corpus(row: Row) -> None:
    run_row(row)
