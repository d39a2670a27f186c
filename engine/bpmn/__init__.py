"""BPMN 2.0 parser, compiler and validator: uploaded XML in, immutable `Definitions` out.

    from engine.bpmn import compile_bpmn, BpmnValidationError
    definitions = compile_bpmn(xml_bytes, filename="claim.bpmn")
    graph = definitions.processes["claim"]

Modules: `elements` (the element table: every flow node's tag, kind, field readers and
behaviour; the kind sets derive from it), `parser` (safe XML + namespace helpers), `compiler`
(the walk), `nodes` (one element's fields), `events`, `usertask`, `loops`, `extensions`
(vendor extensions), `structure` (linking the graph), `validation` (the compiler's entry to
the named rules of `rules`, one function per BPMN 2.0.2 constraint; `catalog` names the
checks made while reading; docs/validation-rules.md lists them all), `diagram` (BPMNDI),
`expr` (expression compiling), `errors` (Problem, BpmnValidationError).
"""

from engine.bpmn.compiler import compile_bpmn
from engine.bpmn.errors import BpmnValidationError, Problem
from engine.bpmn.parser import parse_xml

__all__ = ["BpmnValidationError", "Problem", "compile_bpmn", "parse_xml"]
