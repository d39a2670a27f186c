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
