"""Migration modes: read a diagram the way the engine it was written for reads it.

Why: Baton reads vendor attributes as the vendor that defined them does (`camunda:*` as
Camunda 7). SpiffWorkflow's Camunda dialect reads some of those attributes differently, and
diagrams written for SpiffWorkflow depend on that reading: it writes each multi-instance
element variable back into camunda:collection, and takes a loopCardinality that is a list
as the input collection (camunda:collection then being the output). Guessing the reading
from the diagram would change what a Camunda 7 diagram does, so a deployment asks for it
by name (`compat="spiffworkflow"`), it is stored with the definition, and the same
compilation happens whenever the definition is loaded again. The default (None) is
Camunda 7's reading.

This module is a leaf (standard library only), so the compiler, the deploy command and the
doors share one list of the modes and one message for a wrong one.
"""

from __future__ import annotations

SPIFFWORKFLOW = "spiffworkflow"
COMPAT_MODES: tuple[str, ...] = (SPIFFWORKFLOW,)


def compat_problem(compat: object) -> str | None:
    """None when `compat` is a known mode (or None, the default); else the sentence that
    refuses it, naming the allowed values."""
    if compat is None or (isinstance(compat, str) and compat in COMPAT_MODES):
        return None
    allowed = ", ".join(repr(mode) for mode in COMPAT_MODES)
    return (f"compat {compat!r:.80} is not a migration mode: use {allowed} "
            "(or leave it out for Camunda 7 semantics)")


__all__ = ["COMPAT_MODES", "SPIFFWORKFLOW", "compat_problem"]
