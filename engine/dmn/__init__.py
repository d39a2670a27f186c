"""DMN 1.x decisions for business rule tasks: uploaded XML in, immutable `DecisionSet` out.

    from engine.dmn import compile_dmn, DmnValidationError
    decisions = compile_dmn(xml_bytes, filename="pricing.dmn")
    result = decisions["discount"].evaluate({"customer": "gold", "amount": 120})
    result.single_entry()   # or single_result(), collect_entries(), result_list()

Modules: `parser` (safe XML, telling DMN from BPMN), `compiler` (the walk, problems with
decision/rule id and line), `model` (compiled decisions), `unary` (FEEL unary tests and
SpiffWorkflow's Python cells), `evaluate` (hit policies, results, how tasks store them).
"""

from engine.dmn.compiler import compile_dmn
from engine.dmn.evaluate import (
    DecisionError,
    DecisionResult,
    map_decision_result,
    spiff_updates,
)
from engine.dmn.model import Decision, DecisionSet
from engine.dmn.parser import DmnValidationError, is_dmn

__all__ = ["Decision", "DecisionError", "DecisionResult", "DecisionSet", "DmnValidationError",
           "compile_dmn", "is_dmn", "map_decision_result", "spiff_updates"]
